// GetOperation over gRPC against GET over REST, in one run, on one longrun server.
//
//   npm run build && node bench/grpc.js [--seconds 5] [--concurrency 32] [--connections 4]
//
// The server (the built CLI: `longrun serve --grpc-port 0`, SQLite in a temporary directory) runs
// in a child process; the load generators run here. One operation is seeded (metadata: a small
// Struct) and read over and over, `concurrency` calls in flight:
//   rest           autocannon, HTTP/1.1, `concurrency` connections, one request in flight on each
//   grpc-1conn     a minimal gRPC client on node:http2 (as light as autocannon), one connection
//   grpc-Nconn     the same over `connections` connections
//   grpc-js-1conn  @grpc/grpc-js, one connection: what a Node client sees; the client's own CPU
//                  (more than the server's per call) limits this run on a small machine
//   connect-1conn  as grpc-1conn, against a second server whose gRPC calls all go through
//                  Connect-ES (the fast path off; packages/server/src/grpc/grpc-fast-path.ts)
// No client parses the answer (autocannon does not parse JSON either); the gRPC clients check the
// status. Reported per run: calls per second, latency, and the server's CPU time per call (from
// /proc), then the ratios to REST. Absolute figures on a shared machine are noise; the ratios,
// and the server CPU per call above all, are the result.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import autocannon from 'autocannon';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO, 'packages', 'cli', 'bin', 'longrun.js');
const USER_HZ = 100;

const { values: args } = parseArgs({
  allowPositionals: true,
  options: {
    child: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '32' },
    connections: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
  },
});
const SECONDS = Number(args.seconds);
const CONCURRENCY = Number(args.concurrency);
const CONNECTIONS = Number(args.connections);
const WARMUP = Number(args.warmup);

const NAME = 'operations/bench';
// GetOperationRequest{name}: field 1, length-delimited (the name is shorter than 128 bytes).
const GET_REQUEST = Buffer.concat([Buffer.from([0x0a, NAME.length]), Buffer.from(NAME)]);
const GET_PATH = '/google.longrunning.Operations/GetOperation';

/** `--child connect`: longrun with its gRPC transport on Connect-ES alone (built code, as the CLI runs it). */
async function connectOnlyChild(store) {
  const dist = join(REPO, 'packages', 'server', 'dist');
  const { startServer } = await import(join(dist, 'server.js'));
  const { startGrpcServer } = await import(join(dist, 'grpc', 'grpc-server.js'));
  const { TypeRegistry } = await import(join(dist, 'grpc', 'type-registry.js'));
  const server = await startServer({ host: '127.0.0.1', port: 0, store, logLevel: 'warn' });
  const grpcServer = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    service: server.service,
    types: new TypeRegistry(),
    metrics: server.metrics,
    fastPath: false,
  });
  process.stdout.write(`longrun listening on ${server.url}\nlongrun gRPC listening on ${grpcServer.url}\n`);
  process.once('SIGTERM', () => {
    server.service.close();
    Promise.all([grpcServer.close(), server.close()]).then(() => process.exit(0));
  });
}

if (args.child === 'connect') {
  await connectOnlyChild(process.argv.at(-1));
} else {
  await main();
}

function startServer(store, connectOnly = false) {
  const child = spawn(
    process.execPath,
    connectOnly
      ? [fileURLToPath(import.meta.url), '--child', 'connect', store]
      : [CLI, 'serve', '--port', '0', '--grpc-port', '0', '--store', store, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`longrun did not start:\n${out}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`longrun exited (${code}):\n${out}`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      out += text;
      const rest = /longrun listening on (http:\/\/\S+)/.exec(out);
      const grpcUrl = /gRPC listening on (http:\/\/\S+)/.exec(out);
      if (!rest || !grpcUrl) return;
      clearTimeout(timer);
      child.stdout.resume();
      resolve({ child, restUrl: rest[1], grpcTarget: new URL(grpcUrl[1]).host });
    });
  });
}

/** CPU seconds the process has used (user + system), from /proc. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function restLoad(url, seconds) {
  const latencies = [];
  const started = performance.now();
  const result = await autocannon({
    url: `${url}/v1/${NAME}`,
    connections: CONCURRENCY,
    duration: seconds,
    sampleInt: 100,
    setupClient(client) {
      let sent = 0;
      client.on('request', () => {
        sent = performance.now();
      });
      client.on('response', () => latencies.push(performance.now() - sent));
    },
  });
  const elapsed = (performance.now() - started) / 1000;
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`REST: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { calls: result.requests.total, seconds: elapsed, latencies };
}

/**
 * `concurrency` calls in flight over `connections` HTTP/2 connections for `seconds`, with the
 * least a gRPC client does: one request frame out, the answer and the grpc-status trailer in.
 */
async function h2Load(target, connections, seconds) {
  const sessions = await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise((resolve, reject) => {
          const session = http2Connect(`http://${target}`);
          session.once('connect', () => resolve(session));
          session.once('error', reject);
        }),
    ),
  );
  // GetOperationRequest as one length-prefixed message.
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, GET_REQUEST.length]), GET_REQUEST]);
  const headers = { ':method': 'POST', ':path': GET_PATH, 'content-type': 'application/grpc+proto', te: 'trailers' };
  const call = (session) =>
    new Promise((resolve, reject) => {
      const stream = session.request(headers);
      let status;
      stream.on('response', (h) => {
        if (h['grpc-status'] !== undefined) status = h['grpc-status'];
      });
      stream.on('trailers', (t) => {
        status = t['grpc-status'];
      });
      stream.on('data', () => {});
      stream.on('end', () => (status === '0' ? resolve() : reject(new Error(`grpc-status ${status}`))));
      stream.on('error', reject);
      stream.end(frame);
    });
  const latencies = [];
  let calls = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      const session = sessions[i % connections];
      while (performance.now() < end) {
        const sent = performance.now();
        await call(session);
        latencies.push(performance.now() - sent);
        calls++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  for (const session of sessions) session.close();
  return { calls, seconds: elapsed, latencies };
}

