#!/usr/bin/env node
// The whole life of one unit of work, against BullMQ on the machine's Redis (issue 10):
//
//   longrun  POST create → PATCH metadata (progress 50) → PATCH done with a response → GET (done)
//   BullMQ   queue.add → a Worker picks it up, job.updateProgress(50), returns a value (the job
//            completes) → the producer, told by the Worker, reads it back (Job.fromId, getState)
//
// `--concurrency` cycles in flight, each cycle's steps in sequence; cycles a second and the
// latency of a whole cycle. longrun runs as `longrun serve` (SQLite in a temporary directory) in
// a child process; the client (producer and "worker": HTTP calls) runs here. BullMQ's producer
// and Worker both run here too, against Redis (its server the separate process). Rounds alternate
// which goes first; the ratio is BullMQ's cycle time over longrun's (> 1: longrun is faster).
//
//   node bench/cycle.js [--duration 5] [--rounds 2] [--concurrency 16] [--redis redis://127.0.0.1:6379] [--json file]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { COLLECTION_PATH, createBody, operationPath } from './lib/scenarios.js';
import { longrun } from './lib/targets.js';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (flags.help) {
  process.stdout.write(
    'Usage: node bench/cycle.js [--duration 5] [--warmup 1] [--rounds 2] [--concurrency 16] [--redis url] [--json file]\n',
  );
  process.exit(0);
}
const DURATION = Number(flags.duration) * 1000;
const WARMUP = Number(flags.warmup) * 1000;
const ROUNDS = Math.max(1, Math.round(Number(flags.rounds)));
const CONCURRENCY = Math.max(1, Math.round(Number(flags.concurrency)));
const redisUrl = new URL(flags.redis);
if (!['127.0.0.1', 'localhost'].includes(redisUrl.hostname)) throw new Error('--redis must be on 127.0.0.1');
const log = (line) => process.stderr.write(`cycle: ${line}\n`);
const now = () => performance.now();
const r3 = (n) => Math.round(n * 1000) / 1000;
function percentile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function cpuOfPid(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Runs `cycle(n)` with CONCURRENCY in flight for `ms`; returns latencies (ms) and the count. */
async function drive(ms, cycle, counter) {
  const latencies = [];
  let failed = 0;
  const end = now() + ms;
  const started = now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (now() < end) {
        const t0 = now();
        try {
          await cycle(counter.n++);
          latencies.push(now() - t0);
        } catch (error) {
          failed++;
          if (failed === 1) log(`a cycle failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }),
  );
  const seconds = (now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    cycles: latencies.length,
    failed,
    seconds,
    cps: latencies.length / seconds,
    p50Ms: r3(percentile(latencies, 0.5)),
    p99Ms: r3(percentile(latencies, 0.99)),
  };
}

// --- longrun -------------------------------------------------------------------------------------
const PROGRESS_BODY = JSON.stringify({
  operation: { metadata: { '@type': 'type.googleapis.com/bench.Meta', progress: 50 } },
  updateMask: 'metadata',
});
const DONE_BODY = JSON.stringify({
  operation: { done: true, response: { '@type': 'type.googleapis.com/bench.Result', ok: true } },
  updateMask: 'done,response',
});

function call(agent, url, method, path, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}${path}`,
      {
        method,
        agent,
        headers:
          body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (c) => {
          text += c;
        });
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(text)
            : reject(new Error(`${method} ${path}: ${response.statusCode} ${text.slice(0, 200)}`)),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function longrunRound(round) {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-bench-cycle-'));
  const server = await longrun.start({ store: join(dir, 'bench.db') });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const cycle = async (n) => {
      const id = `y${round}-${String(n).padStart(9, '0')}`;
      await call(agent, server.url, 'POST', COLLECTION_PATH, createBody(id));
      await call(agent, server.url, 'PATCH', operationPath(id), PROGRESS_BODY);
      await call(agent, server.url, 'PATCH', operationPath(id), DONE_BODY);
      const text = await call(agent, server.url, 'GET', operationPath(id));
      if (!text.includes('"done":true')) throw new Error(`read ${id} not done: ${text}`);
    };
    const counter = { n: 0 };
    await drive(WARMUP, cycle, counter);
    const cpu0 = server.usage()?.cpuSeconds;
    const gen0 = process.cpuUsage();
    const result = await drive(DURATION, cycle, counter);
    const gen = process.cpuUsage(gen0);
    const cpu1 = server.usage()?.cpuSeconds;
    return {
      target: 'longrun',
      round,
      ...result,
      serverCpuUsPerCycle: ((cpu1 - cpu0) * 1e6) / result.cycles,
      clientCpuUsPerCycle: (gen.user + gen.system) / result.cycles,
      peakRssMiB: (server.peakRssBytes() ?? 0) / 2 ** 20,
    };
  } finally {
    agent.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- BullMQ --------------------------------------------------------------------------------------
const { Queue, Worker, Job } = await import('bullmq');
const connection = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379), maxRetriesPerRequest: null };

async function redisPid() {
  try {
    return Number(execFileSync('pgrep', ['-x', 'redis-server']).toString().trim().split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
}
function redisRssMiB(pid) {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function bullmqRound(round) {
  const name = `longrun-bench-cycle-${process.pid}-${round}`;
  const queue = new Queue(name, { connection });
  const waiting = new Map();
  const worker = new Worker(
    name,
    async (job) => {
      await job.updateProgress(50);
      return { '@type': 'type.googleapis.com/bench.Result', ok: true };
    },
    { connection, concurrency: CONCURRENCY, autorun: true },
  );
  worker.on('completed', (job) => {
    const done = waiting.get(job.id);
    if (done) {
      waiting.delete(job.id);
      done();
    }
  });
  worker.on('failed', (job, error) => log(`job ${job?.id} failed: ${error.message}`));
  await worker.waitUntilReady();
  const pid = await redisPid();
  try {
    const cycle = async (n) => {
      const jobId = `y${round}-${String(n).padStart(9, '0')}`;
      const completed = new Promise((resolve) => waiting.set(jobId, resolve));
      await queue.add('op', { '@type': 'type.googleapis.com/bench.Meta', progress: 0 }, { jobId });
      await completed;
      const job = await Job.fromId(queue, jobId);
      const state = await job.getState();
      if (state !== 'completed' || job.progress !== 50) throw new Error(`job ${jobId}: ${state}, ${job.progress}`);
    };
    const counter = { n: 0 };
    await drive(WARMUP, cycle, counter);
    const cpu0 = pid && cpuOfPid(pid);
    const gen0 = process.cpuUsage();
    const result = await drive(DURATION, cycle, counter);
    const gen = process.cpuUsage(gen0);
    const cpu1 = pid && cpuOfPid(pid);
    return {
      target: 'bullmq',
      round,
      ...result,
      serverCpuUsPerCycle: pid ? ((cpu1 - cpu0) * 1e6) / result.cycles : undefined,
      clientCpuUsPerCycle: (gen.user + gen.system) / result.cycles,
      peakRssMiB: pid ? redisRssMiB(pid) : undefined,
    };
  } finally {
    await worker.close(true);
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}

const runs = [];
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 ? [longrunRound, bullmqRound] : [bullmqRound, longrunRound];
  for (const run of order) {
    const r = await run(round);
    runs.push(r);
    log(
      `round ${round} ${r.target}: ${r.cps.toFixed(0)} cycles/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, server CPU ${r.serverCpuUsPerCycle?.toFixed(0)} µs/cycle, client ${r.clientCpuUsPerCycle.toFixed(0)} µs/cycle${r.failed ? `, ${r.failed} failed` : ''}`,
    );
  }
}
function summary(target) {
  const mine = runs.filter((r) => r.target === target);
  return {
    target,
    cps: median(mine.map((r) => r.cps)),
    p50Ms: median(mine.map((r) => r.p50Ms)),
    p99Ms: median(mine.map((r) => r.p99Ms)),
    serverCpuUsPerCycle:
      mine[0].serverCpuUsPerCycle === undefined ? undefined : median(mine.map((r) => r.serverCpuUsPerCycle)),
    clientCpuUsPerCycle: median(mine.map((r) => r.clientCpuUsPerCycle)),
    peakRssMiB: Math.max(...mine.map((r) => r.peakRssMiB ?? 0)),
    failed: mine.reduce((n, r) => n + r.failed, 0),
  };
}
const lr = summary('longrun');
const bq = summary('bullmq');
const ratios = runs
  .filter((r) => r.target === 'longrun')
  .map((r) => r.cps / runs.find((b) => b.target === 'bullmq' && b.round === r.round).cps);
const out = {
  concurrency: CONCURRENCY,
  duration: DURATION / 1000,
  rounds: ROUNDS,
  summary: [lr, bq],
  ratios,
  ratio: median(ratios),
  runs,
};
if (flags.json) writeFileSync(flags.json, `${JSON.stringify(out, null, 2)}\n`);
else process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
process.exit(0);
