/**
 * The push storage contract suite: what every backend's event log and webhook store must do,
 * run unchanged by each backend (SQLite in test/watch/push-contract.test.ts, PostgreSQL in
 * test/watch/push-contract-postgres.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../contract/errors.js';
import type { NewOperationRecord, OperationStore } from '../store/store.js';
import type { NewDelivery, WebhookStore } from '../webhooks/webhook-store.js';
import type { EventLog } from './event-log.js';

export interface PushHarness {
  /** A new, empty store with its event log and webhook store. */
  open(): Promise<{ store: OperationStore; log: EventLog; webhooks: WebhookStore }>;
  /** Removes what `open` created (after the store is closed). */
  destroy(): Promise<void>;
}

const EMPTY = '{"@type":"type.googleapis.com/google.protobuf.Empty"}';
const meta = (n: number) => `{"@type":"type.googleapis.com/t.M","n":${n}}`;

/** A new operation's record as the service would write it, for the push tests. */
export function record(name: string, fields: Partial<NewOperationRecord> = {}): NewOperationRecord {
  const at = name.lastIndexOf('/operations/');
  const now = Date.now();
  return {
    name,
    parent: name.startsWith('operations/') ? '' : name.slice(0, at),
    done: false,
    metadata: null,
    error: null,
    response: null,
    createTime: now,
    updateTime: now,
    doneTime: null,
    cancelRequestTime: null,
    createHash: null,
    ...fields,
  };
}

/**
 * `target` itself, with the calls of one of its methods counted: the real object, watched. Methods
 * run on the target, so its private fields work.
 */
export function counting<T extends object>(target: T, method: keyof T): { object: T; calls: () => number } {
  let calls = 0;
  const object = new Proxy(target, {
    get(inner, key) {
      if (key === method) calls++;
      const value = Reflect.get(inner, key) as unknown;
      return typeof value === 'function' ? value.bind(inner) : value;
    },
  });
  return { object, calls: () => calls };
}

