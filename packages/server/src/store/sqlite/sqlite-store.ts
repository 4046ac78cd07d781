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
import { changeEvents } from '../change-events.js';
import type {
  CreateResult,
  ListQuery,
  NewOperationRecord,
  OperationChange,
  OperationRecord,
  OperationStore,
  StateCounts,
  UpdateDecision,
} from '../store.js';
import { Checkpointer } from './checkpointer.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

export interface SqliteStoreOptions {
  /**
   * `NORMAL` (the default) survives a crash of the process, since WAL commits reach the OS at
   * once; `FULL` also survives a crash of the machine, at the cost of an fsync per write.
   * @default 'NORMAL'
   */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Bytes of recently read or written operations kept in memory, so that polling an operation
   * (what every LRO client does) reads no page of the file. 0 turns the cache off.
   * @default 32 MiB
   */
  cacheBytes?: number;
}

/**
 * Recently used records, up to a total size: the committed state of each, never a write still in
 * its transaction. Another process writing the same file bumps SQLite's `data_version`, and a read
 * that sees it changed empties the cache first, so nothing stale is ever answered.
 *
 * Two generations rather than an exact LRU: records go into the young one, a hit in the old one
 * moves the record to the young one, and when the young one holds half the budget it becomes the
 * old one and the previous old one is dropped whole. Evicting one entry at a time from the front
 * of a Map costs more and more as V8 skips the holes left by earlier deletes (it was a sixth of a
 * patch's CPU at 60,000 cached records).
 */
export class RecordCache {
  #young = new Map<string, OperationRecord>();
  #old = new Map<string, OperationRecord>();
  #youngBytes = 0;
  readonly #generationBytes: number;
  readonly #maxRecordBytes: number;

  constructor(maxBytes: number) {
    this.#generationBytes = maxBytes / 2;
    // One huge operation must not push out a thousand small ones.
    this.#maxRecordBytes = maxBytes / 256;
  }

  get(name: string): OperationRecord | undefined {
    const record = this.#young.get(name);
    if (record) return record;
    const aged = this.#old.get(name);
    if (aged) {
      this.#old.delete(name);
      this.#add(name, aged);
    }
    return aged;
  }

  set(name: string, record: OperationRecord | undefined): void {
    this.delete(name);
    if (record) this.#add(name, record);
  }

  #add(name: string, record: OperationRecord): void {
    const bytes = sizeOf(record);
    if (bytes > this.#maxRecordBytes) return;
    this.#young.set(name, record);
    this.#youngBytes += bytes;
    if (this.#youngBytes >= this.#generationBytes) {
      this.#old = this.#young;
      this.#young = new Map();
      this.#youngBytes = 0;
    }
  }

  delete(name: string): void {
    const record = this.#young.get(name);
    if (record) {
      this.#young.delete(name);
      this.#youngBytes -= sizeOf(record);
    }
    this.#old.delete(name);
  }

  clear(): void {
    this.#young = new Map();
    this.#old = new Map();
    this.#youngBytes = 0;
  }
}

/**
 * A record's columns from `name` to `cancel_request_time`, in table order, as bound values: the
 * head of an operations insert and the tail of an event row.
 */
function snapshotValues(record: NewOperationRecord): unknown[] {
  return [
    record.name,
    record.parent,
    record.done ? 1 : 0,
    record.metadata,
    record.error,
    record.response,
    record.createTime,
    record.updateTime,
    record.doneTime,
    record.cancelRequestTime,
  ];
}

/** Roughly what a record holds in memory: its strings (two bytes a character at worst) and fields. */
function sizeOf(record: OperationRecord): number {
  const text =
    record.name.length +
    record.parent.length +
    (record.metadata?.length ?? 0) +
    (record.error?.length ?? 0) +
    (record.response?.length ?? 0) +
    (record.createHash?.length ?? 0);
  return 2 * text + 200;
}

const COLUMNS = `seq, name, parent, done, metadata, error, response, create_time AS createTime,
  update_time AS updateTime, done_time AS doneTime, cancel_request_time AS cancelRequestTime,
  create_hash AS createHash`;

type Row = Omit<OperationRecord, 'done'> & { done: number };

