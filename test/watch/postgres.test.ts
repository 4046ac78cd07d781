/**
 * Watch and webhooks on PostgreSQL: the event log's stable head under transactions that commit out
 * of id order (and roll back), and two replicas on one database serving watchers and webhooks.
 */
import pg from 'pg';
import { afterEach, expect, it, vi } from 'vitest';
import { type RunningServer, startServer } from '../../packages/server/src/server.js';
import { PostgresStore } from '../../packages/server/src/store/postgres/postgres-store.js';
import { UPDATE_OPERATION } from '../../packages/server/src/store/postgres/statements.js';
import { HEAD_IDS } from '../../packages/server/src/watch/postgres-event-log.js';
import { openPushBackend, type PushBackend } from '../../packages/server/src/watch/push.js';
import { EMPTY_ANY } from '../helpers.js';
import { createSchema, describePostgres, type TestSchema } from '../postgres/database.js';
import { Receiver } from '../webhooks/receiver.js';
import { watch } from './sse-client.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function schemaFor(): Promise<TestSchema> {
  const schema = await createSchema();
  cleanups.push(() => schema.drop());
  return schema;
}

const record = (name: string) => ({
  name,
  parent: name.slice(0, name.lastIndexOf('/operations/')),
  done: false,
  metadata: null,
  error: null,
  response: null,
  createTime: Date.now(),
  updateTime: Date.now(),
  doneTime: null,
  cancelRequestTime: null,
  createHash: null,
});

describePostgres('the PostgreSQL event log', () => {
  it('keeps its head below an id whose transaction has not committed, and skips one that rolled back', async () => {
    const schema = await schemaFor();
    const store = await PostgresStore.open(schema.url);
    cleanups.push(() => store.close());
    const backend: PushBackend = openPushBackend(store)!;
    cleanups.push(() => backend.close!());
    const { log } = backend;
    await store.create(record('projects/g/operations/a'));
    await store.create(record('projects/g/operations/b'));
    const start = await log.head();

    // A writer that holds its transaction open after its event got an id (the store's own update
    // statement, which logs the event)…
    const slow = new pg.Client({ connectionString: schema.url });
    await slow.connect();
    cleanups.push(() => slow.end());
    const slowProgress = async (metadata: string) => {
      const { rows } = await slow.query(
        `SELECT seq, version FROM longrun_operations WHERE name = 'projects/g/operations/a'`,
      );
      const values = [rows[0].seq, rows[0].version, false, metadata, null, null, Date.now(), null, null, ['progress']];
      await slow.query({ text: UPDATE_OPERATION.text, values });
    };
    await slow.query('BEGIN');
    await slowProgress('{"@type":"t/x.M"}');
    // …and one that commits a later id first.
    await store.update('projects/g/operations/b', (current) => ({ ...current, metadata: '{"@type":"t/x.N"}' }));
    expect(await log.latest()).toBe(start + 2);
    expect(await log.head()).toBe(start); // Not past the uncommitted id.
    expect(await log.head()).toBe(start);
    await slow.query('COMMIT');
    // The head moves on once every transaction in progress when the gap was seen has ended, and
    // those are the whole cluster's (other tests' too): it moves on, but not always at once.
    const headReaches = (id: number) =>
      vi.waitFor(async () => expect(await log.head()).toBe(id), { timeout: 10_000, interval: 20 });
    await headReaches(start + 2);
    const events = await log.read({ after: start, upTo: start + 2, limit: 10 });
    expect(events.map((e) => e.record.name)).toEqual(['projects/g/operations/a', 'projects/g/operations/b']);

    // A rolled-back id never fills: once its writer is gone the head moves past it.
    await slow.query('BEGIN');
    await slowProgress('{"@type":"t/x.O"}');
    await store.update('projects/g/operations/b', (current) => ({ ...current, metadata: '{"@type":"t/x.P"}' }));
    expect(await log.head()).toBe(start + 2);
    await slow.query('ROLLBACK');
    await headReaches(start + 4);
    expect((await log.read({ after: start + 2, limit: 10 })).map((e) => e.id)).toEqual([start + 4]);
  });
});

