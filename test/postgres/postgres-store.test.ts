/** What the PostgreSQL store does beyond the shared contract: migrations, replicas, faults, notifications. */
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ApiError } from '../../packages/server/src/contract/errors.js';
import { migrate, POSTGRES_MIGRATIONS } from '../../packages/server/src/store/postgres/migrations.js';
import { PostgresStore } from '../../packages/server/src/store/postgres/postgres-store.js';
import type { NewOperationRecord, OperationStore } from '../../packages/server/src/store/store.js';
import { createSchema, describePostgres, type TestSchema, withSchema } from './database.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

function newRecord(name: string, fields: Partial<NewOperationRecord> = {}): NewOperationRecord {
  const at = name.lastIndexOf('/operations/');
  return {
    name,
    parent: name.slice(0, at),
    done: false,
    metadata: null,
    error: null,
    response: null,
    createTime: 1_700_000_000_000,
    updateTime: 1_700_000_000_000,
    doneTime: null,
    cancelRequestTime: null,
    createHash: null,
    ...fields,
  };
}

async function expectUnavailable(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).reason).toBe('STORE_UNAVAILABLE');
  expect((error as ApiError).httpStatus).toBe(503);
}

describePostgres('PostgreSQL store', () => {
  let schema: TestSchema;
  const stores: OperationStore[] = [];
  const open = async (url = schema.url, options = {}) => {
    const store = await PostgresStore.open(url, options);
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    schema = await createSchema();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await schema.drop();
  });

  it('applies each migration once when several replicas start together on a fresh schema', async () => {
    const replicas = await Promise.all(Array.from({ length: 6 }, () => open()));
    const { rows } = await schema.query<{ version: number }>('SELECT version FROM longrun_migrations ORDER BY version');
    expect(rows.map((row) => row.version)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
    const created = await replicas[0]!.create(newRecord('projects/p/operations/shared'));
    expect(created.created).toBe(true);
    expect(await replicas[5]!.get('projects/p/operations/shared')).toEqual(created.created && created.record);
  });

  it('refuses a server older than PostgreSQL 13, saying which version it found', async () => {
    const oldServer = {
      query: async () => ({ rows: [{ version: '120011', schema: 'public' }] }),
    } as unknown as pg.ClientBase;
    await expect(migrate(oldServer)).rejects.toThrow('longrun needs PostgreSQL 13 or newer; this server is 12.11');
  });

  it('refuses a database whose encoding is not UTF8', async () => {
    const latin1 = {
      query: async () => ({ rows: [{ version: '150020', schema: 'public', encoding: 'LATIN1' }] }),
    } as unknown as pg.ClientBase;
    await expect(migrate(latin1)).rejects.toThrow('longrun needs a database with UTF8 encoding; this one is LATIN1');
  });

  it('refuses a database written by a newer longrun', async () => {
    const store = await open();
    await store.close();
    await schema.query('INSERT INTO longrun_migrations (version) VALUES (99)');
    await expect(PostgresStore.open(schema.url)).rejects.toThrow(/newer longrun \(schema 99; this one knows \d+\)/);
  });

  it('says so when the schema on search_path does not exist', async () => {
    const url = withSchema(schema.url, `${schema.name}_missing`, schema.applicationName);
    await expect(PostgresStore.open(url)).rejects.toThrow(/first schema on search_path does not exist/);
  });

  it('keeps updates atomic across replicas racing on one record', async () => {
    const [a, b] = await Promise.all([open(schema.url, { poolSize: 4 }), open(schema.url, { poolSize: 4 })]);
    await a!.create(newRecord('projects/p/operations/hot', { metadata: '{"n":0}' }));
    const bump = (store: OperationStore) =>
      store.update('projects/p/operations/hot', (current) => ({
        ...current,
        metadata: JSON.stringify({ n: (JSON.parse(current.metadata!) as { n: number }).n + 1 }),
      }));
    await Promise.all(Array.from({ length: 60 }, (_, i) => bump(i % 2 ? a! : b!)));
    expect((await b!.get('projects/p/operations/hot'))?.metadata).toBe('{"n":60}');
    const { rows } = await schema.query<{ version: number }>('SELECT version FROM longrun_operations');
    expect(rows[0]?.version).toBe(60);
  });

  it('pages through records that existed before the first page exactly once while others are created', async () => {
    const store = await open();
    const before: string[] = [];
    for (let i = 0; i < 120; i++) {
      const name = `projects/page/operations/old${i}`;
      await store.create(newRecord(name));
      before.push(name);
    }
    let inserting = true;
    const writer = (async () => {
      for (let i = 0; inserting; i++) await store.create(newRecord(`projects/page/operations/new${i}`));
    })();
    const seen: string[] = [];
    let beforeSeq: number | undefined;
    for (;;) {
      const page = await store.list({ parent: 'projects/page', filter: undefined, limit: 7, beforeSeq });
      seen.push(...page.map((record) => record.name));
      if (page.length < 7) break;
      beforeSeq = page[page.length - 1]!.seq;
    }
    inserting = false;
    await writer;
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((name) => name.includes('/old')).sort()).toEqual([...before].sort());
  });

  it('announces updates and deletes on its channel, with the record when it fits', async () => {
    const store = (await open()) as PostgresStore;
    const listener = new pg.Client({ connectionString: schema.url });
    await listener.connect();
    try {
      const payloads: Record<string, unknown>[] = [];
      listener.on('notification', (message) => payloads.push(JSON.parse(message.payload!) as Record<string, unknown>));
      await listener.query(`LISTEN ${listener.escapeIdentifier(store.channel)}`);
      const name = 'projects/n/operations/a';
      await store.create(newRecord(name));
      const small = await store.update(name, (current) => ({ ...current, metadata: '{"step":1}' }));
      const big = await store.update(name, (current) => ({
        ...current,
        metadata: JSON.stringify({ pad: 'x'.repeat(9000) }),
      }));
      await store.delete(name);
      await expect.poll(() => payloads.length).toBe(3);
      expect(payloads[0]).toEqual({ o: store.origin, t: 'updated', n: name, r: small });
      expect(payloads[1]).toEqual({ o: store.origin, t: 'updated', n: name });
      expect(big?.metadata).toHaveLength(9010);
      expect(payloads[2]).toEqual({ o: store.origin, t: 'deleted', n: name });
    } finally {
      await listener.end();
    }
  });

  it('fails UNAVAILABLE while the database is unreachable, and recovers by itself when it returns', async () => {
    let proxy: TcpProxy | undefined;
    try {
      proxy = await startTcpProxy('127.0.0.1', Number(new URL(schema.url).port || 5432));
      const store = await open(proxy.via(schema.url), { connectionTimeoutMs: 1000 });
      const kept = await store.create(newRecord('projects/f/operations/kept'));
      expect(kept.created).toBe(true);

      proxy.cut();
      await expectUnavailable(store.get('projects/f/operations/kept'));
      await expectUnavailable(store.create(newRecord('projects/f/operations/during')));
      await expectUnavailable(store.update('projects/f/operations/kept', (current) => ({ ...current, done: true })));
      await expectUnavailable(store.list({ parent: 'projects/f', filter: undefined, limit: 10, beforeSeq: undefined }));
      await expectUnavailable(store.delete('projects/f/operations/kept'));
      await expectUnavailable(store.secret('page-token', () => Buffer.from('x')));

      proxy.restore();
      const back = Date.now();
      await expect
        .poll(() => store.get('projects/f/operations/kept').catch(() => undefined), { timeout: 5000, interval: 50 })
        .toEqual(kept.created && kept.record);
      expect(Date.now() - back).toBeLessThan(5000);
    } finally {
      await proxy?.close();
    }
  });

  it('fails UNAVAILABLE when the database is down from the start, and connects once it is up', async () => {
    let proxy: TcpProxy | undefined;
    try {
      proxy = await startTcpProxy('127.0.0.1', Number(new URL(schema.url).port || 5432));
      proxy.cut();
      const store = new PostgresStore(proxy.via(schema.url), { connectionTimeoutMs: 1000 });
      stores.push(store);
      await expectUnavailable(store.get('projects/f/operations/x'));
      proxy.restore();
      expect(await store.get('projects/f/operations/x')).toBeUndefined();
    } finally {
      await proxy?.close();
    }
  });

  it('carries on after the database terminates its connections', async () => {
    const store = await open();
    await store.create(newRecord('projects/t/operations/a'));
    await schema.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      schema.applicationName,
    ]);
    // Pooled connections the server ended are dropped (or, for a read, retried) instead of reused.
    expect((await store.get('projects/t/operations/a'))?.name).toBe('projects/t/operations/a');
    await expect(store.create(newRecord('projects/t/operations/b'))).resolves.toMatchObject({ created: true });
  });
});
