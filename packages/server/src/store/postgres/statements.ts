/**
 * The PostgreSQL store's statements: one parameterised statement per purpose, each headed by what
 * it does and its parameters. Fixed statements run as named prepared statements (parsed and
 * planned once per connection); only `list` is assembled per request, from fixed pieces and the
 * filter's compiled SQL, with every value a parameter.
 */

/** A named prepared statement. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/** The columns of an event row after its id, time and type: the operation's snapshot (as in logEvents). */
const EVENT_SNAPSHOT = `name, parent, done, metadata, error, response, create_time, update_time, done_time,
  cancel_request_time`;

/**
 * Appends events to the log from the rows of a data-modifying CTE `source` (its RETURNING list holds
 * EVENT_SNAPSHOT), in the statement of the write itself: a change is logged if and only if it
 * commits. `types` is an SQL expression giving each source row's event types, in order (decided by
 * store/change-events.ts and passed as a parameter); `time` the event time.
 */
function logEvents(source: string, types: string, time: string, order: string): string {
  return `INSERT INTO longrun_operation_events (time, type, ${EVENT_SNAPSHOT})
    SELECT ${time}, event.type, s.name, s.parent, s.done, s.metadata, s.error, s.response, s.create_time,
      s.update_time, s.done_time, s.cancel_request_time
    FROM ${source} s CROSS JOIN LATERAL unnest(${types}) WITH ORDINALITY AS event(type, position)
    ORDER BY ${order}, event.position`;
}

/** The columns a record is read from, in `OperationRecord` order, then the write counter. */
export const COLUMNS = `seq, name, parent, done, metadata, error, response, create_time, update_time, done_time,
  cancel_request_time, create_hash, version`;

/**
 * Inserts an operation unless its name exists, and logs its events, in one round trip.
 * Parameters: $1 name, $2 parent, $3 done, $4 metadata, $5 error, $6 response, $7 create_time,
 * $8 update_time, $9 done_time, $10 cancel_request_time, $11 create_hash, $12 text[] the events a
 * create logs.
 * Returns one row: `created` true with the new `seq`, or `created` false with the existing record's
 * columns. No row means the name was taken by a transaction that committed after this statement's
 * snapshot: read it with GET_OPERATION.
 */
export const CREATE_OPERATION: Statement = {
  name: 'longrun_create_operation',
  text: `WITH inserted AS (
    INSERT INTO longrun_operations (name, parent, done, metadata, error, response, create_time, update_time, done_time,
      cancel_request_time, create_hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (name) DO NOTHING
    RETURNING seq, ${EVENT_SNAPSHOT}
  ), logged AS (
    ${logEvents('inserted', '$12::text[]', 's.update_time', 's.seq')}
  )
  SELECT true AS created, seq, NULL::text AS name, NULL::text AS parent, NULL::boolean AS done, NULL::text AS metadata,
    NULL::text AS error, NULL::text AS response, NULL::bigint AS create_time, NULL::bigint AS update_time,
    NULL::bigint AS done_time, NULL::bigint AS cancel_request_time, NULL::text AS create_hash, NULL::integer AS version
  FROM inserted
  UNION ALL
  SELECT false AS created, ${COLUMNS} FROM longrun_operations
  WHERE name = $1 AND NOT EXISTS (SELECT FROM inserted)`,
};

/**
 * Inserts several operations in one statement (and one commit), and logs their events: concurrent
 * creates are batched. A name that exists, or that appears twice in the batch, is skipped.
 * Parameters: arrays, one element per operation, in the order of CREATE_OPERATION's parameters:
 * $1 text[] names … $11 text[] create hashes, $12 text[] each create's events, comma-separated.
 * Returns a row (`name`, `seq`) for each operation inserted; seq follows the batch's order.
 */
