/**
 * The tailer at rest: with nobody watching, writes do not read the log, and watchers that come
 * after a rest still get every event after their start, once each, in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventHub } from '../events/event-hub.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { OperationRecord } from '../store/store.js';
import type { EventLog, LoggedEvent } from './event-log.js';
import { counting, record } from './push.contract.js';
import { openPushBackend } from './push.js';
import { WatchHub } from './watch-hub.js';

let dir: string;
let store: SqliteStore;
let log: EventLog;
let heads: () => number;
let events: EventHub;
let hub: WatchHub;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'longrun-hub-'));
  store = new SqliteStore(join(dir, 'store.db'));
  ({ object: log, calls: heads } = counting(openPushBackend(store)!.log, 'head'));
  events = new EventHub();
  // A long poll: in these tests only writes wake the tailer.
  hub = new WatchHub(log, events, { pollIntervalMs: 60_000 });
  await hub.start();
});

afterEach(async () => {
  hub.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Creates an operation as the service does: the write, then the local announcement. */
async function write(id: string): Promise<OperationRecord> {
  const result = await store.create(record(`projects/p/operations/${id}`));
  if (!result.created) throw new Error(`${id} existed`);
  events.publish({ type: 'created', name: result.record.name, record: result.record });
  return result.record;
}

function watcher(from: number) {
  const seen: LoggedEvent[] = [];
  const stop = hub.watch({ parent: 'projects/p' }, from, {
    deliver: (event) => seen.push(event),
    drained: async () => true,
    fail: (error) => {
      throw error;
    },
  });
  return { seen, stop, ids: () => seen.map((event) => event.record.name.split('/').pop()) };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('WatchHub with nobody watching', () => {
  it('does not read the log on writes', async () => {
    const before = heads();
    for (let i = 0; i < 20; i++) {
      await write(`a${i}`);
      await turn();
    }
    expect(heads()).toBe(before);
  });

  it('hands a watcher that comes after a rest every event after its start, once each, in order', async () => {
    for (let i = 0; i < 5; i++) await write(`early${i}`);
    const start = await log.head();
    for (let i = 0; i < 5; i++) await write(`rest${i}`);
    const fromStart = watcher(start);
    const fromNow = watcher(await log.head());
    await vi.waitFor(() => expect(fromStart.seen).toHaveLength(5));
    for (let i = 0; i < 5; i++) await write(`live${i}`);
    const live = ['live0', 'live1', 'live2', 'live3', 'live4'];
    await vi.waitFor(() => expect(fromNow.ids()).toEqual(live));
    await vi.waitFor(() => expect(fromStart.seen).toHaveLength(10));
    expect(fromStart.ids()).toEqual(['rest0', 'rest1', 'rest2', 'rest3', 'rest4', ...live]);
    const ids = fromStart.seen.map((event) => event.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    fromStart.stop();
    fromNow.stop();
  });

  it('loses nothing for watchers that arrive together while writes go on', async () => {
    await write('before');
    const start = await log.head();
    const writing = (async () => {
      for (let i = 0; i < 30; i++) await write(`w${String(i).padStart(2, '0')}`);
    })();
    const watchers = [watcher(start), watcher(start), watcher(start)];
    await writing;
    const expected = Array.from({ length: 30 }, (_, i) => `w${String(i).padStart(2, '0')}`);
    for (const w of watchers) await vi.waitFor(() => expect(w.ids()).toEqual(expected));
    for (const w of watchers) w.stop();
  });
});
