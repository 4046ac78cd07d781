/**
 * The store contract suite: every backend runs these same tests, unchanged, by passing its own
 * factory. A backend that needs an exception says why in its own test file, never here.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../contract/errors.js';
import { parseFilter } from '../filter/index.js';
import type { NewOperationRecord, OperationRecord, OperationStore } from './store.js';

export interface StoreHarness {
  /** A new, empty store. */
  open(): Promise<OperationStore>;
  /** The same store's data opened again (as after a restart). */
  reopen(): Promise<OperationStore>;
  /** Removes what `open` created. */
  destroy(): Promise<void>;
}

let clock = 1_700_000_000_000;

function newRecord(name: string, fields: Partial<NewOperationRecord> = {}): NewOperationRecord {
  const at = name.lastIndexOf('/operations/');
  const parent = name.startsWith('operations/') ? '' : name.slice(0, at);
  clock += 1000;
  return {
    name,
    parent,
    done: false,
    metadata: null,
    error: null,
    response: null,
    createTime: clock,
    updateTime: clock,
    doneTime: null,
    cancelRequestTime: null,
    createHash: null,
    ...fields,
  };
}

async function created(store: OperationStore, name: string, fields: Partial<NewOperationRecord> = {}) {
  const result = await store.create(newRecord(name, fields));
  if (!result.created) throw new Error(`${name} existed`);
  return result.record;
}

const names = (records: OperationRecord[]) => records.map((r) => r.name);