/** The same load through @grpc/grpc-js clients (a local subchannel pool each: one connection each). */
async function grpcJsLoad(target, connections, seconds) {
  const clients = Array.from(
    { length: connections },
    // A local subchannel pool gives each client its own connection (grpc-js shares them otherwise).
    () => new grpc.Client(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
  await Promise.all(
    clients.map(
      (client) =>
        new Promise((resolve, reject) =>
          client.waitForReady(Date.now() + 5000, (error) => (error ? reject(error) : resolve())),
        ),
    ),
  );
  const identity = (bytes) => bytes;
  const latencies = [];
  let calls = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  const worker = async (client) => {
    while (performance.now() < end) {
      const sent = performance.now();
      await new Promise((resolve, reject) =>
        client.makeUnaryRequest(GET_PATH, identity, identity, GET_REQUEST, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
      latencies.push(performance.now() - sent);
      calls++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(clients[i % connections])));
  const elapsed = (performance.now() - started) / 1000;
  for (const client of clients) client.close();
  return { calls, seconds: elapsed, latencies };
}

async function measure(name, pid, run) {
  await run(WARMUP);
  const cpuBefore = cpuSeconds(pid);
  const result = await run(SECONDS);
  const cpu = cpuSeconds(pid) - cpuBefore;
  result.latencies.sort((a, b) => a - b);
  return {
    name,
    rps: result.calls / result.seconds,
    p50Ms: percentile(result.latencies, 50),
    p99Ms: percentile(result.latencies, 99),
    serverCpuUsPerCall: (cpu / result.calls) * 1e6,
  };
}

async function seed(restUrl) {
  const seeded = await fetch(`${restUrl}/v1/operations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      operationId: 'bench',
      operation: {
        metadata: {
          '@type': 'type.googleapis.com/google.protobuf.Struct',
          value: { step: 'copying', percent: 42, table: 'events', rows: 120000 },
        },
      },
    }),
  });
  if (seeded.status !== 200) throw new Error(`seeding failed: ${seeded.status} ${await seeded.text()}`);
}

async function stop(server) {
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-bench-grpc-'));
  const results = [];
  const server = await startServer(join(dir, 'bench.db'));
  try {
    await seed(server.restUrl);
    const pid = server.child.pid;
    results.push(await measure('rest', pid, (s) => restLoad(server.restUrl, s)));
    results.push(await measure('grpc-1conn', pid, (s) => h2Load(server.grpcTarget, 1, s)));
    results.push(await measure(`grpc-${CONNECTIONS}conn`, pid, (s) => h2Load(server.grpcTarget, CONNECTIONS, s)));
    results.push(await measure('grpc-js-1conn', pid, (s) => grpcJsLoad(server.grpcTarget, 1, s)));
  } finally {
    await stop(server);
  }
  const connectOnly = await startServer(join(dir, 'connect.db'), true);
  try {
    await seed(connectOnly.restUrl);
    const pid = connectOnly.child.pid;
    results.push(await measure('connect-1conn', pid, (s) => h2Load(connectOnly.grpcTarget, 1, s)));
  } finally {
    await stop(connectOnly);
    rmSync(dir, { recursive: true, force: true });
  }
  const rest = results[0];
  console.log(
    `GetOperation, ${CONCURRENCY} calls in flight, ${SECONDS} s per run, node ${process.version}, ` +
      `${(await import('node:os')).cpus().length} CPUs\n`,
  );
  console.log('run            calls/s   p50 ms   p99 ms   server CPU µs/call   rps vs REST   CPU vs REST');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(14)} ${r.rps.toFixed(0).padStart(7)}   ${r.p50Ms.toFixed(2).padStart(6)}   ${r.p99Ms.toFixed(2).padStart(6)}` +
        `   ${r.serverCpuUsPerCall.toFixed(1).padStart(18)}   ${(r.rps / rest.rps).toFixed(2).padStart(11)}` +
        `   ${(r.serverCpuUsPerCall / rest.serverCpuUsPerCall).toFixed(2).padStart(11)}`,
    );
  }
  console.log(`\n${JSON.stringify({ concurrency: CONCURRENCY, connections: CONNECTIONS, seconds: SECONDS, results })}`);
}