export function describePushContract(backend: string, harness: PushHarness): void {
  describe(`push storage contract: ${backend}`, () => {
    let store: OperationStore;
    let log: EventLog;
    let webhooks: WebhookStore;
    beforeEach(async () => {
      ({ store, log, webhooks } = await harness.open());
    });
    afterEach(async () => {
      await store.close();
      await harness.destroy();
    });

    const create = async (name: string, fields: Partial<NewOperationRecord> = {}) => {
      const result = await store.create(record(name, fields));
      if (!result.created) throw new Error(`${name} existed`);
      return result.record;
    };
    const update = (name: string, change: Partial<NewOperationRecord>) =>
      store.update(name, (current) => ({ ...current, updateTime: current.updateTime + 1, ...change }));
    const all = () => log.read({ after: 0, limit: 1000 });

    it('logs every committed change, in order, with the operation after it', async () => {
      expect(await log.head()).toBe(0);
      await create('projects/p/operations/a', { metadata: meta(0) });
      await update('projects/p/operations/a', { metadata: meta(1) });
      await update('projects/p/operations/a', { cancelRequestTime: Date.now() });
      await update('projects/p/operations/a', { done: true, response: EMPTY, doneTime: Date.now() });
      await store.delete('projects/p/operations/a');
      const events = await all();
      expect(events.map((e) => e.type)).toEqual(['created', 'progress', 'cancel_requested', 'done', 'deleted']);
      for (let i = 1; i < events.length; i++) expect(events[i]!.id).toBeGreaterThan(events[i - 1]!.id);
      expect(events[1]!.record).toMatchObject({
        name: 'projects/p/operations/a',
        parent: 'projects/p',
        metadata: meta(1),
      });
      expect(events[3]!.record).toMatchObject({ done: true, response: EMPTY, metadata: meta(1) });
      expect(events[3]!.record.cancelRequestTime).not.toBeNull();
      expect(events[4]!.record).toMatchObject({ done: true, response: EMPTY });
      expect(await log.head()).toBe(events[4]!.id);
    });

    it('logs a create that is done as created then done, and a cancel that ends it as cancel_requested then done', async () => {
      await create('projects/p/operations/born', { done: true, response: EMPTY, doneTime: Date.now() });
      await create('projects/p/operations/c');
      await update('projects/p/operations/c', {
        done: true,
        error: '{"code":1}',
        cancelRequestTime: Date.now(),
        doneTime: Date.now(),
      });
      expect((await all()).map((e) => `${e.type} ${e.record.name}`)).toEqual([
        'created projects/p/operations/born',
        'done projects/p/operations/born',
        'created projects/p/operations/c',
        'cancel_requested projects/p/operations/c',
        'done projects/p/operations/c',
      ]);
    });

    it('logs operations removed by retention as deleted, with the record as it was last', async () => {
      await create('projects/p/operations/old', { done: true, response: EMPTY, doneTime: 100 });
      await create('projects/p/operations/running', { metadata: meta(3) });
      expect(await store.expireDone(1000, 10)).toEqual(['projects/p/operations/old']);
      const events = await all();
      expect(events.map((e) => `${e.type} ${e.record.name}`)).toEqual([
        'created projects/p/operations/old',
        'done projects/p/operations/old',
        'created projects/p/operations/running',
        'deleted projects/p/operations/old',
      ]);
      expect(events[3]!.record).toMatchObject({ done: true, response: EMPTY, doneTime: 100 });
    });

    it('logs nothing for a refused or empty update', async () => {
      await create('projects/p/operations/x', { metadata: meta(0) });
      await expect(
        store.update('projects/p/operations/x', () => {
          throw new ApiError('OPERATION_DONE', 'refused');
        }),
      ).rejects.toThrow('refused');
      await store.update('projects/p/operations/x', () => null);
      await update('projects/p/operations/x', {}); // Only the update time moves.
      expect((await all()).map((e) => e.type)).toEqual(['created']);
    });

    it('reads by name, by parent (exact or "-"), by type, up to an id, with a limit', async () => {
      await create('projects/a/operations/1');
      await create('projects/b/operations/2');
      await create('projects/a/instances/i/operations/3');
      await update('projects/a/operations/1', { done: true, response: EMPTY, doneTime: Date.now() });
      const names = (events: { record: { name: string } }[]) => events.map((e) => e.record.name);
      expect(names(await log.read({ after: 0, name: 'projects/a/operations/1', limit: 10 }))).toEqual([
        'projects/a/operations/1',
        'projects/a/operations/1',
      ]);
      expect(names(await log.read({ after: 0, parent: 'projects/a', limit: 10 }))).toEqual([
        'projects/a/operations/1',
        'projects/a/operations/1',
      ]);
      expect(names(await log.read({ after: 0, parent: 'projects/-', limit: 10 }))).toEqual([
        'projects/a/operations/1',
        'projects/b/operations/2',
        'projects/a/operations/1',
      ]);
      expect(names(await log.read({ after: 0, parent: 'projects/-/instances/-', limit: 10 }))).toEqual([
        'projects/a/instances/i/operations/3',
      ]);
      const events = await all();
      expect((await log.read({ after: 0, types: ['done'], limit: 10 })).map((e) => e.id)).toEqual([events[3]!.id]);
      expect(await log.read({ after: events[0]!.id, upTo: events[2]!.id, limit: 10 })).toEqual(events.slice(1, 3));
      expect(await log.read({ after: 0, limit: 2 })).toEqual(events.slice(0, 2));
    });

    it('reads an operation and the head at one point', async () => {
      await create('projects/s/operations/1', { metadata: meta(5) });
      const snapshot = await log.snapshot('projects/s/operations/1');
      expect(snapshot.record).toMatchObject({ name: 'projects/s/operations/1', metadata: meta(5), done: false });
      expect(snapshot.head).toBe(await log.head());
      expect((await log.snapshot('projects/s/operations/none')).record).toBeUndefined();
    });

    it('prunes the oldest events only, up to a time and an id, and remembers how far (the horizon)', async () => {
      const old = Date.now() - 60_000;
      await create('projects/r/operations/1', { createTime: old, updateTime: old });
      await update('projects/r/operations/1', { metadata: meta(1), updateTime: old + 1 });
      await create('projects/r/operations/2', { createTime: old + 2, updateTime: old + 2 });
      await create('projects/r/operations/3'); // Now: within the window.
      await create('projects/r/operations/4', { createTime: old + 3, updateTime: old + 3 }); // Old, but after a new one.
      const events = await all();
      expect(await log.horizon()).toBe(0);
      // The id cap holds pruning back.
      expect(await log.prune(Date.now() - 30_000, events[0]!.id, 100)).toBe(1);
      expect(await log.horizon()).toBe(events[0]!.id);
      // Then time: it stops at the first event inside the window, whatever follows it.
      expect(await log.prune(Date.now() - 30_000, Number.MAX_SAFE_INTEGER, 100)).toBe(2);
      expect(await log.horizon()).toBe(events[2]!.id);
      expect((await all()).map((e) => e.id)).toEqual([events[3]!.id, events[4]!.id]);
      // Everything, in batches: the head stays where it was, new ids continue above it.
      expect(await log.prune(Date.now() + 1000, Number.MAX_SAFE_INTEGER, 1)).toBe(1);
      expect(await log.prune(Date.now() + 1000, Number.MAX_SAFE_INTEGER, 100)).toBe(1);
      expect(await all()).toEqual([]);
      expect(await log.horizon()).toBe(events[4]!.id);
      expect(await log.head()).toBe(events[4]!.id);
      await create('projects/r/operations/5');
      expect((await all())[0]!.id).toBeGreaterThan(events[4]!.id);
    });

    it('keeps webhooks: create once (from the head on), get, list by parent, update, delete', async () => {
      await create('projects/w/operations/before');
      const head = await log.head();
      const base = {
        uri: 'http://x/y',
        filter: '',
        events: ['done' as const],
        secret: 's'.repeat(20),
        createTime: 1,
        updateTime: 1,
      };
      const made = await webhooks.createWebhook({ ...base, name: 'projects/w/webhooks/a', parent: 'projects/w' });
      expect(made).toMatchObject({ name: 'projects/w/webhooks/a', startEventId: head });
      expect(
        await webhooks.createWebhook({ ...base, name: 'projects/w/webhooks/a', parent: 'projects/w' }),
      ).toBeUndefined();
      await webhooks.createWebhook({
        ...base,
        name: 'projects/w/webhooks/b',
        parent: 'projects/w',
        events: ['done', 'cancel_requested'],
      });
      await webhooks.createWebhook({ ...base, name: 'projects/v/webhooks/c', parent: 'projects/v' });
      await webhooks.createWebhook({ ...base, name: 'webhooks/top', parent: '' });
      expect(await webhooks.getWebhook('projects/w/webhooks/b')).toMatchObject({
        events: ['done', 'cancel_requested'],
      });
      const names = (list: { name: string }[]) => list.map((w) => w.name);
      expect(names(await webhooks.listWebhooks('projects/w', 10))).toEqual([
        'projects/w/webhooks/a',
        'projects/w/webhooks/b',
      ]);
      expect(names(await webhooks.listWebhooks('projects/w', 1, 'projects/w/webhooks/a'))).toEqual([
        'projects/w/webhooks/b',
      ]);
      expect(names(await webhooks.listWebhooks('projects/-', 10))).toEqual([
        'projects/v/webhooks/c',
        'projects/w/webhooks/a',
        'projects/w/webhooks/b',
      ]);
      expect(names(await webhooks.listWebhooks('', 10))).toEqual(['webhooks/top']);
      const updated = await webhooks.updateWebhook('projects/w/webhooks/a', {
        uri: 'http://x/z',
        filter: 'done = true',
        events: ['cancel_requested'],
        secret: 't'.repeat(20),
        updateTime: 2,
      });
      expect(updated).toMatchObject({
        uri: 'http://x/z',
        filter: 'done = true',
        events: ['cancel_requested'],
        updateTime: 2,
        createTime: 1,
      });
      expect(await webhooks.updateWebhook('projects/w/webhooks/none', { ...base, updateTime: 3 })).toBeUndefined();
      expect(await webhooks.deleteWebhook('projects/w/webhooks/a')).toBe(true);
      expect(await webhooks.deleteWebhook('projects/w/webhooks/a')).toBe(false);
      expect(await webhooks.getWebhook('projects/w/webhooks/a')).toBeUndefined();
    });

    it('fans out idempotently, claims with a lease, records outcomes, redelivers and prunes', async () => {
      const base = {
        uri: 'http://x/y',
        filter: '',
        events: ['done' as const],
        secret: 's'.repeat(20),
        createTime: 1,
        updateTime: 1,
      };
      // No webhook yet: nothing to insert, but the cursor still reaches the head (pruning waits for it).
      await create('projects/f/operations/0');
      const none = (): NewDelivery[] => {
        throw new Error('nothing to decide without a webhook');
      };
      expect(await webhooks.fanOut(0, 100, none, false)).toEqual({
        through: await log.head(),
        inserted: 0,
        webhooks: false,
      });
      await webhooks.createWebhook({ ...base, name: 'projects/f/webhooks/w', parent: 'projects/f' });
      await create('projects/f/operations/1');
      await create('projects/f/operations/2');
      await update('projects/f/operations/1', { done: true, response: EMPTY, doneTime: Date.now() });
      await update('projects/f/operations/2', { done: true, response: EMPTY, doneTime: Date.now() });
      let counter = 0;
      const decide = (events: { id: number; type: string; record: { name: string } }[]): NewDelivery[] =>
        events.map((event) => ({
          id: `d${++counter}`,
          webhook: 'projects/f/webhooks/w',
          eventId: event.id,
          eventType: 'done',
          operation: event.record.name,
          body: `{"n":${event.id}}`,
        }));
      const head = await log.head();
      expect(await webhooks.fanOutCursor()).toBe(0);
      // A limit of one event: it gets as far as that event.
      const first = await webhooks.fanOut(0, 1, decide, false);
      expect(first.inserted).toBe(1);
      expect(first.through).toBeLessThan(head);
      const rest = await webhooks.fanOut(first.through, 100, decide, false);
      expect(rest).toEqual({ through: head, inserted: 1, webhooks: true });
      expect(await webhooks.fanOutCursor()).toBe(head);
      // Again from the start (a restart, another replica): nothing new.
      expect(await webhooks.fanOut(0, 100, decide, true)).toEqual({ through: head, inserted: 0, webhooks: true });

      const deliveries = await webhooks.listDeliveries('projects/f/webhooks/w', { limit: 10 });
      expect(deliveries.map((d) => d.id)).toEqual(['d2', 'd1']);
      expect(deliveries[0]).toMatchObject({ state: 'PENDING', attempts: 0, operation: 'projects/f/operations/2' });

      const now = Date.now();
      const claimed = await webhooks.claimDue(now, now + 10_000, 10);
      expect(claimed.map((d) => d.id).sort()).toEqual(['d1', 'd2']);
      expect(claimed[0]).toMatchObject({ uri: 'http://x/y', secret: 's'.repeat(20), leaseUntil: now + 10_000 });
      expect(await webhooks.claimDue(now, now + 10_000, 10)).toEqual([]); // Leased.
      expect(await webhooks.nextDue()).toBe(now + 10_000);
      const d1 = claimed.find((d) => d.id === 'd1')!;
      const d2 = claimed.find((d) => d.id === 'd2')!;
      const failed = {
        state: 'PENDING' as const,
        attempts: 1,
        time: now,
        nextAttemptTime: now + 500,
        lastStatus: 500,
        lastError: 'HTTP 500',
      };
      expect(await webhooks.finishAttempt('d1', now + 1, failed)).toBe(false); // Not our lease.
      expect(await webhooks.finishAttempt('d1', d1.leaseUntil, failed)).toBe(true);
      expect(await webhooks.claimDue(now, now + 10_000, 10)).toEqual([]); // Not due yet.
      expect((await webhooks.claimDue(now + 500, now + 10_000, 10)).map((d) => d.id)).toEqual(['d1']);
      await webhooks.releaseLease('d2', d2.leaseUntil);
      const succeeded = {
        state: 'SUCCEEDED' as const,
        attempts: 1,
        time: now,
        nextAttemptTime: null,
        lastStatus: 200,
        lastError: null,
      };
      const again = await webhooks.claimDue(now + 1, now + 20_000, 10);
      expect(again.map((d) => d.id)).toEqual(['d2']);
      expect(await webhooks.finishAttempt('d2', again[0]!.leaseUntil, succeeded)).toBe(true);
      expect(await webhooks.getDelivery('projects/f/webhooks/w', 'd2')).toMatchObject({
        state: 'SUCCEEDED',
        attempts: 1,
        lastStatus: 200,
        leaseUntil: null,
        nextAttemptTime: null,
      });
      expect(
        (await webhooks.listDeliveries('projects/f/webhooks/w', { state: 'SUCCEEDED', limit: 10 })).map((d) => d.id),
      ).toEqual(['d2']);
      expect(
        (await webhooks.listDeliveries('projects/f/webhooks/w', { beforeSeq: deliveries[0]!.seq, limit: 10 })).map(
          (d) => d.id,
        ),
      ).toEqual(['d1']);

      const redelivered = await webhooks.redeliver('projects/f/webhooks/w', 'd2', now + 5);
      expect(redelivered).toMatchObject({ state: 'PENDING', attempts: 0, nextAttemptTime: now + 5, leaseUntil: null });
      expect(await webhooks.redeliver('projects/f/webhooks/w', 'nope', now)).toBeUndefined();
      expect(await webhooks.redeliver('projects/f/webhooks/other', 'd2', now)).toBeUndefined();

      const d2again = (await webhooks.claimDue(now + 5, now + 30_000, 10)).find((d) => d.id === 'd2')!;
      await webhooks.finishAttempt('d2', d2again.leaseUntil, { ...succeeded, time: now - 100_000 });
      expect(await webhooks.pruneDeliveries(now - 50_000, 10)).toBe(1);
      expect(await webhooks.getDelivery('projects/f/webhooks/w', 'd2')).toBeUndefined();
      expect(await webhooks.getDelivery('projects/f/webhooks/w', 'd1')).toBeDefined();

      // Deleting the webhook takes its deliveries along.
      await webhooks.deleteWebhook('projects/f/webhooks/w');
      expect(await webhooks.getDelivery('projects/f/webhooks/w', 'd1')).toBeUndefined();
      expect(await webhooks.nextDue()).toBeUndefined();
    });
  });
}
