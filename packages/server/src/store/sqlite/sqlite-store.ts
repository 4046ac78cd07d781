/**
 * The embedded store: one SQLite file through better-sqlite3, in WAL mode. Calls are synchronous
 * underneath, so a read-decide-write runs inside one IMMEDIATE transaction with nothing
 * interleaved; writes are committed in groups (see #write); other processes on the same file wait
 * on SQLite's lock (busy_timeout).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ApiError } from '../../contract/errors.js';
import { hasWildcard, parentPattern, WILDCARD } from '../../contract/names.js';
import { filterToSql, sqliteDialect } from '../../filter/index.js';
import type {
  CreateResult,
  ListQuery,
  NewOperationRecord,
  OperationRecord,
  OperationStore,
  StateCounts,
  UpdateDecision,
} from '../store.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

export interface SqliteStoreOptions {
  /**
   * `NORMAL` (the default) survives a crash of the process, since WAL commits reach the OS at
   * once; `FULL` also survives a crash of the machine, at the cost of an fsync per write.
   * @default 'NORMAL'
   */
  synchronous?: 'NORMAL' | 'FULL';
}

const COLUMNS = `seq, name, parent, done, metadata, error, response, create_time AS createTime,
  update_time AS updateTime, done_time AS doneTime, cancel_request_time AS cancelRequestTime,
  create_hash AS createHash`;

type Row = Omit<OperationRecord, 'done'> & { done: number };

function toRecord(row: Row): OperationRecord {
  return { ...row, done: row.done === 1 };
}

// Errors that mean "the database cannot serve now" rather than "this request is wrong".
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL|NOMEM)/;

function translate(error: unknown): unknown {
  const closed = error instanceof TypeError && /database connection is not open/.test(error.message);
  if (closed || (error instanceof Database.SqliteError && UNAVAILABLE_CODES.test(error.code))) {
    return new ApiError('STORE_UNAVAILABLE', 'The operation store is unavailable; try again');
  }
  return error;
}

