/**
 * The event log in PostgreSQL (migration 4): each write to `longrun_operations` appends its events
 * to `longrun_operation_events` in the same statement (statements.ts); this class reads and prunes it.
 *
 * Ids come from an identity sequence, so they are handed out in the order the rows are inserted,
 * not the order their transactions commit: a reader may see id 11 while id 10 is still
 * uncommitted. Going past 10 would lose it, so readers never go past the stable head (`head()`):
 * the last id before the first gap, where a gap is an id not visible yet. A gap closes when its
 * row commits; or, when every transaction that was in progress at the moment the gap was first
 * seen has ended and the id is still missing, it is known to be permanent (a rollback) and
 * skipped. That is exact: the row for a missing id is inserted from the rows its statement
 * wrote to the operations table (a data-modifying CTE's RETURNING), so after its transaction's
 * first write: the transaction already had an xid, and was among those in progress then. Changes
 * to one operation are ordered by its row lock, so its own events commit in id order.
 */
import pg from 'pg';
import { hasWildcard, parentPattern, parseOperationName, WILDCARD } from '../contract/names.js';
import { translate } from '../store/postgres/errors.js';
import type { PostgresStore } from '../store/postgres/postgres-store.js';
import { type OperationRow, toRecord } from '../store/postgres/postgres-store.js';
import type { OperationRecord } from '../store/store.js';
import { type EventLog, type EventQuery, type EventType, eventRecord, type LoggedEvent } from './event-log.js';

const EVENT_COLUMNS = `id, time, type, name, parent, done, metadata, error, response, create_time, update_time,
  done_time, cancel_request_time`;

interface EventRow {
  id: string;
  time: string;
  type: EventType;
  name: string;
  parent: string;
  done: boolean;
  metadata: string | null;
  error: string | null;
  response: string | null;
  create_time: string;
  update_time: string;
  done_time: string | null;
  cancel_request_time: string | null;
}

const millis = (value: string | null): number | null => (value === null ? null : Number(value));

export function toLoggedEvent(row: EventRow): LoggedEvent {
  return {
    id: Number(row.id),
    time: Number(row.time),
    type: row.type,
    record: eventRecord({
      name: row.name,
      parent: row.parent,
      done: row.done,
      metadata: row.metadata,
      error: row.error,
      response: row.response,
      createTime: Number(row.create_time),
      updateTime: Number(row.update_time),
      doneTime: millis(row.done_time),
      cancelRequestTime: millis(row.cancel_request_time),
    }),
  };
}

/** The SQL condition for "under this parent" (exact, or a `-` pattern), numbering parameters from `next`. */
export function parentConditionPg(parent: string, next: number, column = 'parent'): { sql: string; params: unknown[] } {
  if (!hasWildcard(parent)) return { sql: `${column} = $${next}`, params: [parent] };
  const segments = parent.split('/');
  const prefix = `${segments.slice(0, segments.indexOf(WILDCARD)).join('/')}/`;
  return {
    sql: `${column} >= $${next} AND ${column} < $${next + 1} AND ${column} ~ $${next + 2}`,
    params: [prefix, `${prefix.slice(0, -1)}0`, parentPattern(parent).source],
  };
}

/** A small pool of its own on the store's database, for push's tables. */
export class PushPool {
  readonly #store: PostgresStore;
  readonly pool: pg.Pool;

  constructor(store: PostgresStore, size = 4) {
    this.#store = store;
    this.pool = new pg.Pool({ ...store.clientConfig, max: size, query_timeout: 10_000, idleTimeoutMillis: 30_000 });
    this.pool.on('error', () => {});
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    // The store migrates the schema (push's tables included) on first use.
    await this.#store.ready();
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw translate(error);
    }
  }

  /** Runs `work` in one transaction on one connection. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.#store.ready();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translate(error);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback;
      });
      throw translate(error);
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** How long the first head computation waits for the transactions running when it starts. */
const START_WAIT_MS = 10_000;

/** How many ids one head computation looks at. */
const HEAD_SCAN = 10_000;

