#!/usr/bin/env node
// List a filtered page at several store sizes (issue 10), against the storage limit:
//
//   longrun  GET /v1/projects/bench/operations?pageSize=50&filter=<FILTER>  (`longrun serve`)
//   raw      the same SQL statement the store runs for that request (built with the server's own
//            filter compiler), `.all()` on better-sqlite3 in this process, on the same file
//
// The store is seeded straight through the server's SqliteStore (group-committed creates), not
// over HTTP, so 1M operations take seconds. Half the operations are done; metadata.progress runs
// 0-99, so the filter matches 5 % of them, spread evenly: a page needs ~1,000 rows scanned.
// Also the raw better-sqlite3 insert and get statement rates on the server's schema (the storage
// limit for create and get).
//
//   node bench/list.js [--sizes 10000,100000] [--million] [--duration 3] [--connections 10] [--json file]
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { filterToSql, parseFilter, sqliteDialect } from '../packages/server/dist/filter/index.js';
import { SQLITE_MIGRATIONS } from '../packages/server/dist/store/sqlite/migrations.js';
import { SqliteStore } from '../packages/server/dist/store/sqlite/sqlite-store.js';
import { runLoad } from './lib/load.js';
import { COLLECTION_PATH } from './lib/scenarios.js';
import { longrun } from './lib/targets.js';

const { values: flags } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    million: { type: 'boolean', default: false },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '10' },
    'skip-limits': { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (flags.help) {
  process.stdout.write(
    'Usage: node bench/list.js [--sizes 10000,100000] [--million] [--duration 3] [--warmup 1] [--connections 10] [--skip-limits] [--json file]\n',
  );
  process.exit(0);
}
const SIZES = flags.sizes
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
if (flags.million && !SIZES.includes(1_000_000)) SIZES.push(1_000_000);
const DURATION = Number(flags.duration);
const WARMUP = Number(flags.warmup);
const CONNECTIONS = Math.round(Number(flags.connections));
const PARENT = 'projects/bench';
const FILTER = 'done = false AND metadata.progress >= 90';
const PAGE = 50;
const COLUMNS = `seq, name, parent, done, metadata, error, response, create_time AS createTime,
  update_time AS updateTime, done_time AS doneTime, cancel_request_time AS cancelRequestTime, create_hash AS createHash`;
const log = (line) => process.stderr.write(`list: ${line}\n`);
const r3 = (n) => Math.round(n * 1000) / 1000;

function record(i, t0) {
  const done = i % 2 === 1;
  const time = t0 + i;
  return {
    name: `${PARENT}/operations/l-${String(i).padStart(9, '0')}`,
    parent: PARENT,
    done,
    metadata: `{"@type":"type.googleapis.com/bench.Meta","progress":${i % 100}}`,
    error: null,
    response: done ? '{"@type":"type.googleapis.com/google.protobuf.Empty"}' : null,
    createTime: time,
    updateTime: time,
    doneTime: done ? time : null,
    cancelRequestTime: null,
    createHash: 'x'.repeat(43),
  };
}

/** Grows the store from `from` to `to` operations, 1,000 group-committed creates at a time. */
async function seed(file, from, to) {
  const store = new SqliteStore(file);
  const t0 = Date.now() - to;
  for (let i = from; i < to; i += 1000) {
    const batch = [];
    for (let k = i; k < Math.min(to, i + 1000); k++) batch.push(store.create(record(k, t0)));
    await Promise.all(batch);
  }
  await store.close();
}

/** Runs `work` for `seconds`; calls a second and CPU µs per call. */
function rate(seconds, work) {
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let n = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 10; k++) work(n++);
  }
  const cpu = process.cpuUsage(cpu0);
  const s = (performance.now() - t0) / 1000;
  return { perSecond: n / s, cpuUsPerCall: (cpu.user + cpu.system) / n };
}

