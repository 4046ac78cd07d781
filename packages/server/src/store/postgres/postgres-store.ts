/**
 * The shared store: PostgreSQL through a pool of `pg` connections, for several longrun replicas
 * behind a load balancer on one database.
 *
 * - An update is a compare-and-set: read the record (with its write counter `version`), decide,
 *   then write only if `(seq, version)` is unchanged; on a collision, read and decide again. After a
 *   few collisions on one record it falls back to `SELECT … FOR UPDATE` in a transaction, so a hot
 *   record still makes progress.
 * - Updates and deletes are announced on the channel {@link PostgresStore.channel} right after
 *   they commit (NOTIFY, batched, in a transaction of its own), so `PostgresEventRelay` can wake
 *   waiters on the other replicas.
 * - Concurrent creates go as one multi-row INSERT, and concurrent reads by name as one query
 *   (see batcher.ts): one round trip and one commit for many requests under load.
 * - Errors meaning "the database cannot serve now" become `STORE_UNAVAILABLE` (503, retryable);
 *   the pool drops broken connections and opens new ones when the database is back.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { ApiError } from '../../contract/errors.js';
import { hasWildcard, parentPattern, WILDCARD } from '../../contract/names.js';
import { changeEvents, DELETED_EVENTS } from '../change-events.js';
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
import { Batcher, type Pending } from './batcher.js';
import { isUnavailable, translate } from './errors.js';
import { migrate } from './migrations.js';
import { compilePostgresFilter } from './postgres-dialect.js';
import {
  CANCEL_REQUESTED_BEFORE,
  COUNT_BY_STATE,
  CREATE_OPERATION,
  CREATE_OPERATIONS,
  DELETE_OPERATION,
  EARLIEST_PENDING_CANCEL,
  EXPIRE_DONE,
  GET_OPERATION,
  GET_OPERATIONS,
  LIST_OPERATIONS,
  LOCK_OPERATION,
  NOTIFY,
  PENDING_CREATED_BEFORE,
  SECRET,
  type Statement,
  UPDATE_OPERATION,
} from './statements.js';

export interface PostgresStoreOptions {
  /**
   * Connections this replica keeps open at most (plus one for notifications). Sum over replicas
   * must stay under the server's `max_connections`.
   * @default 10
   */
  poolSize?: number;
  /**
   * How long a request waits for a free connection (or for a new one to open) before it fails
   * UNAVAILABLE.
   * @default 5000
   */
  connectionTimeoutMs?: number;
  /**
   * The longest one statement may take, enforced by the client: a database that stops answering
   * (a network partition, not a refused connection) fails requests UNAVAILABLE after this long.
   * @default 10000
   */
  queryTimeoutMs?: number;
  /**
   * Notify other replicas of updates and deletes (LISTEN/NOTIFY).
   * @default true
   */
  notify?: boolean;
  /**
   * How many create statements may run at once. Creates that arrive while they all run wait, and
   * go together as one multi-row INSERT (one round trip, one commit) when one finishes: under load
   * the batches grow by themselves, and a lone create is never delayed.
   * @default 2
   */
  createConcurrency?: number;
  /**
   * How many reads by name may run at once; reads that arrive meanwhile go together as one
   * `name = ANY(…)` query.
   * @default half of poolSize, at least 1
   */
  readConcurrency?: number;
}

/** Where a notification came from and what changed; `r` is omitted when the record is too large. */
export type NotificationPayload =
  | { o: string; t: 'updated'; n: string; r?: OperationRecord }
  | { o: string; t: 'deleted'; n: string };

/** NOTIFY refuses payloads of 8000 bytes or more; larger records are announced by name and re-read. */
export const MAX_PAYLOAD_BYTES = 7999;

/** Compare-and-set attempts on one record before falling back to a row lock. */
const CAS_ATTEMPTS = 4;

/** The most calls one batched statement carries. */
const MAX_BATCH = 200;

type PendingCreate = Pending<NewOperationRecord, CreateResult>;

