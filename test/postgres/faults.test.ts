/**
 * PostgreSQL going away mid-load, under two replicas: requests fail UNAVAILABLE (503), the
 * processes stay up, they recover by themselves when the database returns, no acknowledged write is
 * lost, and waiters keep waiting through the outage and wake afterwards.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { PostgresStore } from '../../packages/server/src/store/postgres/postgres-store.js';
import { EMPTY_ANY, errorInfo, startTestServer, type TestResponse, type TestServer } from '../helpers.js';
import { createSchema, describePostgres, type TestSchema } from './database.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

interface Load {
  acknowledgedCreates: Set<string>;
  acknowledgedDone: Set<string>;
  /** Responses that were neither a success nor a 503 UNAVAILABLE. */
  unexpected: string[];
  unavailable: number;
  /** When (performance.now()) each successful request was sent and answered, per replica. */
  successes: { sent: number; answered: number }[][];
  stop(): Promise<void>;
}

function isUnavailable(response: TestResponse): boolean {
  return (
    response.status === 503 &&
    response.json?.error?.status === 'UNAVAILABLE' &&
    errorInfo(response.json)?.reason === 'STORE_UNAVAILABLE'
  );
}

/** Creates and completes operations through every replica in turn, with a few requests in flight on each. */
function startLoad(replicas: TestServer[], concurrency: number): Load {
  const load: Load = {
    acknowledgedCreates: new Set(),
    acknowledgedDone: new Set(),
    unexpected: [],
    unavailable: 0,
    successes: replicas.map(() => []),
    stop: async () => {},
  };
  let running = true;
  let next = 0;
  const record = (replica: number, response: TestResponse, sent: number): boolean => {
    if (response.status === 200) {
      load.successes[replica]!.push({ sent, answered: performance.now() });
      return true;
    }
    if (isUnavailable(response)) load.unavailable++;
    else load.unexpected.push(`${response.status} ${response.text}`);
    return false;
  };
  const worker = async (w: number) => {
    while (running) {
      const id = `w${w}-${next++}`;
      const replica = next % replicas.length;
      const server = replicas[replica]!;
      let sent = performance.now();
      const created = await server.call('POST', '/v1/projects/load/operations', { operationId: id, operation: {} });
      if (record(replica, created, sent)) load.acknowledgedCreates.add(`projects/load/operations/${id}`);
      else {
        await sleep(20);
        continue;
      }
      const other = (replica + 1) % replicas.length;
      sent = performance.now();
      const done = await replicas[other]!.call('PATCH', `/v1/projects/load/operations/${id}`, {
        operation: { done: true, response: EMPTY_ANY },
      });
      if (record(other, done, sent)) load.acknowledgedDone.add(`projects/load/operations/${id}`);
      else await sleep(20);
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  load.stop = async () => {
    running = false;
    await Promise.all(workers);
  };
  return load;
}

describePostgres('PostgreSQL faults under load', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  const servers: TestServer[] = [];

  beforeEach(async () => {
    schema = await createSchema();
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(schema.url).port || 5432));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    await proxy.close();
    await schema.drop();
  });

  async function expectNothingLost(load: Load): Promise<void> {
    const check = await PostgresStore.open(schema.url);
    try {
      const names = [...load.acknowledgedCreates];
      const found = new Map((await check.getMany(names)).map((record) => [record.name, record]));
      expect(names.filter((name) => !found.has(name))).toEqual([]);
      expect([...load.acknowledgedDone].filter((name) => !found.get(name)?.done)).toEqual([]);
    } finally {
      await check.close();
    }
  }

  it('answers 503 while the database is unreachable, recovers by itself, and loses no acknowledged write', async () => {
    const url = proxy.via(schema.url);
    const [a, b] = await Promise.all([
      startTestServer({ store: url, waitMaxMs: 60_000 }),
      startTestServer({ store: url, waitMaxMs: 60_000 }),
    ]);
    servers.push(a!, b!);
    // Waiters on A for operations that B completes only after the outage.
    const waited = ['w1', 'w2', 'w3'];
    for (const id of waited) await a!.createOperation('projects/wait', id);
    const waiters = waited.map((id) => a!.call('POST', `/v1/projects/wait/operations/${id}:wait`, { timeout: '30s' }));

    const load = startLoad([a!, b!], 6);
    await sleep(700);
    const beforeCut = load.acknowledgedCreates.size;
    expect(beforeCut).toBeGreaterThan(0);

    proxy.cut();
    const cutAt = performance.now();
    await sleep(2000);
    // Nothing sent while the database is away can succeed.
    const duringCut = load.successes.map((times) => times.filter((t) => t.sent > cutAt).length);
    expect(duringCut).toEqual([0, 0]);
    expect(load.unavailable).toBeGreaterThan(0);

    proxy.restore();
    const restoredAt = performance.now();
    await expect
      .poll(() => load.successes.every((times) => times.some((t) => t.sent > restoredAt)), {
        timeout: 5000,
        interval: 50,
      })
      .toBe(true);
    const recovery = load.successes.map((times) => times.find((t) => t.sent > restoredAt)!.answered - restoredAt);
    console.info(
      `outage: ${load.unavailable} requests answered 503; recovered in ${recovery.map((ms) => ms.toFixed(0)).join(' / ')} ms`,
    );
    await sleep(500);
    await load.stop();

    expect(load.unexpected).toEqual([]);
    expect(load.acknowledgedCreates.size).toBeGreaterThan(beforeCut);
    await expectNothingLost(load);

    // The waiters kept waiting through the outage; B's completions now reach them on A.
    for (const id of waited) {
      expect(
        (
          await b!.call('PATCH', `/v1/projects/wait/operations/${id}`, {
            operation: { done: true, response: EMPTY_ANY },
          })
        ).status,
      ).toBe(200);
    }
    for (const waiter of waiters) expect((await waiter).json).toMatchObject({ done: true, response: EMPTY_ANY });
  });

  it('carries on when the database terminates every connection mid-load', async () => {
    const [a, b] = await Promise.all([startTestServer({ store: schema.url }), startTestServer({ store: schema.url })]);
    servers.push(a!, b!);
    await a!.createOperation('projects/wait', 'kill');
    const waiter = a!.call('POST', '/v1/projects/wait/operations/kill:wait', { timeout: '30s' });
    const load = startLoad([a!, b!], 6);
    await sleep(500);
    for (let round = 0; round < 3; round++) {
      await schema.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
        schema.applicationName,
      ]);
      await sleep(300);
    }
    const after = performance.now();
    await expect
      .poll(() => load.successes.every((times) => times.some((t) => t.sent > after)), { timeout: 5000, interval: 50 })
      .toBe(true);
    await load.stop();
    expect(load.unexpected).toEqual([]);
    await expectNothingLost(load);
    // A's event connection was cut three times; it listens again, and a completion on B wakes A's waiter.
    await sleep(300);
    expect(
      (await b!.call('PATCH', '/v1/projects/wait/operations/kill', { operation: { done: true, response: EMPTY_ANY } }))
        .status,
    ).toBe(200);
    expect((await waiter).json).toMatchObject({ done: true });
  });
});