export class SqliteStore implements OperationStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #get: Database.Statement;
  readonly #update: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #lists = new Map<string, Database.Statement>();

  constructor(path: string, options: SqliteStoreOptions = {}) {
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    this.#db = db;
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    db.pragma('busy_timeout = 5000');
    db.function('regexp', { deterministic: true }, (pattern, text) =>
      new RegExp(String(pattern)).test(String(text)) ? 1 : 0,
    );
    migrate(db);
    this.#insert = db.prepare(
      `INSERT INTO operations (name, parent, done, metadata, error, response, create_time, update_time, done_time,
         cancel_request_time, create_hash)
       VALUES (@name, @parent, @done, @metadata, @error, @response, @createTime, @updateTime, @doneTime,
         @cancelRequestTime, @createHash)
       ON CONFLICT (name) DO NOTHING`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM operations WHERE name = ?`);
    this.#update = db.prepare(
      `UPDATE operations SET done = @done, metadata = @metadata, error = @error, response = @response,
         update_time = @updateTime, done_time = @doneTime, cancel_request_time = @cancelRequestTime
       WHERE seq = @seq`,
    );
    this.#delete = db.prepare('DELETE FROM operations WHERE name = ?');
  }

  /**
   * The open connection, for modules that keep their own tables in this file (the watch event log
   * and webhooks, migration 3): they share its one writer and its transactions.
   */
  get connection(): Database.Database {
    return this.#db;
  }

  #run<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(translate(error));
    }
  }

  /**
   * Group commit: every write that arrives in one turn of the event loop runs in one IMMEDIATE
   * transaction, and each caller is answered once that transaction has committed. A commit costs
   * some ten WAL page writes whatever it holds, so under load this divides the cost of a write
   * several times over; a lone write waits one turn. A write refused by its own rules (an
   * ApiError, thrown before it changed anything) fails alone; a database error fails the batch,
   * and nothing of it is written.
   */
  #write<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.#pending.length === 1) setImmediate(this.#commit);
    });
  }

  readonly #pending: { work: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] =
    [];

  readonly #commit = (): void => {
    const batch = this.#pending.splice(0);
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.#db
        .transaction(() => {
          for (const { work } of batch) {
            try {
              outcomes.push({ ok: true, value: work() });
            } catch (error) {
              if (!(error instanceof ApiError)) throw error;
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      const failure = translate(error);
      for (const { reject } of batch) reject(failure);
      return;
    }
    batch.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    });
  };

  #getRecord(name: string): OperationRecord | undefined {
    const row = this.#get.get(name) as Row | undefined;
    return row && toRecord(row);
  }

  create(record: NewOperationRecord): Promise<CreateResult> {
    return this.#write(() => {
      const info = this.#insert.run({ ...record, done: record.done ? 1 : 0 });
      if (info.changes === 1) return { created: true, record: { ...record, seq: Number(info.lastInsertRowid) } };
      const existing = this.#getRecord(record.name);
      // The name was taken and freed again between the two statements: impossible in one process,
      // and the caller's retry resolves it across processes.
      if (!existing) throw new ApiError('STORE_UNAVAILABLE', 'The operation store was busy; try again');
      return { created: false, existing };
    });
  }

  get(name: string): Promise<OperationRecord | undefined> {
    return this.#run(() => this.#getRecord(name));
  }

  update(name: string, decide: UpdateDecision): Promise<OperationRecord | undefined> {
    return this.#write(() => {
      const current = this.#getRecord(name);
      if (!current) return undefined;
      const change = decide(current);
      if (!change) return current;
      const next = { ...current, ...change };
      this.#update.run({ ...next, done: next.done ? 1 : 0 });
      return next;
    });
  }

  delete(name: string): Promise<boolean> {
    return this.#write(() => this.#delete.run(name).changes === 1);
  }

  list(query: ListQuery): Promise<OperationRecord[]> {
    return this.#run(() => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (hasWildcard(query.parent)) {
        // The fixed part before the first `-` bounds an index range; the pattern does the rest.
        const segments = query.parent.split('/');
        const prefix = `${segments.slice(0, segments.indexOf(WILDCARD)).join('/')}/`;
        where.push('parent >= ? AND parent < ? AND regexp(?, parent)');
        params.push(prefix, `${prefix.slice(0, -1)}0`, parentPattern(query.parent).source);
      } else {
        where.push('parent = ?');
        params.push(query.parent);
      }
      if (query.beforeSeq !== undefined) {
        where.push('seq < ?');
        params.push(query.beforeSeq);
      }
      if (query.filter) {
        const compiled = filterToSql(query.filter, sqliteDialect);
        where.push(`(${compiled.sql})`);
        params.push(...compiled.params);
      }
      const sql = `SELECT ${COLUMNS} FROM operations WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`;
      params.push(query.limit);
      let statement = this.#lists.get(sql);
      if (!statement) {
        statement = this.#db.prepare(sql);
        if (this.#lists.size < 1000) this.#lists.set(sql, statement);
      }
      return (statement.all(...params) as Row[]).map(toRecord);
    });
  }

  cancelRequestedBefore(time: number, limit: number): Promise<string[]> {
    return this.#run(
      () =>
        this.#db
          .prepare(
            `SELECT name FROM operations WHERE done = 0 AND cancel_request_time IS NOT NULL
             AND cancel_request_time <= ? ORDER BY cancel_request_time LIMIT ?`,
          )
          .pluck()
          .all(time, limit) as string[],
    );
  }

  earliestPendingCancel(): Promise<number | undefined> {
    return this.#run(() => {
      const time = this.#db
        .prepare('SELECT min(cancel_request_time) FROM operations WHERE done = 0 AND cancel_request_time IS NOT NULL')
        .pluck()
        .get() as number | null;
      return time ?? undefined;
    });
  }

  expireDone(time: number, limit: number): Promise<string[]> {
    return this.#run(
      () =>
        this.#db
          .prepare(
            `DELETE FROM operations WHERE seq IN
             (SELECT seq FROM operations WHERE done = 1 AND done_time < ? ORDER BY done_time LIMIT ?)
           RETURNING name`,
          )
          .pluck()
          .all(time, limit) as string[],
    );
  }

  pendingCreatedBefore(time: number, limit: number): Promise<string[]> {
    return this.#run(
      () =>
        this.#db
          .prepare('SELECT name FROM operations WHERE done = 0 AND create_time < ? ORDER BY create_time LIMIT ?')
          .pluck()
          .all(time, limit) as string[],
    );
  }

  countByState(): Promise<StateCounts> {
    return this.#run(() => {
      // error is canonical JSON starting {"code":N, so the code is read without parsing.
      const row = this.#db
        .prepare(
          `SELECT
             count(*) FILTER (WHERE done = 0) AS running,
             count(*) FILTER (WHERE done = 1 AND error IS NULL) AS succeeded,
             count(*) FILTER (WHERE done = 1 AND error IS NOT NULL AND json_extract(error, '$.code') != 1) AS failed,
             count(*) FILTER (WHERE done = 1 AND json_extract(error, '$.code') = 1) AS cancelled
           FROM operations`,
        )
        .get() as StateCounts;
      return { ...row };
    });
  }

  ping(): Promise<void> {
    return this.#run(() => {
      this.#db.prepare('SELECT 1').get();
    });
  }

  secret(key: string, create: () => Buffer): Promise<Buffer> {
    return this.#run(() => {
      this.#db
        .prepare('INSERT INTO secrets (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING')
        .run(key, create());
      return this.#db.prepare('SELECT value FROM secrets WHERE key = ?').pluck().get(key) as Buffer;
    });
  }

  close(): Promise<void> {
    if (this.#db.open) this.#db.close();
    return Promise.resolve();
  }
}

function migrate(db: Database.Database): void {
  // Each step re-reads the version inside its write lock, so processes starting together on one
  // file apply every migration exactly once.
  const step = db.transaction((): boolean => {
    const applied = db.pragma('user_version', { simple: true }) as number;
    if (applied > SQLITE_MIGRATIONS.length) {
      throw new Error(
        `The database was written by a newer longrun (schema ${applied}; this one knows ${SQLITE_MIGRATIONS.length})`,
      );
    }
    if (applied === SQLITE_MIGRATIONS.length) return false;
    db.exec(SQLITE_MIGRATIONS[applied]!);
    db.pragma(`user_version = ${applied + 1}`);
    return true;
  });
  while (step.immediate()) {}
}