/**
 * One statement, one snapshot: the ids after the stable head ($1), at most $2 of them, and who was
 * writing then. The ids are read as a range of the primary key, not as `id > $1 ORDER BY id LIMIT
 * $2`: for that form the planner, guessing that a third of the table qualifies, chose a sequential
 * scan of the whole log, so every head() read every event kept. `beyond`, the first id past the
 * range (also found through the index), shows a gap wider than the range as a gap, not as the end.
 */
export const HEAD_IDS = `SELECT
    ARRAY(SELECT id FROM longrun_operation_events WHERE id > $1 AND id <= $1 + $2 ORDER BY id)::text[] AS ids,
    (SELECT min(id) FROM longrun_operation_events WHERE id > $1 + $2) AS beyond,
    ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot()))::text[] AS xip,
    (SELECT value FROM longrun_push_state WHERE key = 'events_pruned_through') AS pruned`;

interface Gap {
  /** The first and last missing id, as first seen. */
  from: number;
  to: number;
  /** The transactions in progress when it was first seen (xid8, as text). */
  xids: string[];
  /** True once all of them ended: what is still missing then never comes. */
  permanent: boolean;
}

export class PostgresEventLog implements EventLog {
  readonly #db: PushPool;
  #stable = 0;
  #gap: Gap | undefined;
  #computing: Promise<number> | undefined;
  #started: Promise<void> | undefined;

  constructor(db: PushPool) {
    this.#db = db;
  }

