#!/usr/bin/env node
// Watch latency: from a provider's PATCH to the event arriving at each of N watchers (SSE over
// real sockets, one connection each). longrun runs as `longrun serve` in a child process (the
// longrun target of bench/lib/targets.js, SQLite in a temporary directory); the provider runs on
// this thread, the watchers on worker threads of this process (--threads). Each patch carries a sequence number in its metadata; a watcher's latency for
// it is the time from just before the PATCH is sent to the moment the watcher has parsed the event.
// Patches are sent open-loop at a fixed rate. Two modes: every watcher on the one operation
// (`GET …/operations/x:watch`), or every watcher on the collection with a filter
// (`GET …/operations:watch?filter=…`). Run `node bench/watch.js --help` for the flags.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { longrun, REPO } from './lib/targets.js';

const HELP = `Usage: node bench/watch.js [options]     (after tsc -b)

  --watchers <n>   concurrent watch streams (default 1000)
  --rate <n>       patches per second (default 10)
  --duration <s>   measured seconds per mode (default 10)
  --warmup <s>     seconds of patches before measuring (default 2)
  --threads <n>    threads the watchers are spread over (default 1; the server is a child process)
  --modes <list>   comma-separated: op (all watch one operation), parent (all watch the collection,
                   with a filter) (default op,parent)
  --keep           keep the temporary SQLite store
  -h, --help       this text
`;

const { values: flags } = parseArgs({
  options: {
    watchers: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'op,parent' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const WATCHERS = Number(flags.watchers);
const RATE = Number(flags.rate);
const DURATION_S = Number(flags.duration);
const WARMUP_S = Number(flags.warmup);
const THREADS = Math.max(1, Number(flags.threads));
const MODES = flags.modes.split(',').filter((mode) => mode !== '');
const TYPE = 'type.googleapis.com/bench.Progress';

/** Now, in milliseconds, on a clock every thread of this process shares. */
const now = () => performance.timeOrigin + performance.now();

/** Opens one SSE stream on its own socket; calls onEvent(type, data) for each event. */
function openWatch(url, onEvent) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`watch answered ${response.statusCode}`));
        response.resume();
        return;
      }
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (chunk) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(frame)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (data !== undefined) onEvent(type, data);
          end = buffer.indexOf('\n\n');
        }
      });
      resolve(request);
    });
    request.on('error', reject);
  });
}

async function call(base, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text;
}

function percentile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const round = (ms) => Math.round(ms * 100) / 100;

function startWatchers(url, count) {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { url, count }, argv: [] });
  const opened = new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message) => {
      if (message.type === 'open') resolve();
    });
  });
  return {
    opened,
    stop() {
      return new Promise((resolve, reject) => {
        worker.once('error', reject);
        worker.on('message', (message) => {
          if (message.type === 'records') resolve(message);
        });
        worker.postMessage({ type: 'stop' });
      });
    },
  };
}

