/** The PostgreSQL event relay: other replicas' changes reach the local hub, and survive a lost connection. */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { OperationEvent } from '../../packages/server/src/events/event-hub.js';
import { EventHub } from '../../packages/server/src/events/event-hub.js';
import { PostgresEventRelay } from '../../packages/server/src/events/postgres-event-relay.js';
import { PostgresStore } from '../../packages/server/src/store/postgres/postgres-store.js';
import type { NewOperationRecord } from '../../packages/server/src/store/store.js';
import { createSchema, describePostgres, type TestSchema } from './database.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

function newRecord(name: string): NewOperationRecord {
  const now = Date.now();
  return {
    name,
    parent: name.slice(0, name.lastIndexOf('/operations/')),
    done: false,
    metadata: null,
    error: null,
    response: null,
    createTime: now,
    updateTime: now,
    doneTime: null,
    cancelRequestTime: null,
    createHash: null,
  };
}

const finish = (current: NewOperationRecord & { seq: number }) => ({
  ...current,
  done: true,
  response: '{"@type":"type.googleapis.com/google.protobuf.Empty"}',
  updateTime: current.updateTime + 1,
  doneTime: current.updateTime + 1,
});

describePostgres('PostgreSQL event relay', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let a: PostgresStore;
  let b: PostgresStore;
  let hub: EventHub;
  let relay: PostgresEventRelay;
  const logged: string[] = [];

  beforeEach(async () => {
    schema = await createSchema();
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(schema.url).port || 5432));
    // Replica A reaches the database through the proxy (so the test can cut it off); B directly.
    a = await PostgresStore.open(proxy.via(schema.url), { connectionTimeoutMs: 1000 });
    b = await PostgresStore.open(schema.url);
    hub = new EventHub();
    relay = await PostgresEventRelay.start(a, hub, {
      reconnectInitialMs: 50,
      reconnectMaxMs: 200,
      heartbeatMs: 1000,
      log: (level, message) => logged.push(`${level}: ${message}`),
    });
  });
  afterEach(async () => {
    await relay.close();
    await a.close();
    await b.close();
    await proxy.close();
    await schema.drop();
  });

  function collect(name: string): OperationEvent[] {
    const events: OperationEvent[] = [];
    hub.subscribe(name, (event) => events.push(event));
    return events;
  }

  it("relays another replica's updates and deletes, record included, and skips its own", async () => {
    await a.create(newRecord('projects/r/operations/1'));
    const events = collect('projects/r/operations/1');
    const done = await b.update('projects/r/operations/1', finish);
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toEqual({ type: 'updated', name: 'projects/r/operations/1', record: done });

    await a.update('projects/r/operations/1', (current) => ({ ...current, metadata: '{"own":true}' }));
    await b.delete('projects/r/operations/1');
    await expect.poll(() => events.length).toBe(2);
    expect(events[1]).toEqual({ type: 'deleted', name: 'projects/r/operations/1' });
  });

  it('re-reads a record too large for a notification', async () => {
    await a.create(newRecord('projects/r/operations/big'));
    const events = collect('projects/r/operations/big');
    const metadata = JSON.stringify({ pad: 'é'.repeat(6000) });
    const updated = await b.update('projects/r/operations/big', (current) => ({ ...current, metadata }));
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toEqual({ type: 'updated', name: 'projects/r/operations/big', record: updated });
  });

  it('after losing its connection, reconnects and re-reads what local listeners watch', async () => {
    await b.create(newRecord('projects/r/operations/gap'));
    await b.create(newRecord('projects/r/operations/gone'));
    const gap = collect('projects/r/operations/gap');
    const gone = collect('projects/r/operations/gone');
    proxy.cut();
    await expect.poll(() => relay.connected).toBe(false);
    // Changes while the relay cannot listen: their notifications never reach it.
    const done = await b.update('projects/r/operations/gap', finish);
    await b.delete('projects/r/operations/gone');
    await sleep(300);
    expect(gap).toEqual([]);
    expect(gone).toEqual([]);
    proxy.restore();
    await expect.poll(() => gap.length, { timeout: 5000 }).toBe(1);
    expect(gap[0]).toEqual({ type: 'updated', name: 'projects/r/operations/gap', record: done });
    expect(gone).toEqual([{ type: 'deleted', name: 'projects/r/operations/gone' }]);
    expect(relay.reconnects).toBe(1);
    expect(logged.some((line) => line.startsWith('warn: PostgreSQL event connection lost'))).toBe(true);
    // Listening again: a later change arrives as a notification.
    await b.create(newRecord('projects/r/operations/after'));
    const after = collect('projects/r/operations/after');
    await b.update('projects/r/operations/after', finish);
    await expect.poll(() => after.length).toBe(1);
  });

  it('re-reads what local listeners watch now and then, so a lost announcement is only late', async () => {
    const quiet = await PostgresStore.open(schema.url, { notify: false });
    const resyncing = await PostgresEventRelay.start(a, hub, { resyncMs: 300 });
    try {
      await quiet.create(newRecord('projects/r/operations/unannounced'));
      const events = collect('projects/r/operations/unannounced');
      const done = await quiet.update('projects/r/operations/unannounced', finish);
      await sleep(100);
      expect(events).toEqual([]);
      await expect.poll(() => events.length, { timeout: 2000 }).toBeGreaterThanOrEqual(1);
      expect(events[0]).toEqual({ type: 'updated', name: 'projects/r/operations/unannounced', record: done });
    } finally {
      await resyncing.close();
      await quiet.close();
    }
  });

  it('notices a LISTEN connection the server terminated, and reconnects', async () => {
    await schema.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND (query LIKE 'LISTEN%' OR query = 'SELECT 1')`,
      [schema.applicationName],
    );
    await expect.poll(() => relay.reconnects, { timeout: 5000 }).toBe(1);
    await b.create(newRecord('projects/r/operations/later'));
    const events = collect('projects/r/operations/later');
    await b.update('projects/r/operations/later', finish);
    await expect.poll(() => events.length).toBe(1);
  });
});
