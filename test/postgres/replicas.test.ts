/** Two longrun replicas on one PostgreSQL, through REST: waits, cancels and page tokens cross replicas. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ServerConfig } from '../../packages/server/src/config.js';
import { EMPTY_ANY, errorInfo, startTestServer, type TestServer } from '../helpers.js';
import { createSchema, describePostgres, type TestSchema } from './database.js';
import { type ReplicaProcess, startReplica } from './replica-process.js';

describePostgres('replicas on one PostgreSQL', () => {
  let schema: TestSchema;
  const servers: TestServer[] = [];
  const processes: ReplicaProcess[] = [];
  const replica = async (config: Partial<ServerConfig> = {}) => {
    const server = await startTestServer({ store: schema.url, ...config });
    servers.push(server);
    return server;
  };

  beforeEach(async () => {
    schema = await createSchema();
  });
  afterEach(async () => {
    await Promise.all([...servers.splice(0), ...processes.splice(0)].map((server) => server.stop()));
    await schema.drop();
  });

  it('wakes a waiter on one replica within 50 ms (p99) of the operation completing on another', async () => {
    // Two `longrun serve` processes, so that neither shares an event loop with the test.
    const [a, b] = await Promise.all([startReplica(schema.url), startReplica(schema.url)]);
    processes.push(a, b);
    const call = async (base: string, method: string, path: string, body?: unknown) => {
      const response = await fetch(base + path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    const count = 200;
    const ids = Array.from({ length: count }, (_, i) => `op${i}`);
    for (const id of ids) {
      expect((await call(a.url, 'POST', '/v1/projects/w/operations', { operationId: id, operation: {} })).status).toBe(
        200,
      );
    }
    const woke = new Map<string, number>();
    const waits = ids.map((id) =>
      call(a.url, 'POST', `/v1/projects/w/operations/${id}:wait`, { timeout: '60s' }).then((response) => {
        woke.set(id, performance.now());
        return response;
      }),
    );
    // Let every wait reach its subscription before the first completion.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(woke.size).toBe(0);
    // Measured from when B acknowledged the completion (it has committed and announced it), and,
    // for the record, from when the PATCH was sent (adding B's own request time).
    const fromAck: number[] = [];
    const fromSend: number[] = [];
    for (const id of ids) {
      const sent = performance.now();
      const patched = await call(b.url, 'PATCH', `/v1/projects/w/operations/${id}`, {
        operation: { done: true, response: EMPTY_ANY },
      });
      const acked = performance.now();
      expect(patched.status).toBe(200);
      while (!woke.has(id) && performance.now() - sent < 1000) await new Promise((resolve) => setTimeout(resolve, 1));
      const at = woke.get(id) ?? Number.POSITIVE_INFINITY;
      fromAck.push(Math.max(0, at - acked));
      fromSend.push(at - sent);
    }
    const responses = await Promise.all(waits);
    for (const response of responses) expect(response.json).toMatchObject({ done: true, response: EMPTY_ANY });
    const percentile = (values: number[], p: number) =>
      [...values].sort((x, y) => x - y)[Math.ceil(values.length * p) - 1]!;
    const p99 = percentile(fromAck, 0.99);
    console.info(
      `cross-replica wake: p50 ${percentile(fromAck, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms after B acknowledged; ` +
        `p50 ${percentile(fromSend, 0.5).toFixed(1)} ms, p99 ${percentile(fromSend, 0.99).toFixed(1)} ms after the PATCH was sent`,
    );
    expect(p99).toBeLessThan(50);
  });

  it('shows a cancel recorded on one replica to a provider that watches through another', async () => {
    const [a, b] = await Promise.all([replica(), replica()]);
    await a.createOperation('projects/c', 'job');
    const watching = b.call('POST', '/v1/projects/c/operations/job:wait', { timeout: '10s' });
    expect((await a.call('POST', '/v1/projects/c/operations/job:cancel')).status).toBe(200);
    const seen = await b.call('GET', '/v1/projects/c/operations/job');
    expect(seen.headers.get('x-longrun-cancel-requested')).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The provider acknowledges through B; a waiter on A's side of things sees it too.
    const waiterOnA = a.call('POST', '/v1/projects/c/operations/job:wait', { timeout: '10s' });
    const error = { code: 1, message: 'stopped on request' };
    expect((await b.call('PATCH', '/v1/projects/c/operations/job', { operation: { done: true, error } })).status).toBe(
      200,
    );
    expect((await waiterOnA).json).toMatchObject({ done: true, error });
    expect((await watching).json).toMatchObject({ done: true, error });
  });

  it('accepts page tokens minted by another replica (a secret shared through the database)', async () => {
    const [a, b] = await Promise.all([replica(), replica()]);
    for (let i = 0; i < 5; i++) await a.createOperation('projects/p', `op${i}`);
    const first = await a.call('GET', '/v1/projects/p/operations?pageSize=2');
    expect(first.json.operations.map((op: { name: string }) => op.name)).toEqual([
      'projects/p/operations/op4',
      'projects/p/operations/op3',
    ]);
    const second = await b.call('GET', `/v1/projects/p/operations?pageSize=2&pageToken=${first.json.nextPageToken}`);
    expect(second.status).toBe(200);
    expect(second.json.operations.map((op: { name: string }) => op.name)).toEqual([
      'projects/p/operations/op2',
      'projects/p/operations/op1',
    ]);
  });

  it('accepts page tokens across replicas configured with one secret, and refuses another secret', async () => {
    const [a, b, other] = await Promise.all([
      replica({ pageTokenSecret: 'shared secret' }),
      replica({ pageTokenSecret: 'shared secret' }),
      replica({ pageTokenSecret: 'a different secret' }),
    ]);
    for (let i = 0; i < 3; i++) await a.createOperation('projects/s', `op${i}`);
    const first = await a.call('GET', '/v1/projects/s/operations?pageSize=1');
    const token = first.json.nextPageToken as string;
    const second = await b.call('GET', `/v1/projects/s/operations?pageSize=1&pageToken=${token}`);
    expect(second.json.operations[0].name).toBe('projects/s/operations/op1');
    const refused = await other.call('GET', `/v1/projects/s/operations?pageSize=1&pageToken=${token}`);
    expect(refused.status).toBe(400);
    expect(errorInfo(refused.json).reason).toBe('INVALID_PAGE_TOKEN');
  });

  it('ends a cancelled operation after the grace period even when the replica that recorded the cancel is gone', async () => {
    const [a, b] = await Promise.all([replica({ cancelGracePeriodMs: 1000 }), replica({ cancelGracePeriodMs: 1000 })]);
    await a.createOperation('projects/g', 'orphan');
    const waiting = b.call('POST', '/v1/projects/g/operations/orphan:wait', { timeout: '10s' });
    await a.call('POST', '/v1/projects/g/operations/orphan:cancel');
    const requested = Date.now();
    await a.stop();
    servers.splice(servers.indexOf(a), 1);
    const done = await waiting;
    expect(done.json).toMatchObject({ done: true, error: { code: 1 } });
    // The grace period plus a re-scan of the surviving replica, well before the wait's 10 s timeout.
    expect(Date.now() - requested).toBeLessThan(8000);
  });

  it('expires a cancel once when every replica sweeps, and every waiter sees the same end', async () => {
    const [a, b] = await Promise.all([replica({ cancelGracePeriodMs: 500 }), replica({ cancelGracePeriodMs: 500 })]);
    const ids = Array.from({ length: 10 }, (_, i) => `op${i}`);
    for (const id of ids) await a.createOperation('projects/e', id);
    const waits = ids.flatMap((id) =>
      [a, b].map((server) => server.call('POST', `/v1/projects/e/operations/${id}:wait`, { timeout: '10s' })),
    );
    // Cancel half through each replica, so both hold timers and both sweep.
    for (const [i, id] of ids.entries()) await (i % 2 ? a : b).call('POST', `/v1/projects/e/operations/${id}:cancel`);
    const answers = await Promise.all(waits);
    for (let i = 0; i < answers.length; i += 2) {
      expect(answers[i]!.json).toMatchObject({ done: true, error: { code: 1 } });
      expect(answers[i + 1]!.json).toEqual(answers[i]!.json);
    }
    // One write for the cancel request and one for its expiry: nobody ended an operation twice.
    const { rows } = await schema.query<{ version: number }>('SELECT version FROM longrun_operations');
    expect(rows.map((row) => row.version)).toEqual(ids.map(() => 2));
  });
});