  head(): Promise<number> {
    this.#computing ??= (async () => {
      this.#started ??= this.#start();
      await this.#started;
      return this.#advance();
    })().finally(() => {
      this.#computing = undefined;
    });
    return this.#computing;
  }

  /**
   * Where the stable head starts, without scanning the log: the newest id visible now, once every
   * transaction that was running then has ended. Every lower id was drawn before it, by a
   * transaction that had committed, had rolled back, or was among those running.
   */
  async #start(): Promise<void> {
    let started: { latest: string; xip: string[] } | undefined;
    try {
      const { rows } = await this.#db.query<{ latest: string; xip: string[] }>(
        `SELECT greatest(coalesce((SELECT max(id) FROM longrun_operation_events), 0),
           (SELECT value FROM longrun_push_state WHERE key = 'events_pruned_through')) AS latest,
           ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot()))::text[] AS xip`,
      );
      started = rows[0]!;
      const deadline = Date.now() + START_WAIT_MS;
      while (started.xip.length > 0 && Date.now() < deadline) {
        const { rows: ended } = await this.#db.query<{ ended: boolean | null }>(
          `SELECT bool_and(coalesce(pg_xact_status(x::xid8) <> 'in progress', true)) AS ended FROM unnest($1::text[]) AS x`,
          [started.xip],
        );
        if (ended[0]?.ended !== false) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } catch (error) {
      this.#started = undefined; // Try again at the next call.
      throw error;
    }
    // Past the deadline (a transaction running for long), start there anyway: only an event of that
    // very transaction, committed later, could be missed.
    this.#stable = Math.max(this.#stable, Number(started.latest));
  }

  async #advance(): Promise<number> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await this.#db.query<{ ids: string[]; beyond: string | null; xip: string[]; pruned: string }>(
        HEAD_IDS,
        [this.#stable, HEAD_SCAN],
      );
      const row = rows[0]!;
      if (row.beyond !== null) row.ids.push(row.beyond);
      // Pruned ids are final: they were at or below some replica's stable head.
      this.#stable = Math.max(this.#stable, Number(row.pruned));
      let expected = this.#stable + 1;
      let blocked = false;
      for (const id of row.ids.map(Number)) {
        if (id < expected) continue;
        if (id > expected) {
          const gap = this.#gap;
          if (gap?.permanent && expected >= gap.from && expected <= gap.to) {
            // Still missing after its writers ended: skip what is missing of it.
            this.#stable = Math.min(id - 1, gap.to);
            expected = this.#stable + 1;
          }
          if (id > expected) {
            if (!gap || expected < gap.from || expected > gap.to) {
              this.#gap = { from: expected, to: id - 1, xids: row.xip, permanent: false };
            }
            blocked = true;
            break;
          }
        }
        this.#stable = id;
        expected = id + 1;
      }
      if (this.#gap && this.#stable >= this.#gap.to) this.#gap = undefined;
      if (!blocked || !this.#gap || this.#gap.permanent) return this.#stable;
      const { rows: ended } = await this.#db.query<{ ended: boolean | null }>(
        `SELECT bool_and(coalesce(pg_xact_status(x::xid8) <> 'in progress', true)) AS ended FROM unnest($1::text[]) AS x`,
        [this.#gap.xids],
      );
      if (ended[0]?.ended === false) return this.#stable;
      // Its writers ended: read again (a new snapshot sees whatever they committed), then skip the rest.
      this.#gap.permanent = true;
    }
    return this.#stable;
  }

  async latest(): Promise<number> {
    const { rows } = await this.#db.query<{ latest: string }>(
      `SELECT greatest(coalesce((SELECT max(id) FROM longrun_operation_events), 0),
         (SELECT value FROM longrun_push_state WHERE key = 'events_pruned_through')) AS latest`,
    );
    return Math.max(Number(rows[0]!.latest), await this.head());
  }

  async horizon(): Promise<number> {
    const { rows } = await this.#db.query<{ value: string }>(
      `SELECT value FROM longrun_push_state WHERE key = 'events_pruned_through'`,
    );
    return Number(rows[0]!.value);
  }

  async read(query: EventQuery): Promise<LoggedEvent[]> {
    const where = ['id > $1'];
    const params: unknown[] = [query.after];
    if (query.upTo !== undefined) {
      params.push(query.upTo);
      where.push(`id <= $${params.length}`);
    }
    if (query.name !== undefined) {
      // The log is indexed by parent, not by name (migration 5).
      params.push(parseOperationName(query.name).parent, query.name);
      where.push(`parent = $${params.length - 1} AND name = $${params.length}`);
    }
    if (query.parent !== undefined) {
      const condition = parentConditionPg(query.parent, params.length + 1);
      where.push(condition.sql);
      params.push(...condition.params);
    }
    if (query.types !== undefined) {
      params.push(query.types);
      where.push(`type = ANY($${params.length}::text[])`);
    }
    params.push(query.limit);
    const { rows } = await this.#db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM longrun_operation_events WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toLoggedEvent);
  }

  async snapshot(name: string): Promise<{ record: OperationRecord | undefined; head: number }> {
    // The head first, then the record with its own newest event in one statement: the position
    // is the later of the two (see the class comment on why that is exact for one operation).
    const head = await this.head();
    const { rows } = await this.#db.query<OperationRow & { found: boolean; last: string | null }>(
      `SELECT o.seq IS NOT NULL AS found, o.seq, o.name, o.parent, o.done, o.metadata, o.error, o.response,
         o.create_time, o.update_time, o.done_time, o.cancel_request_time, o.create_hash,
         (SELECT max(id) FROM longrun_operation_events e WHERE e.parent = $2 AND e.name = $1) AS last
       FROM (SELECT 1) AS one LEFT JOIN longrun_operations o ON o.name = $1`,
      [name, parseOperationName(name).parent],
    );
    const row = rows[0]!;
    const position = Math.max(head, Number(row.last ?? 0));
    if (!row.found) return { record: undefined, head: position };
    return {
      record: toRecord(row),
      head: position,
    };
  }

  prune(before: number, maxId: number, limit: number): Promise<number> {
    return this.#db.transaction(async (client) => {
      const { rows } = await client.query<{ id: string; time: string }>(
        'SELECT id, time FROM longrun_operation_events WHERE id <= $1 ORDER BY id LIMIT $2',
        [maxId, limit],
      );
      let count = 0;
      while (count < rows.length && Number(rows[count]!.time) < before) count++;
      if (count === 0) return 0;
      const last = rows[count - 1]!.id;
      await client.query('DELETE FROM longrun_operation_events WHERE id <= $1', [last]);
      await client.query(
        `UPDATE longrun_push_state SET value = greatest(value, $1) WHERE key = 'events_pruned_through'`,
        [last],
      );
      return count;
    });
  }
}