export const CREATE_OPERATIONS: Statement = {
  name: 'longrun_create_operations',
  text: `WITH batch AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::text[], $6::text[], $7::bigint[],
      $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[]) WITH ORDINALITY
      AS batch(name, parent, done, metadata, error, response, create_time, update_time, done_time, cancel_request_time,
        create_hash, events, position)
  ), inserted AS (
    INSERT INTO longrun_operations (name, parent, done, metadata, error, response, create_time, update_time, done_time,
      cancel_request_time, create_hash)
    SELECT name, parent, done, metadata, error, response, create_time, update_time, done_time, cancel_request_time,
      create_hash
    FROM batch ORDER BY position
    ON CONFLICT (name) DO NOTHING
    RETURNING seq, ${EVENT_SNAPSHOT}
  ), created AS (
    -- A name twice in the batch is inserted from its first occurrence.
    SELECT inserted.*, first.events FROM inserted
    JOIN (SELECT DISTINCT ON (name) name, events FROM batch ORDER BY name, position) AS first USING (name)
  ), logged AS (
    ${logEvents('created', "string_to_array(s.events, ',')", 's.update_time', 's.seq')}
  )
  SELECT name, seq FROM inserted`,
};

/**
 * One operation by name.
 * Parameters: $1 name. Returns zero or one row of COLUMNS.
 */
export const GET_OPERATION: Statement = {
  name: 'longrun_get_operation',
  text: `SELECT ${COLUMNS} FROM longrun_operations WHERE name = $1`,
};

/**
 * One operation by name, locked until the transaction ends: the fallback when compare-and-set
 * updates of one record keep colliding.
 * Parameters: $1 name. Returns zero or one row of COLUMNS.
 */
export const LOCK_OPERATION: Statement = {
  name: 'longrun_lock_operation',
  text: `SELECT ${COLUMNS} FROM longrun_operations WHERE name = $1 FOR UPDATE`,
};

/**
 * Writes an update if the record is still the one that was read (same seq, same version), and logs
 * its events.
 * Parameters: $1 seq, $2 version read, $3 done, $4 metadata, $5 error, $6 response, $7 update_time,
 * $8 done_time, $9 cancel_request_time, $10 text[] the events the change logs.
 * Returns one row: `written`, 1, or 0 when the record changed or went away meanwhile.
 */
export const UPDATE_OPERATION: Statement = {
  name: 'longrun_update_operation',
  text: `WITH updated AS (
    UPDATE longrun_operations SET done = $3, metadata = $4, error = $5, response = $6, update_time = $7, done_time = $8,
      cancel_request_time = $9, version = version + 1
    WHERE seq = $1 AND version = $2
    RETURNING seq, ${EVENT_SNAPSHOT}
  ), logged AS (
    ${logEvents('updated', '$10::text[]', 's.update_time', 's.seq')}
  )
  SELECT count(*)::int AS written FROM updated`,
};

/**
 * Deletes an operation by name, and logs its events (the record as it was last).
 * Parameters: $1 name, $2 text[] the events a delete logs, $3 the time (ms).
 * Returns one row: `deleted`, 1 or 0.
 */
export const DELETE_OPERATION: Statement = {
  name: 'longrun_delete_operation',
  text: `WITH deleted AS (
    DELETE FROM longrun_operations WHERE name = $1 RETURNING seq, ${EVENT_SNAPSHOT}
  ), logged AS (
    ${logEvents('deleted', '$2::text[]', '$3::bigint', 's.seq')}
  )
  SELECT count(*)::int AS deleted FROM deleted`,
};

/**
 * Announces changes to listeners (other replicas), in a transaction of its own: NOTIFY inside the
 * writing transaction would hold PostgreSQL's notification lock through that transaction's WAL
 * flush, and so serialize every notifying commit in the database.
 * Parameters: $1 channel, $2 text[] payloads. Returns one row per payload.
 */
export const NOTIFY: Statement = {
  name: 'longrun_notify',
  text: 'SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload',
};

/**
 * Operations in the given names (re-reading what local waiters watch, after a gap in notifications).
 * Parameters: $1 text[] of names. Returns rows of COLUMNS.
 */
export const GET_OPERATIONS: Statement = {
  name: 'longrun_get_operations',
  text: `SELECT ${COLUMNS} FROM longrun_operations WHERE name = ANY($1::text[])`,
};

/**
 * Names of operations not done whose cancel was requested at or before a time, oldest request first.
 * Parameters: $1 time (ms), $2 limit. Returns rows of `name`.
 */
