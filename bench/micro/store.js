#!/usr/bin/env node
// What the SQLite store costs per call, without HTTP: the real SqliteStore (from the built
// server) for create, get and update, and variants of the insert (as the store does it, with its
// event row; without the event; on the first migration's schema alone; and batched several to
// a transaction) to size what a change to the store could gain. One process, one thread, in a
// temporary directory on the same disk as the real benchmark.
//
//   node bench/micro/store.js [--n 20000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../packages/server/dist/store/sqlite/migrations.js';
import { SqliteStore } from '../../packages/server/dist/store/sqlite/sqlite-store.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '20000' } } });
const N = Number(values.n);
const dir = mkdtempSync(join(tmpdir(), 'longrun-micro-'));
const METADATA = '{"@type":"type.googleapis.com/bench.Meta","progress":0}';
const results = [];

function record(name, i) {
  const now = Date.now();
  return {
    name: `projects/bench/operations/${name}-${String(i).padStart(9, '0')}`,
    parent: 'projects/bench',
    done: false,
    metadata: METADATA,
    error: null,
    response: null,
    createTime: now,
    updateTime: now,
    doneTime: null,
    cancelRequestTime: null,
    createHash: 'x'.repeat(43),
  };
}

/** Runs `work(i)` n times (awaiting when it returns a promise) and records µs per call. */
async function time(label, n, work) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = work(i);
    if (r && typeof r.then === 'function') await r;
  }
  const wallUs = Number(process.hrtime.bigint() - t0) / 1e3;
  const cpu = process.cpuUsage(cpu0);
  results.push({
    case: label,
    'wall µs/op': (wallUs / n).toFixed(1),
    'CPU µs/op': ((cpu.user + cpu.system) / n).toFixed(1),
  });
}

/** A database with the server's schema (every migration, or the first `upTo`) and its insert. */
function rawDb(file, { upTo = SQLITE_MIGRATIONS.length, logEvents = true } = {}) {
  const db = new Database(join(dir, file));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const migration of SQLITE_MIGRATIONS.slice(0, upTo)) db.exec(migration);
  const operation = db.prepare(
    `INSERT INTO operations (name, parent, done, metadata, error, response, create_time, update_time, done_time,
       cancel_request_time, create_hash)
     VALUES (@name, @parent, @done, @metadata, @error, @response, @createTime, @updateTime, @doneTime,
       @cancelRequestTime, @createHash)
     ON CONFLICT (name) DO NOTHING`,
  );
  // The 'created' event row the store appends with each create (store/change-events.ts).
  const event = logEvents
    ? db.prepare(
        `INSERT INTO operation_events (time, type, name, parent, done, metadata, error, response, create_time,
           update_time, done_time, cancel_request_time)
         VALUES (@updateTime, 'created', @name, @parent, @done, @metadata, @error, @response, @createTime,
           @updateTime, @doneTime, @cancelRequestTime)`,
      )
    : undefined;
  const insert = {
    run(row) {
      operation.run(row);
      event?.run(row);
    },
  };
  return { db, insert };
}

try {
  // The real store, as the server uses it.
  const store = new SqliteStore(join(dir, 'store.db'));
  await time('SqliteStore.create (one transaction each)', N, (i) => store.create(record('c', i)));
  await time('SqliteStore.get', N, (i) => store.get(`projects/bench/operations/c-${String(i).padStart(9, '0')}`));
  await time('SqliteStore.update to done', N, (i) =>
    store.update(`projects/bench/operations/c-${String(i).padStart(9, '0')}`, (current) => ({
      done: true,
      metadata: current.metadata,
      error: null,
      response: '{"@type":"type.googleapis.com/google.protobuf.Empty"}',
      updateTime: Date.now(),
      doneTime: Date.now(),
      cancelRequestTime: null,
    })),
  );
  await store.close();

  // The same insert, raw, and its variants.
  const variants = [
    [`insert and its event, autocommit, all ${SQLITE_MIGRATIONS.length} migrations (as the store does)`, {}],
    ['insert, autocommit, no event logged', { logEvents: false }],
    ['insert, autocommit, first migration only (no event log, 2 fewer indexes)', { upTo: 1, logEvents: false }],
  ];
  for (const [label, shape] of variants) {
    const { db, insert } = rawDb(`raw-${results.length}.db`, shape);
    await time(label, N, (i) => insert.run({ ...record('c', i), done: 0 }));
    db.close();
  }
  for (const batch of [10, 50]) {
    const { db, insert } = rawDb(`batch-${batch}.db`);
    const many = db.transaction((rows) => {
      for (const row of rows) insert.run(row);
    });
    await time(`insert and its event, ${batch} per transaction (group commit), all migrations`, N / batch, (b) =>
      many(Array.from({ length: batch }, (_, k) => ({ ...record('c', b * batch + k), done: 0 }))),
    );
    const last = results[results.length - 1];
    last['wall µs/op'] = (Number(last['wall µs/op']) / batch).toFixed(1);
    last['CPU µs/op'] = (Number(last['CPU µs/op']) / batch).toFixed(1);
    db.close();
  }
  console.table(results);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