describePostgres('the head of a long log', () => {
  it('moves past a gap wider than one read, and reads ids through the index, not the whole log', async () => {
    const schema = await schemaFor();
    const store = await PostgresStore.open(schema.url);
    cleanups.push(() => store.close());
    const backend = openPushBackend(store)!;
    cleanups.push(() => backend.close!());
    const { log } = backend;
    const admin = new pg.Client({ connectionString: schema.url });
    await admin.connect();
    cleanups.push(() => admin.end());
    // A log of some size that has not been analysed yet (a new deployment, or one that grew fast):
    // the planner then guesses that a third of it lies after any id.
    await admin.query(
      `INSERT INTO longrun_operation_events (time, type, name, parent, done, create_time, update_time)
       SELECT 0, 'created', 'projects/l/operations/x' || i, 'projects/l', false, 0, 0 FROM generate_series(1, 20000) i`,
    );
    expect(await log.head()).toBe(20000);
    // Ids drawn and never written (rolled back, or lost to a crash): 50,000 of them, then an event.
    await admin.query(`SELECT setval(pg_get_serial_sequence('longrun_operation_events', 'id'), 70000)`);
    await store.create(record('projects/l/operations/after'));
    await vi.waitFor(async () => expect(await log.head()).toBe(70001), { timeout: 10_000, interval: 20 });

    // The statement head() runs, as the planner would run it for the next read: through the index.
    const { rows } = await admin.query(`EXPLAIN ${HEAD_IDS.replaceAll('$1', '70001').replaceAll('$2', '10000')}`);
    const plan = rows.map((row: { 'QUERY PLAN': string }) => row['QUERY PLAN']).join('\n');
    expect(plan).toContain('longrun_operation_events_pkey');
    expect(plan).not.toMatch(/Seq Scan on longrun_operation_events/);
  });
});

describePostgres('a new reader of an existing log', () => {
  it('starts its head at the newest event, without walking the history', async () => {
    const schema = await schemaFor();
    const store = await PostgresStore.open(schema.url);
    cleanups.push(() => store.close());
    for (let i = 0; i < 5; i++) await store.create(record(`projects/h/operations/${i}`));
    const fresh = openPushBackend(store)!;
    cleanups.push(() => fresh.close!());
    expect(await fresh.log.head()).toBe(5);
    expect(await fresh.log.latest()).toBe(5);
  });
});