export const CANCEL_REQUESTED_BEFORE: Statement = {
  name: 'longrun_cancel_requested_before',
  text: `SELECT name FROM longrun_operations
  WHERE NOT done AND cancel_request_time IS NOT NULL AND cancel_request_time <= $1
  ORDER BY cancel_request_time LIMIT $2`,
};

/**
 * The earliest cancel request among operations not done.
 * No parameters. Returns one row: `time`, NULL when there is none.
 */
export const EARLIEST_PENDING_CANCEL: Statement = {
  name: 'longrun_earliest_pending_cancel',
  text: `SELECT min(cancel_request_time) AS time FROM longrun_operations
  WHERE NOT done AND cancel_request_time IS NOT NULL`,
};

/**
 * Removes done operations that finished before a time, oldest first, skipping rows another replica
 * is removing at the same moment, and logs their events. No notification: nobody waits on a done
 * operation.
 * Parameters: $1 time (ms), $2 limit, $3 text[] the events a delete logs, $4 the time now (ms).
 * Returns rows of `name`, oldest first.
 */
export const EXPIRE_DONE: Statement = {
  name: 'longrun_expire_done',
  text: `WITH expired AS (
    DELETE FROM longrun_operations WHERE seq IN (
      SELECT seq FROM longrun_operations WHERE done AND done_time < $1 ORDER BY done_time LIMIT $2
      FOR UPDATE SKIP LOCKED
    )
    RETURNING seq, ${EVENT_SNAPSHOT}
  ), logged AS (
    ${logEvents('expired', '$3::text[]', '$4::bigint', 's.done_time, s.seq')}
  )
  SELECT name FROM expired ORDER BY done_time, seq`,
};

/**
 * Names of operations not done that were created before a time, oldest first.
 * Parameters: $1 time (ms), $2 limit. Returns rows of `name`.
 */
export const PENDING_CREATED_BEFORE: Statement = {
  name: 'longrun_pending_created_before',
  text: `SELECT name FROM longrun_operations WHERE NOT done AND create_time < $1 ORDER BY create_time LIMIT $2`,
};

/**
 * Operations by state (a full count: for metrics, not for every request). An error's code is read
 * as JSON text; a done operation whose error has no code is counted in neither failed nor cancelled.
 * No parameters. Returns one row: running, succeeded, failed, cancelled (bigint, as text).
 */
export const COUNT_BY_STATE: Statement = {
  name: 'longrun_count_by_state',
  text: `SELECT
    count(*) FILTER (WHERE NOT done) AS running,
    count(*) FILTER (WHERE done AND error IS NULL) AS succeeded,
    count(*) FILTER (WHERE done AND longrun_filter_json(error) ->> 'code' <> '1') AS failed,
    count(*) FILTER (WHERE done AND longrun_filter_json(error) ->> 'code' = '1') AS cancelled
  FROM longrun_operations`,
};

/**
 * A secret, stored with the given value the first time, in one round trip.
 * Parameters: $1 key, $2 value (bytea) to store if there is none. Returns one row of `value`, or no
 * row when another replica stored it after this statement's snapshot (run it again).
 */
export const SECRET: Statement = {
  name: 'longrun_secret',
  text: `WITH inserted AS (
    INSERT INTO longrun_secrets (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value
  )
  SELECT value FROM inserted
  UNION ALL
  SELECT value FROM longrun_secrets WHERE key = $1 AND NOT EXISTS (SELECT FROM inserted)`,
};

/**
 * The list query's fixed parts; `list` joins the conditions that apply with AND.
 * - one parent: `parent = $n`
 * - a wildcard parent: a byte range on the fixed prefix (an index range scan), then a POSIX
 *   regular expression for the rest: `parent >= $n AND parent < $n+1 AND parent ~ $n+2`
 * - the cursor: `seq < $n`
 * - the filter's compiled SQL
 * Ordered newest first, with `LIMIT $last`.
 */
export const LIST_OPERATIONS = {
  select: `SELECT ${COLUMNS} FROM longrun_operations WHERE`,
  order: 'ORDER BY seq DESC LIMIT',
} as const;