/** An operations row as pg returns it (bigints as strings). */
export interface OperationRow {
  seq: string;
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
  create_hash: string | null;
}

interface Row extends OperationRow {
  version: number;
}

const millis = (value: string | null): number | null => (value === null ? null : Number(value));

/** The record an operations row holds. */
export function toRecord(row: OperationRow): OperationRecord {
  return {
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
    createHash: row.create_hash,
    seq: Number(row.seq),
  };
}

function applyChange(current: OperationRecord, change: OperationChange): OperationRecord {
  return {
    ...current,
    done: change.done,
    metadata: change.metadata,
    error: change.error,
    response: change.response,
    updateTime: change.updateTime,
    doneTime: change.doneTime,
    cancelRequestTime: change.cancelRequestTime,
  };
}

function updateValues(row: Row, current: OperationRecord, next: OperationRecord): unknown[] {
  return [
    row.seq,
    row.version,
    next.done,
    next.metadata,
    next.error,
    next.response,
    next.updateTime,
    next.doneTime,
    next.cancelRequestTime,
    changeEvents(current, next),
  ];
}

function createdRecord(record: NewOperationRecord, seq: string): OperationRecord {
  return {
    name: record.name,
    parent: record.parent,
    done: record.done,
    metadata: record.metadata,
    error: record.error,
    response: record.response,
    createTime: record.createTime,
    updateTime: record.updateTime,
    doneTime: record.doneTime,
    cancelRequestTime: record.cancelRequestTime,
    createHash: record.createHash,
    seq: Number(seq),
  };
}

/** The channel name for a schema: NOTIFY is per database, so schemas in one database need their own. */
function channelFor(schema: string): string {
  const channel = `longrun.operations:${schema}`;
  // Channel names are identifiers: at most 63 bytes.
  if (Buffer.byteLength(channel) <= 63) return channel;
  return `longrun.operations:${createHash('sha256').update(schema).digest('base64url').slice(0, 24)}`;
}

export class PostgresStore implements OperationStore {
  /** Identifies this store's notifications, so its own relay can skip what the service already published. */
  readonly origin = randomBytes(9).toString('base64url');
  readonly #pool: pg.Pool;
  readonly #clientConfig: pg.ClientConfig;
  readonly #notify: boolean;
  readonly #creates: Batcher<NewOperationRecord, CreateResult>;
  readonly #reads: Batcher<string, Row | undefined>;
  readonly #notifications: Batcher<string, void>;
  #ready: Promise<string> | undefined;
  #channel = '';
  #closed = false;