async function runMode(target, mode) {
  const parent = `projects/bench-${mode}-${Date.now()}`;
  const id = 'hot';
  await call(target.url, 'POST', `/v1/${parent}/operations`, {
    operationId: id,
    operation: { metadata: { '@type': TYPE, seq: -1 } },
  });
  const url =
    mode === 'op'
      ? `${target.url}/v1/${parent}/operations/${id}:watch`
      : `${target.url}/v1/${parent}/operations:watch?filter=${encodeURIComponent('metadata.seq >= 0')}`;

  const openStarted = performance.now();
  const groups = [];
  for (let i = 0; i < THREADS; i++) {
    const count = Math.floor(WATCHERS / THREADS) + (i < WATCHERS % THREADS ? 1 : 0);
    groups.push(startWatchers(url, count));
  }
  await Promise.all(groups.map((group) => group.opened));
  const openMs = performance.now() - openStarted;

  // The provider: PATCHes at a fixed rate, open loop, each with the next sequence number.
  const sentAt = new Float64Array(Math.round((WARMUP_S + DURATION_S) * RATE));
  const patchLatencies = [];
  const interval = 1000 / RATE;
  const total = sentAt.length;
  const warmupPatches = Math.round(WARMUP_S * RATE);
  const inFlight = [];
  const start = performance.now();
  for (let seq = 0; seq < total; seq++) {
    const wait = start + seq * interval - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sent = now();
    sentAt[seq] = sent;
    inFlight.push(
      call(target.url, 'PATCH', `/v1/${parent}/operations/${id}`, {
        operation: { metadata: { '@type': TYPE, seq } },
        updateMask: 'metadata',
      }).then(() => {
        if (seq >= warmupPatches) patchLatencies.push(now() - sent);
      }),
    );
  }
  await Promise.all(inFlight);
  await new Promise((resolve) => setTimeout(resolve, 2000)); // The last events arrive.
  const records = await Promise.all(groups.map((group) => group.stop()));

  const latencies = [];
  for (const { seq, time } of records) {
    for (let i = 0; i < seq.length; i++) if (seq[i] >= warmupPatches) latencies.push(time[i] - sentAt[seq[i]]);
  }
  const sorted = Float64Array.from(latencies).sort();
  const patchSorted = Float64Array.from(patchLatencies).sort();
  return {
    mode,
    watchers: WATCHERS,
    patches: total - warmupPatches,
    ratePerSecond: RATE,
    expectedEvents: (total - warmupPatches) * WATCHERS,
    receivedEvents: latencies.length,
    openAllMs: round(openMs),
    p50Ms: round(percentile(sorted, 0.5)),
    p90Ms: round(percentile(sorted, 0.9)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN),
    patchP50Ms: round(percentile(patchSorted, 0.5)),
    patchP99Ms: round(percentile(patchSorted, 0.99)),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-bench-watch-'));
  // One machine, one client address: let it hold every stream.
  process.env.LONGRUN_WATCH_MAX_STREAMS_PER_CLIENT = String(Math.max(WATCHERS, 1000) * 2);
  const target = await longrun.start({ store: join(dir, 'bench.db') });
  const results = [];
  try {
    for (const mode of MODES) {
      process.stderr.write(`watch bench: ${mode}, ${WATCHERS} watchers, ${RATE} patches/s for ${DURATION_S}s…\n`);
      const cpuBefore = target.usage()?.cpuSeconds;
      const result = await runMode(target, mode);
      const cpuAfter = target.usage()?.cpuSeconds;
      if (cpuBefore !== undefined && cpuAfter !== undefined) result.serverCpuSeconds = round(cpuAfter - cpuBefore);
      results.push(result);
    }
    {
      const peak = target.peakRssBytes();
      const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}`;
      const lines = [
        `watch latency (PATCH sent → event parsed at the watcher), ${machine}`,
        '',
        '| mode | watchers | patches | events received | p50 ms | p90 ms | p99 ms | max ms | PATCH p50/p99 ms | server CPU s |',
        '|---|---|---|---|---|---|---|---|---|---|',
        ...results.map(
          (r) =>
            `| ${r.mode} | ${r.watchers} | ${r.patches} | ${r.receivedEvents}/${r.expectedEvents} | ${r.p50Ms} | ${r.p90Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.patchP50Ms}/${r.patchP99Ms} | ${r.serverCpuSeconds ?? '?'} |`,
        ),
        '',
        `server peak RSS: ${peak === undefined ? '?' : `${Math.round(peak / 1024 / 1024)} MiB`}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      const out = join(REPO, 'bench', 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}-watch`);
      mkdirSync(out, { recursive: true });
      writeFileSync(
        join(out, 'results.json'),
        `${JSON.stringify({ machine, flags, results, peakRssBytes: peak }, null, 2)}\n`,
      );
      writeFileSync(join(out, 'results.md'), `${lines.join('\n')}\n`);
      process.stderr.write(`written to ${relative(REPO, out)}/\n`);
    }
  } finally {
    await target.stop();
    if (!flags.keep) rmSync(dir, { recursive: true, force: true });
  }
}

// A watcher thread: opens its share of the streams, records when each progress event arrives
// (sequence number, time), and hands the records over when told to stop.
if (!isMainThread) {
  const { url, count } = workerData;
  const seqs = [];
  const times = [];
  const onEvent = (type, data) => {
    if (type !== 'progress') return;
    const match = /"seq":(\d+)/.exec(data);
    if (!match) return;
    times.push(now());
    seqs.push(Number(match[1]));
  };
  const requests = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Math.min(50, count - i);
    requests.push(...(await Promise.all(Array.from({ length: batch }, () => openWatch(url, onEvent)))));
  }
  parentPort.postMessage({ type: 'open' });
  parentPort.on('message', (message) => {
    if (message.type !== 'stop') return;
    for (const request of requests) request.destroy();
    const seq = Float64Array.from(seqs);
    const time = Float64Array.from(times);
    parentPort.postMessage({ type: 'records', seq, time }, [seq.buffer, time.buffer]);
    parentPort.close();
  });
} else {
  await main();
}
