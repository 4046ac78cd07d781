/**
 * The event log in the SQLite file (migration 3): the store appends each change to
 * `operation_events` in the write's own transaction; this class reads and prunes it through the
 * store's connection. SQLite has one writer at a time, so ids are assigned in commit order and a
 * reader that has seen id N has seen every id below it.
 */
import Database from 'better-sqlite3';
import { ApiError } from '../contract/errors.js';
import { hasWildcard, parentPattern, parseOperationName, WILDCARD } from '../contract/names.js';
import type { OperationRecord } from '../store/store.js';
import { type EventLog, type EventQuery, type EventType, eventRecord, type LoggedEvent } from './event-log.js';

const EVENT_COLUMNS = `id, time, type, name, parent, done, metadata, error, response, create_time AS createTime,
  update_time AS updateTime, done_time AS doneTime, cancel_request_time AS cancelRequestTime`;

interface EventRow {
  id: number;
  time: number;
  type: EventType;
  name: string;
  parent: string;
  done: number;
  metadata: string | null;
  error: string | null;
  response: string | null;
  createTime: number;
  updateTime: number;
  doneTime: number | null;
  cancelRequestTime: number | null;
}

export function toLoggedEvent(row: EventRow): LoggedEvent {
  const { id, time, type, ...fields } = row;
  return { id, time, type, record: eventRecord({ ...fields, done: fields.done !== 0 }) };
}

// Errors that mean "the database cannot serve now" rather than a bug.
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL|NOMEM)/;

/** Runs synchronous database work as a promise; "cannot serve now" errors become STORE_UNAVAILABLE. */
export function runSqlite<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    if (error instanceof Database.SqliteError && UNAVAILABLE_CODES.test(error.code)) {
      return Promise.reject(new ApiError('STORE_UNAVAILABLE', 'The operation store is unavailable; try again'));
    }
    return Promise.reject(error);
  }
}

/** The SQL condition and parameters for "under this parent" (exact, or a `-` pattern). */
export function parentCondition(parent: string, column = 'parent'): { sql: string; params: unknown[] } {
  if (!hasWildcard(parent)) return { sql: `${column} = ?`, params: [parent] };
  // The fixed part before the first `-` bounds an index range; the pattern does the rest.
  const segments = parent.split('/');
  const prefix = `${segments.slice(0, segments.indexOf(WILDCARD)).join('/')}/`;
  return {
    sql: `${column} >= ? AND ${column} < ? AND longrun_push_regexp(?, ${column})`,
    params: [prefix, `${prefix.slice(0, -1)}0`, parentPattern(parent).source],
  };
}

/** Registers the functions the push tables' queries use on a connection (idempotent). */
export function registerPushFunctions(db: Database.Database): void {
  const patterns = new Map<string, RegExp>();
  db.function('longrun_push_regexp', { deterministic: true }, (pattern, text) => {
    const source = String(pattern);
    let regexp = patterns.get(source);
    if (!regexp) {
      regexp = new RegExp(source);
      if (patterns.size < 1000) patterns.set(source, regexp);
    }
    return regexp.test(String(text)) ? 1 : 0;
  });
}

export class SqliteEventLog implements EventLog {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #head: Database.Statement;
  readonly #horizon: Database.Statement;
  readonly #operation: Database.Statement;
  readonly #prune: (before: number, maxId: number, limit: number) => number;

  constructor(db: Database.Database) {
    this.#db = db;
    registerPushFunctions(db);
    this.#head = db
      .prepare(
        `SELECT max(coalesce((SELECT max(id) FROM operation_events), 0),
           (SELECT value FROM push_state WHERE key = 'events_pruned_through'))`,
      )
      .pluck();
    this.#horizon = db.prepare(`SELECT value FROM push_state WHERE key = 'events_pruned_through'`).pluck();
    this.#operation = db.prepare(
      `SELECT name, parent, done, metadata, error, response, create_time AS createTime, update_time AS updateTime,
         done_time AS doneTime, cancel_request_time AS cancelRequestTime, create_hash AS createHash, seq
       FROM operations WHERE name = ?`,
    );
    // A read transaction: the record and the head come from one snapshot of the file.
    const snapshot = db.transaction((name: string) => {
      const row = this.#operation.get(name) as (Omit<OperationRecord, 'done'> & { done: number }) | undefined;
      const head = this.#head.get() as number;
      return { record: row && { ...row, done: row.done !== 0 }, head };
    });
    this.snapshotSync = (name: string) => snapshot.deferred(name);
    const oldest = db.prepare('SELECT id, time FROM operation_events WHERE id <= ? ORDER BY id LIMIT ?');
    const remove = db.prepare('DELETE FROM operation_events WHERE id <= ?');
    const advance = db.prepare(`UPDATE push_state SET value = max(value, ?) WHERE key = 'events_pruned_through'`);
    const prune = db.transaction((before: number, maxId: number, limit: number): number => {
      const rows = oldest.all(maxId, limit) as { id: number; time: number }[];
      let count = 0;
      while (count < rows.length && rows[count]!.time < before) count++;
      if (count === 0) return 0;
      const last = rows[count - 1]!.id;
      remove.run(last);
      advance.run(last);
      return count;
    });
    this.#prune = (before, maxId, limit) => prune.immediate(before, maxId, limit);
  }

  /** `snapshot`, synchronously. */
  readonly snapshotSync: (name: string) => { record: OperationRecord | undefined; head: number };

  head(): Promise<number> {
    return runSqlite(() => this.#head.get() as number);
  }

  latest(): Promise<number> {
    return this.head();
  }

  horizon(): Promise<number> {
    return runSqlite(() => this.#horizon.get() as number);
  }

  read(query: EventQuery): Promise<LoggedEvent[]> {
    return runSqlite(() => this.readSync(query));
  }

  /** `read`, synchronously. */
  readSync(query: EventQuery): LoggedEvent[] {
    const where = ['id > ?'];
    const params: unknown[] = [query.after];
    if (query.upTo !== undefined) {
      where.push('id <= ?');
      params.push(query.upTo);
    }
    if (query.name !== undefined) {
      // The log is indexed by parent, not by name (migration 4).
      where.push('parent = ? AND name = ?');
      params.push(parseOperationName(query.name).parent, query.name);
    }
    if (query.parent !== undefined) {
      const condition = parentCondition(query.parent);
      where.push(condition.sql);
      params.push(...condition.params);
    }
    if (query.types !== undefined) {
      where.push(`type IN (${query.types.map(() => '?').join(', ')})`);
      params.push(...query.types);
    }
    params.push(query.limit);
    const sql = `SELECT ${EVENT_COLUMNS} FROM operation_events WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`;
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      if (this.#statements.size < 100) this.#statements.set(sql, statement);
    }
    return (statement.all(...params) as EventRow[]).map(toLoggedEvent);
  }

  snapshot(name: string): Promise<{ record: OperationRecord | undefined; head: number }> {
    return runSqlite(() => this.snapshotSync(name));
  }

  prune(before: number, maxId: number, limit: number): Promise<number> {
    return runSqlite(() => this.#prune(before, maxId, limit));
  }
}