export function describeStoreContract(backend: string, harness: StoreHarness): void {
  describe(`store contract: ${backend}`, () => {
    let store: OperationStore;
    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(async () => {
      try {
        await store?.close();
      } finally {
        await harness.destroy();
      }
    });

    it('creates and reads back a record exactly, JSON text included', async () => {
      const metadata = '{"@type":"type.googleapis.com/x.M","big":123456789012345678901234567890,"ü":"✓ \\u0000"}';
      const record = await created(store, 'projects/p/operations/a', { metadata, createHash: 'h1' });
      expect(record.seq).toBeGreaterThan(0);
      expect(await store.get('projects/p/operations/a')).toEqual(record);
      expect((await store.get('projects/p/operations/a'))?.metadata).toBe(metadata);
      expect(await store.get('projects/p/operations/missing')).toBeUndefined();
    });

    it('refuses a second create of the same name and returns the existing record untouched', async () => {
      const first = await created(store, 'operations/x/y', { createHash: 'one' });
      const second = await store.create(newRecord('operations/x/y', { createHash: 'two', done: true }));
      expect(second).toEqual({ created: false, existing: first });
    });

    it('assigns increasing seq numbers', async () => {
      const a = await created(store, 'projects/p/operations/1');
      const b = await created(store, 'projects/q/operations/2');
      const c = await created(store, 'projects/p/operations/3');
      expect(a.seq).toBeLessThan(b.seq);
      expect(b.seq).toBeLessThan(c.seq);
    });

    it('updates by decision, and writes nothing when the decision refuses or declines', async () => {
      const record = await created(store, 'projects/p/operations/u');
      const updated = await store.update(record.name, (current) => ({
        ...current,
        done: true,
        response: '{"@type":"type.googleapis.com/google.protobuf.Empty"}',
        updateTime: current.updateTime + 5,
        doneTime: current.updateTime + 5,
      }));
      expect(updated).toMatchObject({ done: true, seq: record.seq, doneTime: record.updateTime + 5 });
      expect(await store.get(record.name)).toEqual(updated);

      await expect(
        store.update(record.name, () => {
          throw new ApiError('OPERATION_DONE', 'refused');
        }),
      ).rejects.toThrow('refused');
      expect(await store.get(record.name)).toEqual(updated);

      expect(await store.update(record.name, () => null)).toEqual(updated);
      expect(await store.update('projects/p/operations/none', () => null)).toBeUndefined();
    });

    it('loses no update when many race on one record', async () => {
      const record = await created(store, 'projects/p/operations/race', { metadata: '{"@type":"t/x.C","n":0}' });
      await Promise.all(
        Array.from({ length: 40 }, () =>
          store.update(record.name, (current) => {
            const n = (JSON.parse(current.metadata!) as { n: number }).n;
            return { ...current, metadata: JSON.stringify({ '@type': 't/x.C', n: n + 1 }) };
          }),
        ),
      );
      expect(JSON.parse((await store.get(record.name))!.metadata!)).toEqual({ '@type': 't/x.C', n: 40 });
    });

    it('deletes', async () => {
      await created(store, 'projects/p/operations/d');
      expect(await store.delete('projects/p/operations/d')).toBe(true);
      expect(await store.delete('projects/p/operations/d')).toBe(false);
      expect(await store.get('projects/p/operations/d')).toBeUndefined();
    });

    it('lists one parent, newest first, with a limit and a cursor', async () => {
      for (let i = 0; i < 5; i++) await created(store, `projects/p/operations/op${i}`);
      await created(store, 'projects/p/instances/i/operations/nested');
      await created(store, 'projects/pp/operations/other');
      await created(store, 'operations/top');
      const base = { parent: 'projects/p', filter: undefined, beforeSeq: undefined };
      const all = await store.list({ ...base, limit: 10 });
      expect(names(all)).toEqual(['op4', 'op3', 'op2', 'op1', 'op0'].map((id) => `projects/p/operations/${id}`));
      const firstTwo = await store.list({ ...base, limit: 2 });
      expect(names(firstTwo)).toEqual(names(all).slice(0, 2));
      const rest = await store.list({ ...base, limit: 10, beforeSeq: firstTwo[1]!.seq });
      expect(names(rest)).toEqual(names(all).slice(2));
      expect(names(await store.list({ ...base, parent: '', limit: 10 }))).toEqual(['operations/top']);
    });

    it('lists across collections with a "-" segment', async () => {
      await created(store, 'projects/p/instances/a/operations/1');
      await created(store, 'projects/p/instances/b/operations/2');
      await created(store, 'projects/p/instances/b/databases/d/operations/3');
      await created(store, 'projects/p/operations/4');
      await created(store, 'projects/q/instances/a/operations/5');
      const list = (parent: string) => store.list({ parent, filter: undefined, beforeSeq: undefined, limit: 10 });
      expect(names(await list('projects/p/instances/-'))).toEqual([
        'projects/p/instances/b/operations/2',
        'projects/p/instances/a/operations/1',
      ]);
      expect(names(await list('projects/-/instances/a'))).toEqual([
        'projects/q/instances/a/operations/5',
        'projects/p/instances/a/operations/1',
      ]);
      expect(names(await list('projects/-'))).toEqual(['projects/p/operations/4']);
    });

    it('lists with a filter', async () => {
      await created(store, 'projects/f/operations/running');
      await created(store, 'projects/f/operations/finished', {
        done: true,
        response: '{"@type":"type.googleapis.com/google.protobuf.Empty"}',
      });
      const filter = parseFilter('done = true');
      const listed = await store.list({ parent: 'projects/f', filter, beforeSeq: undefined, limit: 10 });
      expect(names(listed)).toEqual(['projects/f/operations/finished']);
    });

    it('finds cancel requests that are due', async () => {
      await created(store, 'projects/c/operations/a', { cancelRequestTime: 1000 });
      await created(store, 'projects/c/operations/b', { cancelRequestTime: 3000 });
      await created(store, 'projects/c/operations/done', { cancelRequestTime: 500, done: true });
      await created(store, 'projects/c/operations/none');
      expect(await store.earliestPendingCancel()).toBe(1000);
      expect(await store.cancelRequestedBefore(2000, 10)).toEqual(['projects/c/operations/a']);
      expect(await store.cancelRequestedBefore(5000, 10)).toEqual([
        'projects/c/operations/a',
        'projects/c/operations/b',
      ]);
      expect(await store.cancelRequestedBefore(5000, 1)).toHaveLength(1);
    });

    it('expires done operations in batches, oldest first', async () => {
      const done = { done: true, response: '{"@type":"type.googleapis.com/google.protobuf.Empty"}' };
      await created(store, 'projects/e/operations/old1', { ...done, doneTime: 100 });
      await created(store, 'projects/e/operations/old2', { ...done, doneTime: 200 });
      await created(store, 'projects/e/operations/recent', { ...done, doneTime: 5000 });
      await created(store, 'projects/e/operations/running');
      expect(await store.expireDone(1000, 1)).toEqual(['projects/e/operations/old1']);
      expect(await store.expireDone(1000, 10)).toEqual(['projects/e/operations/old2']);
      expect(await store.expireDone(1000, 10)).toEqual([]);
      expect(await store.get('projects/e/operations/old1')).toBeUndefined();
      expect(await store.get('projects/e/operations/recent')).toBeDefined();
      expect(await store.get('projects/e/operations/running')).toBeDefined();
    });

    it('finds pending operations created before a time', async () => {
      await created(store, 'projects/a/operations/early', { createTime: 100 });
      await created(store, 'projects/a/operations/late', { createTime: 9000 });
      await created(store, 'projects/a/operations/finished', { createTime: 50, done: true });
      expect(await store.pendingCreatedBefore(1000, 10)).toEqual(['projects/a/operations/early']);
    });

    it('counts operations by state', async () => {
      await created(store, 'projects/s/operations/r');
      await created(store, 'projects/s/operations/ok', { done: true });
      await created(store, 'projects/s/operations/ok2', { done: true, response: '{"@type":"t/x.R"}' });
      await created(store, 'projects/s/operations/bad', { done: true, error: '{"code":13,"message":"x"}' });
      await created(store, 'projects/s/operations/stop', { done: true, error: '{"code":1}' });
      expect(await store.countByState()).toEqual({ running: 1, succeeded: 2, failed: 1, cancelled: 1 });
      await store.ping();
    });

    it('keeps its data and its secrets across a reopen', async () => {
      const first = await store.secret('page-token', () => Buffer.from('first'));
      expect(await store.secret('page-token', () => Buffer.from('second'))).toEqual(first);
      const record = await created(store, 'projects/r/operations/kept');
      await store.close();
      store = await harness.reopen();
      expect(await store.secret('page-token', () => Buffer.from('third'))).toEqual(first);
      expect(await store.get(record.name)).toEqual(record);
    });
  });
}