  /**
   * Opens a pool on `connectionString` (`postgres://user:password@host:port/database?…`; libpq's
   * `options=-c search_path=…` picks the schema). Nothing connects until the first call, which
   * checks the server version and applies migrations; {@link PostgresStore.open} does that up front.
   */
  constructor(connectionString: string, options: PostgresStoreOptions = {}) {
    this.#notify = options.notify ?? true;
    const poolSize = options.poolSize ?? 10;
    this.#creates = new Batcher({ concurrency: options.createConcurrency ?? 2, maxBatch: MAX_BATCH }, (batch) =>
      batch.length === 1 ? this.#createOne(batch[0]!) : this.#createMany(batch),
    );
    this.#reads = new Batcher(
      { concurrency: options.readConcurrency ?? Math.floor(poolSize / 2), maxBatch: MAX_BATCH },
      (batch) => this.#readMany(batch),
    );
    this.#notifications = new Batcher({ concurrency: 1, maxBatch: 1000 }, (batch) => this.#notifyMany(batch));
    this.#clientConfig = {
      connectionString,
      fallback_application_name: 'longrun',
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
      query_timeout: options.queryTimeoutMs ?? 10_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    };
    this.#pool = new pg.Pool({
      ...this.#clientConfig,
      max: options.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection that breaks (the database restarted, the network dropped) is removed from
    // the pool, which reports it here; without a listener the process would exit.
    this.#pool.on('error', () => {});
  }

  /** A store whose schema is checked and migrated: fails now, not at the first request, when it cannot be. */
  static async open(connectionString: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(connectionString, options);
    try {
      await store.ready();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /**
   * Connects, checks the server and migrates, once; resolves to the notification channel. A
   * failure because the database is unreachable is not remembered: the next call tries again.
   */
  ready(): Promise<string> {
    this.#ready ??= this.#init().catch((error: unknown) => {
      if (isUnavailable(error)) this.#ready = undefined;
      throw translate(error);
    });
    return this.#ready;
  }

  async #init(): Promise<string> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await migrate(client);
      const { rows } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
      this.#channel = channelFor(rows[0]!.schema);
      return this.#channel;
    } catch (error) {
      if (isUnavailable(error)) broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** The LISTEN/NOTIFY channel this store's updates and deletes are announced on (after `ready()`). */
  get channel(): string {
    return this.#channel;
  }

  /** Settings for a dedicated connection to the same database (the relay's LISTEN connection). */
  get clientConfig(): pg.ClientConfig {
    return { ...this.#clientConfig, query_timeout: undefined };
  }

  async #query<R extends pg.QueryResultRow>(
    statement: Statement | { text: string },
    values: unknown[],
    retry = false,
  ): Promise<pg.QueryResult<R>> {
    await this.ready();
    try {
      return await this.#pool.query<R>({ ...statement, values });
    } catch (error) {
      // A read may meet a pooled connection that died since it was last used; one more try opens
      // a fresh one. Writes are not retried here: their outcome is unknown, and the caller decides.
      if (!retry || this.#closed || !isUnavailable(error)) throw translate(error);
      try {
        return await this.#pool.query<R>({ ...statement, values });
      } catch (again) {
        throw translate(again);
      }
    }
  }

  #payload(type: 'updated', record: OperationRecord): string | null;
  #payload(type: 'deleted', name: string): string | null;
  #payload(type: 'updated' | 'deleted', subject: OperationRecord | string): string | null {
    if (!this.#notify) return null;
    if (typeof subject === 'string') return JSON.stringify({ o: this.origin, t: type, n: subject });
    const full = JSON.stringify({ o: this.origin, t: type, n: subject.name, r: subject });
    if (Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES) return full;
    return JSON.stringify({ o: this.origin, t: type, n: subject.name });
  }

  create(record: NewOperationRecord): Promise<CreateResult> {
    return this.#creates.add(record);
  }

  async #createOne({ item: record, resolve, reject }: PendingCreate): Promise<void> {
    try {
      resolve(await this.#insertOne(record));
    } catch (error) {
      reject(error);
    }
  }

  async #insertOne(record: NewOperationRecord): Promise<CreateResult> {
    const values = [
      record.name,
      record.parent,
      record.done,
      record.metadata,
      record.error,
      record.response,
      record.createTime,
      record.updateTime,
      record.doneTime,
      record.cancelRequestTime,
      record.createHash,
      changeEvents(undefined, record),
    ];
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await this.#query<Row & { created: boolean }>(CREATE_OPERATION, values);
      const row = rows[0];
      if (row?.created) return { created: true, record: createdRecord(record, row.seq) };
      if (row) return { created: false, existing: toRecord(row) };
      // Another create of this name committed after our snapshot: read it as it is now.
      const existing = await this.get(record.name);
      if (existing) return { created: false, existing };
      // ...and it was deleted again already: try once more.
    }
    throw new ApiError('STORE_UNAVAILABLE', 'The operation store was busy; try again');
  }

  /** Several creates in one INSERT; those whose name was taken are answered with the record that holds it. */
  async #createMany(batch: PendingCreate[]): Promise<void> {
    const columns: unknown[][] = Array.from({ length: 12 }, () => []);
    for (const { item: record } of batch) {
      columns[0]!.push(record.name);
      columns[1]!.push(record.parent);
      columns[2]!.push(record.done);
      columns[3]!.push(record.metadata);
      columns[4]!.push(record.error);
      columns[5]!.push(record.response);
      columns[6]!.push(record.createTime);
      columns[7]!.push(record.updateTime);
      columns[8]!.push(record.doneTime);
      columns[9]!.push(record.cancelRequestTime);
      columns[10]!.push(record.createHash);
      columns[11]!.push(changeEvents(undefined, record).join(','));
    }
    let inserted: Map<string, string>;
    try {
      const { rows } = await this.#query<{ name: string; seq: string }>(CREATE_OPERATIONS, columns);
      inserted = new Map(rows.map((row) => [row.name, row.seq]));
    } catch (error) {
      if (error instanceof ApiError) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      // Something about one record (not the database): create each alone, so only that one fails.
      await Promise.all(batch.map((pending) => this.#createOne(pending)));
      return;
    }
    const taken: PendingCreate[] = [];
    for (const pending of batch) {
      const seq = inserted.get(pending.item.name);
      if (seq === undefined) taken.push(pending);
      else {
        inserted.delete(pending.item.name); // a name twice in one batch: the second one finds the first
        pending.resolve({ created: true, record: createdRecord(pending.item, seq) });
      }
    }
    if (taken.length > 0) await Promise.all(taken.map((pending) => this.#createOne(pending)));
  }

  async get(name: string): Promise<OperationRecord | undefined> {
    const row = await this.#reads.add(name);
    return row && toRecord(row);
  }

  /** Reads by name, one query for the whole batch. */
  async #readMany(batch: Pending<string, Row | undefined>[]): Promise<void> {
    if (batch.length === 1) {
      const { rows } = await this.#query<Row>(GET_OPERATION, [batch[0]!.item], true);
      batch[0]!.resolve(rows[0]);
      return;
    }
    const names = [...new Set(batch.map((pending) => pending.item))];
    const { rows } = await this.#query<Row>(GET_OPERATIONS, [names], true);
    const byName = new Map(rows.map((row) => [row.name, row]));
    for (const pending of batch) pending.resolve(byName.get(pending.item));
  }

  /** The records among `names` that exist, in no particular order. */
  async getMany(names: readonly string[]): Promise<OperationRecord[]> {
    if (names.length === 0) return [];
    const { rows } = await this.#query<Row>(GET_OPERATIONS, [names], true);
    return rows.map(toRecord);
  }

  async update(name: string, decide: UpdateDecision): Promise<OperationRecord | undefined> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const row = await this.#reads.add(name);
      if (!row) return undefined;
      const current = toRecord(row);
      const change = decide(current);
      if (!change) return current;
      const next = applyChange(current, change);
      const { rows } = await this.#query<{ written: number }>(UPDATE_OPERATION, updateValues(row, current, next));
      if (rows[0]!.written === 1) {
        await this.#announce(this.#payload('updated', next));
        return next;
      }
    }
    return this.#updateLocked(name, decide);
  }

  /**
   * Tells other replicas about a committed change, and waits until it is sent (so that when a
   * caller hears "done", other replicas hear it too). Sending can fail only when the database just
   * went away: the change stands, and other replicas re-read what they wait on when their event
   * connection comes back (and every `resyncMs` regardless).
   */
  async #announce(payload: string | null): Promise<void> {
    if (payload === null) return;
    await this.#notifications.add(payload).catch(() => {});
  }

  async #notifyMany(batch: Pending<string, void>[]): Promise<void> {
    await this.#query(NOTIFY, [this.#channel, batch.map((pending) => pending.item)]);
    for (const pending of batch) pending.resolve();
  }

  async #updateLocked(name: string, decide: UpdateDecision): Promise<OperationRecord | undefined> {
    await this.ready();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw translate(error);
    }
    let broken: Error | undefined;
    let result: OperationRecord | undefined;
    let written: OperationRecord | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<Row>({ ...LOCK_OPERATION, values: [name] });
      const row = rows[0];
      const current = row && toRecord(row);
      try {
        const change = current && decide(current);
        result = current && change ? applyChange(current, change) : current;
      } catch (refused) {
        await client.query('ROLLBACK');
        throw refused;
      }
      if (row && current && result && result !== current) {
        await client.query({ ...UPDATE_OPERATION, values: updateValues(row, current, result) });
        written = result;
      }
      await client.query('COMMIT');
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (isUnavailable(error)) broken = error as Error;
      else await client.query('ROLLBACK').catch(() => {});
      throw translate(error);
    } finally {
      client.release(broken);
    }
    // Announced once the connection is back in the pool: holding it while waiting for another
    // could leave every connection waiting for one.
    if (written) await this.#announce(this.#payload('updated', written));
    return result;
  }

  async delete(name: string): Promise<boolean> {
    const { rows } = await this.#query<{ deleted: number }>(DELETE_OPERATION, [name, DELETED_EVENTS, Date.now()]);
    if (rows[0]!.deleted !== 1) return false;
    await this.#announce(this.#payload('deleted', name));
    return true;
  }

  async list(query: ListQuery): Promise<OperationRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    };
    let shape: string;
    if (hasWildcard(query.parent)) {
      // The fixed part before the first `-` bounds an index range; the pattern does the rest.
      const segments = query.parent.split('/');
      const prefix = `${segments.slice(0, segments.indexOf(WILDCARD)).join('/')}/`;
      where.push(
        `parent >= ${param(prefix)} AND parent < ${param(`${prefix.slice(0, -1)}0`)} AND parent ~ ${param(parentPattern(query.parent).source)}`,
      );
      shape = 'wildcard';
    } else {
      where.push(`parent = ${param(query.parent)}`);
      shape = 'parent';
    }
    if (query.beforeSeq !== undefined) {
      where.push(`seq < ${param(query.beforeSeq)}`);
      shape += '_cursor';
    }
    if (query.filter) where.push(`(${compilePostgresFilter(query.filter, values)})`);
    const text = `${LIST_OPERATIONS.select} ${where.join(' AND ')} ${LIST_OPERATIONS.order} ${param(query.limit)}`;
    // Without a filter the query has one of four shapes: prepare those; filtered ones vary too much.
    const statement = query.filter ? { text } : { name: `longrun_list_${shape}`, text };
    const { rows } = await this.#query<Row>(statement, values, true);
    return rows.map(toRecord);
  }

  async cancelRequestedBefore(time: number, limit: number): Promise<string[]> {
    const { rows } = await this.#query<{ name: string }>(CANCEL_REQUESTED_BEFORE, [time, limit], true);
    return rows.map((row) => row.name);
  }

  async earliestPendingCancel(): Promise<number | undefined> {
    const { rows } = await this.#query<{ time: string | null }>(EARLIEST_PENDING_CANCEL, [], true);
    const time = rows[0]?.time ?? null;
    return time === null ? undefined : Number(time);
  }

  async expireDone(time: number, limit: number): Promise<string[]> {
    const { rows } = await this.#query<{ name: string }>(EXPIRE_DONE, [time, limit, DELETED_EVENTS, Date.now()]);
    return rows.map((row) => row.name);
  }

  async pendingCreatedBefore(time: number, limit: number): Promise<string[]> {
    const { rows } = await this.#query<{ name: string }>(PENDING_CREATED_BEFORE, [time, limit], true);
    return rows.map((row) => row.name);
  }

  async countByState(): Promise<StateCounts> {
    const { rows } = await this.#query<Record<keyof StateCounts, string>>(COUNT_BY_STATE, [], true);
    const row = rows[0]!;
    return {
      running: Number(row.running),
      succeeded: Number(row.succeeded),
      failed: Number(row.failed),
      cancelled: Number(row.cancelled),
    };
  }

  async ping(): Promise<void> {
    await this.#query({ text: 'SELECT 1' }, [], true);
  }

  async secret(key: string, create: () => Buffer): Promise<Buffer> {
    const value = create();
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await this.#query<{ value: Buffer }>(SECRET, [key, value], true);
      if (rows[0]) return rows[0].value;
    }
    throw new ApiError('STORE_UNAVAILABLE', 'The operation store was busy; try again');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