/** What an update may change: each field and its column. */
const UPDATABLE_COLUMNS = [
  ['done', 'done'],
  ['metadata', 'metadata'],
  ['error', 'error'],
  ['response', 'response'],
  ['updateTime', 'update_time'],
  ['doneTime', 'done_time'],
  ['cancelRequestTime', 'cancel_request_time'],
] as const satisfies readonly (readonly [keyof OperationChange, string])[];

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
  /** UPDATE statements by the columns they set (see #writeChange). */
  readonly #updates = new Map<string, Database.Statement>();
  readonly #delete: Database.Statement;
  readonly #logEvent: Database.Statement;
  readonly #lists = new Map<string, Database.Statement>();
  readonly #dataVersion: Database.Statement;
  #seenDataVersion: unknown;
  #versionChecked = false;
  readonly #forgetVersionCheck = (): void => {
    this.#versionChecked = false;
  };
  readonly #cache: RecordCache | undefined;
  readonly #checkpointer: Checkpointer | undefined;
  /** Cache changes of the group being committed, applied once it has committed. */
  #staged: [name: string, record: OperationRecord | undefined][] = [];

  constructor(path: string, options: SqliteStoreOptions = {}) {
    const onDisk = path !== ':memory:' && path !== '';
    if (onDisk) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    this.#db = db;
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    db.pragma('busy_timeout = 5000');
    // SQLite's own page cache: 16 MiB rather than its 2 MiB default, so the pages of the indexes a
    // write touches stay in memory on a large file (a patch cost ~10% less CPU in bench/run.js).
    db.pragma('cache_size = -16384');
    db.function('regexp', { deterministic: true }, (pattern, text) =>
      new RegExp(String(pattern)).test(String(text)) ? 1 : 0,
    );
    migrate(db);
    if (onDisk) {
      // Checkpoints run in a worker (checkpointer.ts); this connection only steps in if the WAL
      // grows past some 40 MB regardless.
      db.pragma('wal_autocheckpoint = 10000');
      this.#checkpointer = new Checkpointer({
        path,
        synchronous: options.synchronous ?? 'NORMAL',
        intervalMs: 100,
      });
    }
    // Writes bind their values by position (here and in #writeChange): binding by name costs a
    // lookup per value, about a microsecond a write.
    this.#insert = db.prepare(
      `INSERT INTO operations (name, parent, done, metadata, error, response, create_time, update_time, done_time,
         cancel_request_time, create_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO NOTHING`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM operations WHERE name = ?`);
    this.#delete = db.prepare(`DELETE FROM operations WHERE name = ? RETURNING ${COLUMNS}`);
    this.#logEvent = db.prepare(
      `INSERT INTO operation_events (time, type, name, parent, done, metadata, error, response, create_time,
         update_time, done_time, cancel_request_time)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.#seenDataVersion = this.#dataVersion.get();
    const cacheBytes = options.cacheBytes ?? 32 * 1024 * 1024;
    this.#cache = cacheBytes > 0 ? new RecordCache(cacheBytes) : undefined;
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
    this.#staged = [];
    try {
      this.#db
        .transaction(() => {
          this.#forgetOthersWrites();
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
    for (const [name, record] of this.#staged) this.#cache?.set(name, record);
    batch.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    });
  };

  /**
   * Appends the events of one write to the log (store/change-events.ts), in the write's
   * transaction. Ids are assigned in commit order, since SQLite has one writer at a time.
   */
  #logChange(before: OperationRecord | undefined, after: OperationRecord | undefined, time: number): void {
    const record = (after ?? before)!;
    for (const type of changeEvents(before, after)) this.#logEvent.run(time, type, ...snapshotValues(record));
  }

  /** Empties the cache if another process committed to the file since the last time this was asked. */
  #forgetOthersWrites(): void {
    const version = this.#dataVersion.get();
    if (version !== this.#seenDataVersion) {
      this.#cache?.clear();
      this.#seenDataVersion = version;
    }
  }

  /**
   * Inside a write: the record as this transaction sees it. The group's own earlier writes come
   * first, then the cache (current, since the group holds the write lock and checked for other
   * writers when it took it), then the file.
   */
  #getCurrent(name: string): OperationRecord | undefined {
    const staged = this.#staged;
    for (let i = staged.length - 1; i >= 0; i--) {
      if (staged[i]![0] === name) return staged[i]![1];
    }
    return this.#cache?.get(name) ?? this.#getRecord(name);
  }

  /** The record as the file has it (inside a write: as this transaction sees it). */
  #getRecord(name: string): OperationRecord | undefined {
    const row = this.#get.get(name) as Row | undefined;
    return row && toRecord(row);
  }

  /** The committed record, from the cache when another process has not written the file since. */
  #getCommitted(name: string): OperationRecord | undefined {
    const cache = this.#cache;
    if (!cache) return this.#getRecord(name);
    if (!this.#versionChecked) {
      // Asking costs two lock syscalls, so it is asked once per turn of the event loop: every
      // request served in this turn arrived before it began, so none of them can have seen an
      // acknowledgement of a write that the answer misses.
      this.#versionChecked = true;
      setImmediate(this.#forgetVersionCheck);
      this.#forgetOthersWrites();
    }
    let record = cache.get(name);
    if (!record) {
      record = this.#getRecord(name);
      if (record) cache.set(name, record);
    }
    return record;
  }

  create(record: NewOperationRecord): Promise<CreateResult> {
    return this.#write(() => {
      const info = this.#insert.run(...snapshotValues(record), record.createHash);
      if (info.changes === 1) {
        const created = { ...record, seq: Number(info.lastInsertRowid) };
        this.#logChange(undefined, created, created.updateTime);
        this.#staged.push([created.name, created]);
        return { created: true, record: created };
      }
      const existing = this.#getRecord(record.name);
      // The name was taken and freed again between the two statements: impossible in one process,
      // and the caller's retry resolves it across processes.
      if (!existing) throw new ApiError('STORE_UNAVAILABLE', 'The operation store was busy; try again');
      return { created: false, existing };
    });
  }

  get(name: string): Promise<OperationRecord | undefined> {
    return this.#run(() => this.#getCommitted(name));
  }

  /**
   * Writes the columns that changed, and only those: SQLite rewrites every index on a column the
   * statement sets, changed or not, and a progress update (metadata alone) then costs a third of
   * one that sets every column. One prepared statement per set of columns (a handful in practice).
   */
  #writeChange(current: OperationRecord, next: OperationRecord): void {
    let key = '';
    const values: unknown[] = [];
    for (const [field, column] of UPDATABLE_COLUMNS) {
      if (next[field] === current[field]) continue;
      key += key === '' ? column : `,${column}`;
      values.push(field === 'done' ? (next.done ? 1 : 0) : next[field]);
    }
    if (key === '') return;
    let statement = this.#updates.get(key);
    if (!statement) {
      const assignments = key
        .split(',')
        .map((column) => `${column} = ?`)
        .join(', ');
      statement = this.#db.prepare(`UPDATE operations SET ${assignments} WHERE seq = ?`);
      this.#updates.set(key, statement);
    }
    statement.run(...values, next.seq);
  }

  update(name: string, decide: UpdateDecision): Promise<OperationRecord | undefined> {
    return this.#write(() => {
      const current = this.#getCurrent(name);
      if (!current) return undefined;
      const change = decide(current);
      if (!change) return current;
      const next = { ...current, ...change };
      this.#writeChange(current, next);
      this.#logChange(current, next, next.updateTime);
      this.#staged.push([name, next]);
      return next;
    });
  }

  delete(name: string): Promise<boolean> {
    return this.#write(() => {
      const row = this.#delete.get(name) as Row | undefined;
      if (!row) return false;
      this.#logChange(toRecord(row), undefined, Date.now());
      this.#staged.push([name, undefined]);
      return true;
    });
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
    return this.#write(() => {
      const rows = this.#db
        .prepare(
          `DELETE FROM operations WHERE seq IN
           (SELECT seq FROM operations WHERE done = 1 AND done_time < ? ORDER BY done_time LIMIT ?)
           RETURNING ${COLUMNS}`,
        )
        .all(time, limit) as Row[];
      const now = Date.now();
      for (const row of rows) {
        this.#logChange(toRecord(row), undefined, now);
        this.#staged.push([row.name, undefined]);
      }
      return rows.map((row) => row.name);
    });
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

  async close(): Promise<void> {
    await this.#checkpointer?.close();
    if (this.#db.open) this.#db.close();
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
