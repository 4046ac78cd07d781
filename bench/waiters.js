#!/usr/bin/env node
// Wait wake-up with many concurrent waiters (issue 10): N `POST /v1/{name}:wait` requests held
// open at once (one socket each, as HTTP/1.1 clients hold them), then the operations patched done;
// for each wait, the time from the PATCH's acknowledgement (its 200 arriving here) to the wait's
// answer arriving here. Also the server's resident memory before and after the waits are opened
// (the cost of holding them). Two modes:
//
//   many  N operations, one waiter each; patched done at --rate a second (open loop)
//   one   one operation, N waiters on it; one PATCH wakes them all
//
// against longrun (SQLite, `longrun serve`) and, in the same run, the baseline: a bare node:http
// server that parks each :wait in a Map and answers it on PATCH (bench/servers/wait-baseline.js).
//
//   node bench/waiters.js [--waiters 10000] [--modes many,one] [--rate 1000] [--json file]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { runLoad } from './lib/load.js';
import { COLLECTION_PATH, createBody, operationPath, PATCH_BODY } from './lib/scenarios.js';
import { longrun, waitBaseline } from './lib/targets.js';

const { values: flags } = parseArgs({
  options: {
    waiters: { type: 'string', default: '10000' },
    modes: { type: 'string', default: 'many,one' },
    rate: { type: 'string', default: '1000' },
    targets: { type: 'string', default: 'longrun,node:http' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (flags.help) {
  process.stdout.write(
    'Usage: node bench/waiters.js [--waiters 10000] [--modes many,one] [--rate 1000] [--targets longrun,node:http] [--json file]\n',
  );
  process.exit(0);
}
const N = Math.round(Number(flags.waiters));
const RATE = Number(flags.rate);
const MODES = flags.modes.split(',').filter(Boolean);
const TARGET_NAMES = flags.targets.split(',').filter(Boolean);
const WAIT_BODY = '{"timeout":"240s"}';
const now = () => performance.now();
const log = (line) => process.stderr.write(`waiters: ${line}\n`);

function percentile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
const r3 = (n) => Math.round(n * 1000) / 1000;

/** One request on its own socket; resolves with { status, text, at } when the answer has arrived. */
function send(url, method, path, body, agent) {
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
        response.on('end', () => resolve({ status: response.statusCode, text, at: now() }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function createOps(server, prefix, count) {
  let i = 0;
  const done = await runLoad(
    server.url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest(req) {
        req.path = COLLECTION_PATH;
        req.body = createBody(`${prefix}${String(i++).padStart(9, '0')}`);
        return req;
      },
    },
    { connections: Math.min(20, count), amount: count, recordLatency: false },
  );
  if (done.ok !== count) throw new Error(`created ${done.ok} of ${count} operations`);
}

async function runMode(target, mode, extra) {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-bench-waiters-'));
  const server = await target.start({ store: join(dir, 'bench.db'), ...extra });
  const prefix = mode === 'many' ? 'w-' : 'o-';
  const count = mode === 'many' ? N : 1;
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(9, '0')}`);
  const waitAgent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const patchAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  try {
    await createOps(server, prefix, count);
    // A few probes so the JIT has seen a wait and a patch.
    const warm = `${prefix}warm0000`;
    await send(server.url, 'POST', COLLECTION_PATH, createBody(warm));
    const probe = send(server.url, 'POST', `${operationPath(warm)}:wait`, WAIT_BODY, waitAgent);
    await sleep(50);
    await send(server.url, 'PATCH', operationPath(warm), PATCH_BODY, patchAgent);
    const probeAnswer = await probe;
    if (probeAnswer.status !== 200) throw new Error(`probe wait answered ${probeAnswer.status}: ${probeAnswer.text}`);
    await sleep(1000);
    const rssBefore = server.rssBytes();

    // Open the waits, in batches so the listen backlog never overflows.
    const answers = new Array(N);
    const pending = [];
    const openedAt = now();
    for (let i = 0; i < N; i += 250) {
      const batch = [];
      for (let k = i; k < Math.min(N, i + 250); k++) {
        const id = ids[mode === 'many' ? k : 0];
        const p = send(server.url, 'POST', `${operationPath(id)}:wait`, WAIT_BODY, waitAgent).then(
          (a) => {
            answers[k] = a;
          },
          (error) => {
            answers[k] = { status: 0, text: String(error), at: now() };
          },
        );
        pending.push(p);
        batch.push(p);
      }
      // Let the server accept this batch before the next (no waiting for answers: they come later).
      await sleep(20);
    }
    const openSeconds = (now() - openedAt) / 1000;
    await sleep(Math.max(2000, N / 5)); // every wait registered, the heap settled
    const early = answers.filter(Boolean).length;
    if (early > 0)
      log(
        `${early} waits answered before any PATCH: ${answers.find(Boolean).status} ${answers.find(Boolean).text.slice(0, 200)}`,
      );
    const rssAfter = server.rssBytes();
    const peakBeforePatch = server.peakRssBytes();

    // Complete: paced PATCHes (many) or one PATCH (one); record each acknowledgement.
    const acks = new Map();
    const patchStart = now();
    if (mode === 'one') {
      const sent = now();
      const a = await send(server.url, 'PATCH', operationPath(ids[0]), PATCH_BODY, patchAgent);
      if (a.status !== 200) throw new Error(`PATCH answered ${a.status}`);
      acks.set(ids[0], { sent, at: a.at });
    } else {
      const patches = ids.map(async (id, i) => {
        await sleep(Math.max(0, patchStart + (i * 1000) / RATE - now()));
        const sent = now();
        const a = await send(server.url, 'PATCH', operationPath(id), PATCH_BODY, patchAgent);
        if (a.status !== 200) throw new Error(`PATCH ${id} answered ${a.status}`);
        acks.set(id, { sent, at: a.at });
      });
      await Promise.all(patches);
    }
    const allAnswered = Promise.all(pending);
    const timedOut = await Promise.race([allAnswered.then(() => false), sleep(60_000).then(() => true)]);
    const patchSeconds = (now() - patchStart) / 1000;
    const fromAck = [];
    const fromSent = [];
    let bad = 0;
    for (let k = 0; k < N; k++) {
      const a = answers[k];
      const ack = acks.get(ids[mode === 'many' ? k : 0]);
      if (a?.status !== 200 || !a.text.includes('"done":true')) {
        bad++;
        continue;
      }
      fromAck.push(a.at - ack.at);
      fromSent.push(a.at - ack.sent);
    }
    fromAck.sort((x, y) => x - y);
    fromSent.sort((x, y) => x - y);
    const ackLatencies = [...acks.values()].map((a) => a.at - a.sent).sort((x, y) => x - y);
    const sample = answers.find(Boolean)?.text;
    return {
      mode,
      target: target.name,
      waiters: N,
      operations: count,
      rate: mode === 'many' ? RATE : undefined,
      openSeconds: r3(openSeconds),
      earlyAnswers: early,
      bad,
      timedOut,
      p50Ms: r3(percentile(fromAck, 0.5)),
      p99Ms: r3(percentile(fromAck, 0.99)),
      maxMs: r3(fromAck.at(-1) ?? Number.NaN),
      minMs: r3(fromAck[0] ?? Number.NaN),
      fromSentP50Ms: r3(percentile(fromSent, 0.5)),
      fromSentP99Ms: r3(percentile(fromSent, 0.99)),
      patchP50Ms: r3(percentile(ackLatencies, 0.5)),
      patchP99Ms: r3(percentile(ackLatencies, 0.99)),
      patchSeconds: r3(patchSeconds),
      rssBeforeMiB: rssBefore / 2 ** 20,
      rssAfterMiB: rssAfter / 2 ** 20,
      costMiB: (rssAfter - rssBefore) / 2 ** 20,
      costKiBPerWaiter: (rssAfter - rssBefore) / 1024 / N,
      peakRssMiB: Math.max(peakBeforePatch, server.peakRssBytes() ?? 0) / 2 ** 20,
      answerBytes: sample ? Buffer.byteLength(sample) : undefined,
      sample,
    };
  } finally {
    waitAgent.destroy();
    patchAgent.destroy();
    const stopped = await server.stop();
    if (stopped.code !== 0 && stopped.stderr.trim()) log(`${target.name} stderr: ${stopped.stderr.slice(0, 300)}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

process.env.LONGRUN_MAX_WAITERS_PER_PRINCIPAL = String(N * 2 + 100);
process.env.LONGRUN_WAIT_MAX = '300s';
const results = [];
let waitBody;
for (const mode of MODES) {
  for (const name of TARGET_NAMES) {
    const target = name === 'longrun' ? longrun : waitBaseline;
    log(`${mode}: ${N} waiters on ${target.name}…`);
    const result = await runMode(target, mode, { waitBody });
    if (target === longrun && result.sample) waitBody = result.sample;
    delete result.sample;
    results.push(result);
    log(
      `  p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms from the PATCH's ack; RSS ${result.rssBeforeMiB.toFixed(0)} → ${result.rssAfterMiB.toFixed(0)} MiB (${result.costMiB.toFixed(1)} MiB)${result.bad ? `; ${result.bad} bad` : ''}${result.earlyAnswers ? `; ${result.earlyAnswers} answered early` : ''}`,
    );
  }
}
const out = { waiters: N, rate: RATE, results };
if (flags.json) writeFileSync(flags.json, `${JSON.stringify(out, null, 2)}\n`);
else process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
