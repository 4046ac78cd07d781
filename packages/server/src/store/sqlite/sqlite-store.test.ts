import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { describeStoreContract } from '../store.contract.js';
import type { NewOperationRecord } from '../store.js';
import { RecordCache, SqliteStore } from './sqlite-store.js';

let dir: string | undefined;

function harness(options: ConstructorParameters<typeof SqliteStore>[1]) {
  return {
    async open() {
      dir = mkdtempSync(join(tmpdir(), 'longrun-sqlite-'));
      return new SqliteStore(join(dir, 'store.db'), options);
    },
    async reopen() {
      return new SqliteStore(join(dir!, 'store.db'), options);
    },
    async destroy() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeStoreContract('sqlite', harness({}));
// A cache of a few hundred records, which the larger tests of the contract overflow.
describeStoreContract('sqlite, small cache', harness({ cacheBytes: 100_000 }));
describeStoreContract('sqlite, no cache', harness({ cacheBytes: 0 }));

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function newRecord(name: string, metadata: string): NewOperationRecord {
  return {
    name,
    parent: 'projects/c',
    done: false,
    metadata,
    error: null,
    response: null,
    createTime: 1,
    updateTime: 1,
    doneTime: null,
    cancelRequestTime: null,
    createHash: null,
  };
}

describe('the record cache', () => {
  const record = (i: number) => ({ ...newRecord(`projects/c/operations/r${i}`, '{"@type":"t/x.M"}'), seq: i });

  it('keeps what was used recently, drops what was not, and never holds more than its budget', () => {
    // About 310 bytes a record here: a budget of 100,000 holds some 320, in two generations.
    const cache = new RecordCache(100_000);
    const kept = (upTo: number) =>
      Array.from({ length: upTo }, (_, i) => i).filter((i) => cache.get(record(i).name) !== undefined);
    for (let i = 0; i < 1000; i++) cache.set(record(i).name, record(i));
    const first = kept(1000);
    expect(first.length).toBeGreaterThan(150);
    expect(first.length).toBeLessThanOrEqual(330);
    expect(first).toContain(999);
    // 400 new records push out every one of those but one that keeps being read.
    const survivor = first[0]!;
    for (let i = 1000; i < 1400; i++) {
      cache.set(record(i).name, record(i));
      if (i % 50 === 0) expect(cache.get(record(survivor).name)).toBeDefined();
    }
    expect(cache.get(record(first[1]!).name)).toBeUndefined();
    expect(kept(1400).length).toBeLessThanOrEqual(330);
  });

  it('forgets a deleted record and everything on clear', () => {
    const cache = new RecordCache(100_000);
    cache.set(record(1).name, record(1));
    cache.set(record(2).name, record(2));
    cache.set(record(1).name, undefined);
    expect(cache.get(record(1).name)).toBeUndefined();
    expect(cache.get(record(2).name)).toBeDefined();
    cache.clear();
    expect(cache.get(record(2).name)).toBeUndefined();
  });
});

describe('sqlite store: the cache of recent operations', () => {
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A store on a new file, closed after the test. */
  function openStore(): { store: SqliteStore; file: string } {
    dir = mkdtempSync(join(tmpdir(), 'longrun-sqlite-'));
    const file = join(dir, 'store.db');
    const store = new SqliteStore(file);
    stores.push(store);
    return { store, file };
  }

  it('answers what another process wrote to the same file, from the next turn of the event loop on', async () => {
    const { store, file } = openStore();
    const name = 'projects/c/operations/shared';
    await store.create(newRecord(name, '{"@type":"type.googleapis.com/x.M","step":1}'));
    expect((await store.get(name))?.metadata).toContain('"step":1');

    const other = new Database(file);
    try {
      other
        .prepare('UPDATE operations SET metadata = ?, done = 1 WHERE name = ?')
        .run('{"@type":"type.googleapis.com/x.M","step":2}', name);
      await nextTurn();
      const read = await store.get(name);
      expect(read?.metadata).toContain('"step":2');
      expect(read?.done).toBe(true);

      other.prepare('DELETE FROM operations WHERE name = ?').run(name);
      await nextTurn();
      expect(await store.get(name)).toBeUndefined();
    } finally {
      other.close();
    }
  });

  it('decides an update on what another process wrote, even when the record is cached', async () => {
    const { store, file } = openStore();
    const name = 'projects/c/operations/decided';
    await store.create(newRecord(name, '{"@type":"type.googleapis.com/x.M","step":1}'));
    await store.get(name);
    const other = new Database(file);
    try {
      other
        .prepare('UPDATE operations SET metadata = ? WHERE name = ?')
        .run('{"@type":"type.googleapis.com/x.M","step":2}', name);
    } finally {
      other.close();
    }
    let seen: string | null = null;
    await store.update(name, (current) => {
      seen = current.metadata;
      return null;
    });
    expect(seen).toContain('"step":2');
  });

  it('decides a write on the writes before it in the same group commit', async () => {
    const { store } = openStore();
    const name = 'projects/c/operations/grouped';
    await store.create(newRecord(name, '{"@type":"type.googleapis.com/x.M","step":0}'));
    await store.get(name);
    // Three increments in one turn share one transaction; each must see the one before it.
    const step = (current: { metadata: string | null }) => {
      const n = Number(/"step":(\d+)/.exec(current.metadata ?? '')?.[1]);
      return { ...newRecord(name, `{"@type":"type.googleapis.com/x.M","step":${n + 1}}`), updateTime: 2 };
    };
    await Promise.all([store.update(name, step), store.update(name, step), store.update(name, step)]);
    expect((await store.get(name))?.metadata).toContain('"step":3');
    await store.delete(name);
    const [, recreated] = await Promise.all([
      store.update(name, step),
      store.create(newRecord(name, '{"@type":"type.googleapis.com/x.M","step":10}')),
    ]);
    expect(recreated.created).toBe(true);
    expect((await store.get(name))?.metadata).toContain('"step":10');
  });

  it('copies the WAL into the database file in the background, with no write waiting for it', async () => {
    const { store, file } = openStore();
    const before = statSync(file).size;
    const big = `{"@type":"type.googleapis.com/x.M","pad":"${'x'.repeat(2000)}"}`;
    // Some 400 pages: below the threshold at which the server's own connection would checkpoint.
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => store.create(newRecord(`projects/c/operations/w${i}`, big))),
    );
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(300 * 2000);
    for (let i = 0; i < 100 && statSync(file).size < before + 300 * 2000; i++) await sleep(50);
    expect(statSync(file).size).toBeGreaterThan(before + 300 * 2000);
  });

  it('lets a program whose last work is closing the store end normally (the checkpoint worker included)', () => {
    dir = mkdtempSync(join(tmpdir(), 'longrun-sqlite-'));
    // The built module, in a process of its own: what a script using the store runs.
    const built = new URL('../../../dist/store/sqlite/sqlite-store.js', import.meta.url).href;
    const script = `import { SqliteStore } from ${JSON.stringify(built)};
      const store = new SqliteStore(${JSON.stringify(join(dir, 'store.db'))});
      await store.close();
      console.log('closed');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('closed\n');
    expect(child.status).toBe(0);
  });

  it('keeps the committed state when the group commit a write joined fails', async () => {
    const { store } = openStore();
    const name = 'projects/c/operations/refused';
    await store.create(newRecord(name, '{"@type":"type.googleapis.com/x.M","step":1}'));
    await store.get(name);
    // Both writes join one group commit; the first changes the record, the second is refused.
    const [changed, refused] = await Promise.allSettled([
      store.update(name, (current) => ({ ...current, metadata: '{"@type":"type.googleapis.com/x.M","step":2}' })),
      store.update(name, () => {
        throw new Error('not an ApiError: the whole group fails');
      }),
    ]);
    expect(changed.status).toBe('rejected');
    expect(refused.status).toBe('rejected');
    expect((await store.get(name))?.metadata).toContain('"step":1');
  });
});