const dir = mkdtempSync(join(tmpdir(), 'longrun-bench-list-'));
const file = join(dir, 'list.db');
const out = { filter: FILTER, pageSize: PAGE, connections: CONNECTIONS, sizes: [], limits: [] };
try {
  const filter = parseFilter(FILTER);
  const compiled = filterToSql(filter, sqliteDialect);
  const sql = `SELECT ${COLUMNS} FROM operations WHERE parent = ? AND (${compiled.sql}) ORDER BY seq DESC LIMIT ?`;
  const query = `${COLLECTION_PATH}?pageSize=${PAGE}&filter=${encodeURIComponent(FILTER)}`;
  let stored = 0;
  for (const size of SIZES.sort((a, b) => a - b)) {
    const t = performance.now();
    await seed(file, stored, size);
    stored = size;
    const seedSeconds = (performance.now() - t) / 1000;
    log(`${size} operations stored (${seedSeconds.toFixed(1)} s to add)`);

    // The storage limit: the same statement, raw, in this process.
    const db = new Database(file, { readonly: true });
    const statement = db.prepare(sql);
    const rows = statement.all(PARENT, ...compiled.params, PAGE + 1);
    if (rows.length !== PAGE + 1) throw new Error(`the raw statement returned ${rows.length} rows`);
    rate(0.3, () => statement.all(PARENT, ...compiled.params, PAGE + 1));
    const raw = rate(2, () => statement.all(PARENT, ...compiled.params, PAGE + 1));
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(PARENT, ...compiled.params, PAGE + 1)
      .map((r) => r.detail)
      .join('; ');
    db.close();

    const server = await longrun.start({ store: file });
    let served;
    try {
      const check = await fetch(`${server.url}${query}`);
      const body = await check.json();
      if (check.status !== 200 || body.operations?.length !== PAGE) {
        throw new Error(`list answered ${check.status} with ${body.operations?.length} operations`);
      }
      const load = { method: 'GET', setupRequest: (req) => ({ ...req, path: query }) };
      if (WARMUP > 0)
        await runLoad(server.url, load, { connections: CONNECTIONS, duration: WARMUP, recordLatency: false });
      const cpu0 = server.usage()?.cpuSeconds;
      served = await runLoad(server.url, load, { connections: CONNECTIONS, duration: DURATION });
      const cpu1 = server.usage()?.cpuSeconds;
      served.cpuUsPerRequest = ((cpu1 - cpu0) * 1e6) / served.requests;
      served.peakRssMiB = (server.peakRssBytes() ?? 0) / 2 ** 20;
      served.rssMiB = (server.rssBytes() ?? 0) / 2 ** 20;
    } finally {
      await server.stop();
    }
    const entry = {
      operations: size,
      fileMiB: statSync(file).size / 2 ** 20,
      seedSeconds: r3(seedSeconds),
      plan,
      rawPerSecond: raw.perSecond,
      rawCpuUsPerCall: raw.cpuUsPerCall,
      rps: served.rps,
      p50Ms: served.p50Ms,
      p99Ms: served.p99Ms,
      cpuUsPerRequest: served.cpuUsPerRequest,
      peakRssMiB: served.peakRssMiB,
      invalid: served.non2xx + served.errors,
      ratio: served.rps / raw.perSecond,
    };
    out.sizes.push(entry);
    log(
      `  longrun ${served.rps.toFixed(0)} req/s (p50 ${served.p50Ms.toFixed(2)}, p99 ${served.p99Ms.toFixed(2)} ms, peak RSS ${served.peakRssMiB.toFixed(0)} MiB); raw statement ${raw.perSecond.toFixed(0)}/s; ${entry.ratio.toFixed(2)}x`,
    );
  }

  if (!flags['skip-limits']) {
    // Raw statement rates on the server's schema: the storage limit for create and get.
    const limitFile = join(dir, 'limits.db');
    const db = new Database(limitFile);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    for (const migration of SQLITE_MIGRATIONS) db.exec(migration);
    const insert = db.prepare(
      `INSERT INTO operations (name, parent, done, metadata, error, response, create_time, update_time, done_time,
         cancel_request_time, create_hash)
       VALUES (@name, @parent, @done, @metadata, @error, @response, @createTime, @updateTime, @doneTime,
         @cancelRequestTime, @createHash)
       ON CONFLICT (name) DO NOTHING`,
    );
    const t0 = Date.now();
    const row = (i) => ({ ...record(i, t0), done: 0, doneTime: null, response: null });
    let next = 0;
    const single = rate(2, () => insert.run(row(next++)));
    out.limits.push({ case: 'insert, one per transaction (autocommit)', ...single });
    const many = db.transaction((rows) => {
      for (const r of rows) insert.run(r);
    });
    const batched = rate(2, () => many(Array.from({ length: 50 }, () => row(next++))));
    out.limits.push({
      case: 'insert, 50 per transaction (what group commit can reach)',
      perSecond: batched.perSecond * 50,
      cpuUsPerCall: batched.cpuUsPerCall / 50,
    });
    const get = db.prepare(`SELECT ${COLUMNS} FROM operations WHERE name = ?`);
    const total = next;
    const got = rate(2, (i) => get.get(`${PARENT}/operations/l-${String(i % total).padStart(9, '0')}`));
    out.limits.push({ case: 'get by name', ...got });
    const update = db.prepare('UPDATE operations SET done = 1, update_time = ?, done_time = ? WHERE name = ?');
    let u = 0;
    const upd = rate(2, () => update.run(t0, t0, `${PARENT}/operations/l-${String(u++ % total).padStart(9, '0')}`));
    out.limits.push({ case: 'update by name, one per transaction', ...upd });
    db.close();
    for (const l of out.limits) log(`${l.case}: ${l.perSecond.toFixed(0)}/s, ${l.cpuUsPerCall.toFixed(1)} µs CPU`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (flags.json) writeFileSync(flags.json, `${JSON.stringify(out, null, 2)}\n`);
else process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
