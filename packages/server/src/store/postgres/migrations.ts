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

  // 2: functions for AIP-160 filters (see postgres-dialect.ts), over the JSON text as stored.
  // - longrun_filter_json: the text as json (not jsonb: json keeps each number as written, which
  //   decides how it compares). PostgreSQL text cannot hold U+0000, so inside strings and keys
  //   U+0000 becomes U+0001 U+0001 and U+0001 becomes U+0001 U+0002: an encoding that keeps
  //   equality and code point order (filter values are encoded the same way). Escaped backslashes
  //   are rewritten as \u005c first, so that only real escapes are replaced. chr(92) is a backslash.
  // - longrun_json_values: a member's values: itself, or when it is an array its elements at any depth.
  // - longrun_json_number: a JSON number as the filter compares it: exact when written as an
  //   integer that fits 64 bits, otherwise the nearest double (±1e400 standing for ±infinity).
  // - longrun_double_value: the exact decimal value of a double, from its bits.
  `CREATE FUNCTION longrun_filter_json(document text) RETURNS json
     LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
     AS $$
       SELECT (CASE WHEN strpos(document, chr(92) || 'u000') = 0 THEN document
         ELSE replace(replace(replace(document,
           chr(92) || chr(92), chr(92) || 'u005c'),
           chr(92) || 'u0001', chr(92) || 'u0001' || chr(92) || 'u0002'),
           chr(92) || 'u0000', chr(92) || 'u0001' || chr(92) || 'u0001')
       END)::json
     $$;
   CREATE FUNCTION longrun_json_values(member json) RETURNS SETOF json
     LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
     AS $$
       WITH RECURSIVE flat(value) AS (
         SELECT member
         UNION ALL
         SELECT element FROM flat, json_array_elements(CASE WHEN json_typeof(flat.value) = 'array' THEN flat.value END)
           AS element
       )
       SELECT value FROM flat WHERE json_typeof(value) <> 'array'
     $$;
   CREATE FUNCTION longrun_double_value(d float8) RETURNS numeric
     LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
     AS $$
       SELECT CASE WHEN bits < 0 THEN -1 ELSE 1 END * CASE
           WHEN e >= 0 THEN m * power(2::numeric, e)
           -- m / 2^k = m * 5^k / 10^k: the digits of m * 5^k with the point k places from the right.
           ELSE (SELECT (left(digits, e) || '.' || right(digits, -e))::numeric
                 FROM (SELECT lpad(trunc(m * power(5::numeric, -e))::text, 1 - e, '0') AS digits) AS d)
         END
       FROM (SELECT bits,
               CASE WHEN exponent = 0 THEN fraction ELSE fraction + 4503599627370496 END::numeric AS m,
               (CASE WHEN exponent = 0 THEN -1074 ELSE exponent - 1075 END)::integer AS e
             FROM (SELECT bits, (bits >> 52) & 2047 AS exponent, bits & 4503599627370495 AS fraction
                   FROM (SELECT ('x' || encode(float8send(d), 'hex'))::bit(64)::bigint AS bits) AS b) AS p) AS q
     $$;
   CREATE FUNCTION longrun_json_number(raw text) RETURNS numeric
     LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
     AS $$
       SELECT CASE
         WHEN raw ~ '^-?[0-9]+$' AND raw::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN raw::numeric
         -- At or past the midpoint between the largest double and 2^1024: infinity.
         WHEN abs(raw::numeric) >= power(2::numeric, 1024) - power(2::numeric, 970) THEN sign(raw::numeric) * 1e400
         -- At or below half the smallest subnormal: zero.
         WHEN abs(raw::numeric) * power(2::numeric, 1075) <= 1 THEN 0
         ELSE longrun_double_value(raw::numeric::float8)
       END
     $$;`,

  // 3: retention finds expired done operations and overdue pending ones without a scan.
  `CREATE INDEX longrun_operations_done_time ON longrun_operations (done_time) WHERE done;
   CREATE INDEX longrun_operations_pending_create ON longrun_operations (create_time) WHERE NOT done;`,

  // 4: the event log behind watch streams and webhooks (packages/server/src/watch/, webhooks/).
  // - A trigger appends to longrun_operation_events in the transaction of each write to
  //   longrun_operations: a change is logged if and only if it commits. Ids come from an identity
  //   sequence; readers stop at the first id not yet visible (postgres-event-log.ts explains why
  //   that is exact).
  // - Each row is a snapshot of the operation after the change (for 'deleted', as it was last).
  // - One update may append two rows, in this order: 'cancel_requested' then 'done' (a cancel with
  //   no grace period); 'progress' is any other change of metadata.
  // - longrun_push_state: how far the log was pruned and how far webhook deliveries were fanned out.
  `CREATE TABLE longrun_operation_events (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     time bigint NOT NULL,
     type text NOT NULL,
     name text COLLATE "C" NOT NULL,
     parent text COLLATE "C" NOT NULL,
     done boolean NOT NULL,
     metadata text,
     error text,
     response text,
     create_time bigint NOT NULL,
     update_time bigint NOT NULL,
     done_time bigint,
     cancel_request_time bigint
   );
   CREATE INDEX longrun_operation_events_by_name ON longrun_operation_events (name, id);
   CREATE INDEX longrun_operation_events_by_parent ON longrun_operation_events (parent, id);
   CREATE FUNCTION longrun_log_operation_event() RETURNS trigger
     LANGUAGE plpgsql
     AS $$
     BEGIN
       IF TG_OP = 'INSERT' THEN
         INSERT INTO longrun_operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time,
           cancel_request_time)
         VALUES (NEW.update_time, 'created', NEW.name, NEW.parent, NEW.done, NEW.metadata, NEW.error,
           NEW.response, NEW.create_time, NEW.update_time, NEW.done_time, NEW.cancel_request_time);
         IF NEW.done THEN
           INSERT INTO longrun_operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time,
           cancel_request_time)
         VALUES (NEW.update_time, 'done', NEW.name, NEW.parent, NEW.done, NEW.metadata, NEW.error,
           NEW.response, NEW.create_time, NEW.update_time, NEW.done_time, NEW.cancel_request_time);
         END IF;
       ELSIF TG_OP = 'UPDATE' THEN
         IF OLD.cancel_request_time IS NULL AND NEW.cancel_request_time IS NOT NULL THEN
           INSERT INTO longrun_operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time,
           cancel_request_time)
         VALUES (NEW.update_time, 'cancel_requested', NEW.name, NEW.parent, NEW.done, NEW.metadata, NEW.error,
           NEW.response, NEW.create_time, NEW.update_time, NEW.done_time, NEW.cancel_request_time);
         END IF;
         IF NOT OLD.done AND NEW.done THEN
           INSERT INTO longrun_operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time,
           cancel_request_time)
         VALUES (NEW.update_time, 'done', NEW.name, NEW.parent, NEW.done, NEW.metadata, NEW.error,
           NEW.response, NEW.create_time, NEW.update_time, NEW.done_time, NEW.cancel_request_time);
         ELSIF OLD.done = NEW.done AND NOT (OLD.cancel_request_time IS NULL AND NEW.cancel_request_time IS NOT NULL)
           AND NEW.metadata IS DISTINCT FROM OLD.metadata THEN
           INSERT INTO longrun_operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time,
           cancel_request_time)
         VALUES (NEW.update_time, 'progress', NEW.name, NEW.parent, NEW.done, NEW.metadata, NEW.error,
           NEW.response, NEW.create_time, NEW.update_time, NEW.done_time, NEW.cancel_request_time);
         END IF;
       ELSE
         INSERT INTO longrun_operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time,
           cancel_request_time)
         VALUES ((extract(epoch FROM clock_timestamp()) * 1000)::bigint, 'deleted', OLD.name, OLD.parent, OLD.done, OLD.metadata, OLD.error,
           OLD.response, OLD.create_time, OLD.update_time, OLD.done_time, OLD.cancel_request_time);
       END IF;
       RETURN NULL;
     END
     $$;
   CREATE TRIGGER longrun_operation_events AFTER INSERT OR UPDATE OR DELETE ON longrun_operations
     FOR EACH ROW EXECUTE FUNCTION longrun_log_operation_event();
   CREATE TABLE longrun_push_state (key text PRIMARY KEY, value bigint NOT NULL);
   INSERT INTO longrun_push_state (key, value) VALUES ('events_pruned_through', 0), ('webhooks_fanned_out_through', 0);
   CREATE TABLE longrun_webhooks (
     name text COLLATE "C" PRIMARY KEY,
     parent text COLLATE "C" NOT NULL,
     uri text NOT NULL,
     filter text NOT NULL,
     events text NOT NULL,
     secret text NOT NULL,
     create_time bigint NOT NULL,
     update_time bigint NOT NULL,
     start_event_id bigint NOT NULL
   );
   CREATE INDEX longrun_webhooks_by_parent ON longrun_webhooks (parent, name);
   CREATE TABLE longrun_webhook_deliveries (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     id text NOT NULL UNIQUE,
     webhook text COLLATE "C" NOT NULL REFERENCES longrun_webhooks (name) ON DELETE CASCADE,
     event_id bigint NOT NULL,
     event_type text NOT NULL,
     operation text NOT NULL,
     body text NOT NULL,
     state text NOT NULL,
     attempts integer NOT NULL DEFAULT 0,
     next_attempt_time bigint,
     lease_until bigint,
     last_attempt_time bigint,
     last_status integer,
     last_error text,
     create_time bigint NOT NULL,
     update_time bigint NOT NULL,
     UNIQUE (webhook, event_id)
   );
   CREATE INDEX longrun_webhook_deliveries_due ON longrun_webhook_deliveries (next_attempt_time)
     WHERE state = 'PENDING';
   CREATE INDEX longrun_webhook_deliveries_by_webhook ON longrun_webhook_deliveries (webhook, seq);
   CREATE INDEX longrun_webhook_deliveries_finished ON longrun_webhook_deliveries (update_time)
     WHERE state <> 'PENDING';`,

  // 5: one operation's events are read through its parent's index (name and parent together), so
  // every logged event maintains one index fewer.
  `DROP INDEX longrun_operation_events_by_name;`,

  // 6: the store's statements append events themselves, in the statement of each write
  // (store/change-events.ts decides which): a row trigger in PL/pgSQL cost more than the insert.
  `DROP TRIGGER longrun_operation_events ON longrun_operations;
   DROP FUNCTION longrun_log_operation_event();`,
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
  const { rows } = await client.query<{ version: string; schema: string | null; encoding: string }>(
    `SELECT current_setting('server_version_num') AS version, current_schema() AS schema,
       current_setting('server_encoding') AS encoding`,
  );
  const version = Number(rows[0]!.version);
  if (!(version >= MIN_SERVER_VERSION_NUM)) {
    throw new PostgresSchemaError(
      `longrun needs PostgreSQL ${MIN_SERVER_VERSION_NUM / 10000} or newer; this server is ${formatVersion(version)}`,
    );
  }
  // Filters compare text byte by byte as code points, and JSON text must hold any character.
  if (rows[0]!.encoding !== 'UTF8') {
    throw new PostgresSchemaError(
      `longrun needs a database with UTF8 encoding; this one is ${rows[0]!.encoding} (CREATE DATABASE … ENCODING 'UTF8')`,
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
