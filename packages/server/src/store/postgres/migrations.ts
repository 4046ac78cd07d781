/**
 * The PostgreSQL schema, as numbered migrations applied in order, each in its own transaction,
 * under an advisory lock so that replicas starting together apply each one exactly once. The table
 * `longrun_migrations` records what was applied. A migration is never edited once released: add
 * the next one.
 *
 * Everything lives in the connection's current schema (the first entry of `search_path`), so one
 * database can hold several deployments, or a test file its own schema.
 */
import type pg from 'pg';

/** The oldest PostgreSQL this store runs on (`server_version_num`): 13 (identity columns, `gen_random_uuid`-free). */
export const MIN_SERVER_VERSION_NUM = 130000;

export const POSTGRES_MIGRATIONS: readonly string[] = [
  // 1: operations and the store's secrets.
  // - JSON fields are text, not jsonb: they hold canonical proto3 JSON and must read back byte for
  //   byte; filters cast to jsonb where they look inside.
  // - Times are milliseconds since the epoch (bigint), as the store contract speaks.
  // - `name` and `parent` use the "C" collation: byte order makes the prefix range of a wildcard
  //   list correct and comparisons cheap, whatever the database's default collation.
  // - `version` counts writes: an update is a compare-and-set on (seq, version).
  `CREATE TABLE longrun_operations (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     name text COLLATE "C" NOT NULL UNIQUE,
     parent text COLLATE "C" NOT NULL,
     done boolean NOT NULL DEFAULT false,
     metadata text,
     error text,
     response text,
     create_time bigint NOT NULL,
     update_time bigint NOT NULL,
     done_time bigint,
     cancel_request_time bigint,
     create_hash text,
     version integer NOT NULL DEFAULT 0
   );
   CREATE INDEX longrun_operations_by_parent ON longrun_operations (parent, seq);
   CREATE INDEX longrun_operations_by_parent_done ON longrun_operations (parent, done, seq);
   CREATE INDEX longrun_operations_pending_cancel ON longrun_operations (cancel_request_time)
     WHERE NOT done AND cancel_request_time IS NOT NULL;
   CREATE TABLE longrun_secrets (key text PRIMARY KEY, value bytea NOT NULL);`,
];

/** Thrown when the database cannot hold this store (too old, or written by a newer longrun). */
export class PostgresSchemaError extends Error {
  override readonly name = 'PostgresSchemaError';
}

/**
 * Checks the server version, then applies the migrations this database lacks. Holds a
 * session-level advisory lock (keyed by the schema) throughout: a replica that starts while
 * another migrates waits, then finds nothing left to do.
 */
export async function migrate(
  client: pg.ClientBase,
  migrations: readonly string[] = POSTGRES_MIGRATIONS,
): Promise<void> {
  const { rows } = await client.query<{ version: string; schema: string | null }>(
    `SELECT current_setting('server_version_num') AS version, current_schema() AS schema`,
  );
  const version = Number(rows[0]!.version);
  if (!(version >= MIN_SERVER_VERSION_NUM)) {
    throw new PostgresSchemaError(
      `longrun needs PostgreSQL ${MIN_SERVER_VERSION_NUM / 10000} or newer; this server is ${formatVersion(version)}`,
    );
  }
  if (rows[0]!.schema === null) {
    throw new PostgresSchemaError(
      'No schema to create longrun tables in: the first schema on search_path does not exist (create it first)',
    );
  }
  await client.query(`SELECT pg_advisory_lock(hashtext('longrun.migrate'), hashtext(current_schema()))`);
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS longrun_migrations (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const applied = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM longrun_migrations',
    );
    const current = applied.rows[0]?.version ?? 0;
    if (current > migrations.length) {
      throw new PostgresSchemaError(
        `The database was written by a newer longrun (schema ${current}; this one knows ${migrations.length})`,
      );
    }
    for (let next = current; next < migrations.length; next++) {
      await client.query('BEGIN');
      try {
        await client.query(migrations[next]!);
        await client.query('INSERT INTO longrun_migrations (version) VALUES ($1)', [next + 1]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    }
  } finally {
    await client
      .query(`SELECT pg_advisory_unlock(hashtext('longrun.migrate'), hashtext(current_schema()))`)
      .catch(() => {});
  }
}

function formatVersion(num: number): string {
  if (!Number.isFinite(num)) return 'of unknown version';
  return num >= 100000
    ? `${Math.floor(num / 10000)}.${num % 10000}`
    : `${Math.floor(num / 10000)}.${Math.floor(num / 100) % 100}`;
}