describePostgres('two replicas on one database', () => {
  it('streams every change made through either replica, in order, to watchers on both', async () => {
    const schema = await schemaFor();
    const config = { host: '127.0.0.1', port: 0, store: schema.url, logLevel: 'silent', watchPollIntervalMs: 50 };
    const a: RunningServer = await startServer(config);
    cleanups.push(() => a.close());
    const b: RunningServer = await startServer(config);
    cleanups.push(() => b.close());
    const call = (server: RunningServer, method: string, path: string, body?: unknown) =>
      fetch(server.url + path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => {
        if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
        return r.json();
      });
    const onA = await watch(`${a.url}/v1/projects/r/operations:watch`);
    const onB = await watch(`${b.url}/v1/projects/r/operations:watch`);
    await onA.waitForEvents(1);
    await onB.waitForEvents(1);
    // Concurrent writers on both replicas: ids are drawn out of commit order all the time.
    const OPS = 6;
    const PATCHES = 10;
    await Promise.all(
      Array.from({ length: OPS }, async (_, op) => {
        const server = op % 2 === 0 ? a : b;
        await call(server, 'POST', '/v1/projects/r/operations', { operationId: `op${op}` });
        for (let n = 1; n <= PATCHES; n++) {
          const via = n % 2 === 0 ? a : b;
          await call(via, 'PATCH', `/v1/projects/r/operations/op${op}`, {
            operation: { metadata: { '@type': 'type.googleapis.com/t.M', n } },
            updateMask: 'metadata',
          });
        }
        await call(server, 'PATCH', `/v1/projects/r/operations/op${op}`, {
          operation: { done: true, response: EMPTY_ANY },
        });
      }),
    );
    const total = OPS * (PATCHES + 2);
    await onA.waitForEvents(total + 1, 20_000);
    await onB.waitForEvents(total + 1, 20_000);
    const seen = (events: { id?: string; event: string; data: string }[]) =>
      events.slice(1).map((e) => `${e.id} ${e.event} ${e.data}`);
    expect(seen(onA.events)).toEqual(seen(onB.events));
    const ids = onA.events.slice(1).map((e) => Number(e.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    for (let op = 0; op < OPS; op++) {
      const mine = onA.events.filter((e) => e.data.includes(`"projects/r/operations/op${op}"`));
      expect(mine.map((e) => e.event)).toEqual(['created', ...Array(PATCHES).fill('progress'), 'done']);
    }
    // A watcher resuming on the other replica gets the rest, from the same ids.
    const middle = onA.events[total / 2]!.id!;
    const resumed = await watch(`${b.url}/v1/projects/r/operations:watch`, { 'last-event-id': middle });
    await resumed.waitForEvents(total / 2);
    expect(resumed.events.map((e) => `${e.id} ${e.event} ${e.data}`)).toEqual(seen(onA.events).slice(total / 2));
    for (const stream of [onA, onB, resumed]) stream.close();
  });

  it('delivers each webhook once across replicas, and after they restart', async () => {
    const schema = await schemaFor();
    const receiver = await Receiver.start();
    cleanups.push(() => receiver.close());
    let failing = true;
    receiver.behaviour = () => (failing ? 503 : 200);
    const config = {
      host: '127.0.0.1',
      port: 0,
      store: schema.url,
      logLevel: 'silent',
      watchPollIntervalMs: 50,
      webhookRetryBaseMs: 300,
      webhookRetryMaxMs: 300,
      webhookTimeoutMs: 500,
    };
    let a = await startServer(config);
    let b = await startServer(config);
    const call = (server: RunningServer, method: string, path: string, body?: unknown) =>
      fetch(server.url + path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => r.json());
    await call(a, 'POST', '/v1/projects/h/webhooks?webhookId=w', { uri: receiver.url });
    for (let i = 0; i < 10; i++) {
      const server = i % 2 === 0 ? a : b;
      await call(server, 'POST', '/v1/projects/h/operations', { operationId: `op${i}` });
      await call(server, 'PATCH', `/v1/projects/h/operations/op${i}`, {
        operation: { done: true, response: EMPTY_ANY },
      });
    }
    await receiver.waitFor(10, 10_000);
    // Every delivery failed once and is due again: both replicas stop, then come back.
    await Promise.all([a.close(), b.close()]);
    const before = receiver.received.length;
    failing = false;
    a = await startServer(config);
    cleanups.push(() => a.close());
    b = await startServer(config);
    cleanups.push(() => b.close());
    const deadline = Date.now() + 15_000;
    let succeeded: any[] = [];
    while (Date.now() < deadline) {
      succeeded =
        ((await call(b, 'GET', '/v1/projects/h/webhooks/w/deliveries?state=SUCCEEDED')) as any).deliveries ?? [];
      if (succeeded.length === 10) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(succeeded).toHaveLength(10);
    // One delivery per operation, each answered 200 exactly once after the restart: no replica sent
    // one twice, and none was lost.
    const ids = receiver.received.slice(before).map((d) => d.headers['longrun-delivery-id']);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    const operations = receiver.received.slice(before).map((d) => JSON.parse(d.body).operation.name);
    expect(new Set(operations).size).toBe(10);
    for (const early of receiver.received.slice(0, before)) expect(ids).toContain(early.headers['longrun-delivery-id']);
  });
});
