/**
 * The store contract: what the service needs from a backend, in the contract's terms. Every
 * backend (SQLite, PostgreSQL) implements it and runs the one shared suite in
 * `store.contract.ts`. No connection, transaction or SQL type leaks through it.
 */
import type { Filter } from '../filter/index.js';

/**
 * One operation as stored. `metadata`, `error` and `response` hold the canonical proto3 JSON
 * text of the field (already validated and normalised by the service), so a read renders the
 * operation by splicing strings, and nothing is re-encoded on the way out.
 */
export interface OperationRecord {
  /** The full resource name, `{parent}/operations/{id}` or `operations/{id}`. */
  name: string;
  /** Everything before the `operations` collection; `""` for top-level names. */
  parent: string;
  done: boolean;
  metadata: string | null;
  error: string | null;
  response: string | null;
  /** Milliseconds since the epoch. */
  createTime: number;
  updateTime: number;
  doneTime: number | null;
  /** When a consumer first asked to cancel; null if nobody has. */
  cancelRequestTime: number | null;
  /** Hash of the create request, so an exact retry of a create can be told from a conflict. */
  createHash: string | null;
  /** Store-assigned, increasing with each create: the list order (newest first) and page cursor. */
  seq: number;
}

/** A new record; the store assigns `seq`. */
export type NewOperationRecord = Omit<OperationRecord, 'seq'>;

/** The fields an update may change. */
export type OperationChange = Pick<
  OperationRecord,
  'done' | 'metadata' | 'error' | 'response' | 'updateTime' | 'doneTime' | 'cancelRequestTime'
>;

/**
 * Decides an update from the current record: returns the new field values, or `null` to leave the
 * record as it is. It may throw to refuse the update, and then nothing is written. It must be
 * pure: a backend may call it more than once when it retries a conflicting transaction.
 */
export type UpdateDecision = (current: OperationRecord) => OperationChange | null;

/** Operations by state: running (not done), succeeded (a response or nothing), failed, cancelled (code 1). */
export interface StateCounts {
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export type CreateResult = { created: true; record: OperationRecord } | { created: false; existing: OperationRecord };

/** Which parents a list covers: one exact parent, or a pattern where `-` stands for any one segment. */
export interface ParentQuery {
  /** The parent as given, possibly with `-` segments. */
  parent: string;
}

export interface ListQuery extends ParentQuery {
  filter: Filter | undefined;
  /** How many records at most. */
  limit: number;
  /** Only records with `seq` below this one (the page cursor); undefined for the first page. */
  beforeSeq: number | undefined;
}

export interface OperationStore {
  /** Inserts the record unless its name exists; an existing record is returned untouched. */
  create(record: NewOperationRecord): Promise<CreateResult>;
  get(name: string): Promise<OperationRecord | undefined>;
  /**
   * Applies `decide` to the current record atomically: no other write to the same record
   * happens between the read and the write. Returns the record as it is afterwards, or
   * `undefined` when there is no such record.
   */
  update(name: string, decide: UpdateDecision): Promise<OperationRecord | undefined>;
  /** Removes the record; false when there was none. */
  delete(name: string): Promise<boolean>;
  /** Records under the parent(s) that match the filter, newest first (by `seq`, descending). */
  list(query: ListQuery): Promise<OperationRecord[]>;
  /** Names of operations that are not done and whose cancel was requested at or before `time`. */
  cancelRequestedBefore(time: number, limit: number): Promise<string[]>;
  /** The earliest cancel request time among operations that are not done. */
  earliestPendingCancel(): Promise<number | undefined>;
  /** Removes up to `limit` done operations that finished before `time`; returns their names. */
  expireDone(time: number, limit: number): Promise<string[]>;
  /** Names of up to `limit` operations not done that were created before `time`. */
  pendingCreatedBefore(time: number, limit: number): Promise<string[]>;
  /** How many operations there are in each state (for metrics). */
  countByState(): Promise<StateCounts>;
  /** Resolves when the store can serve; throws (STORE_UNAVAILABLE) when it cannot. */
  ping(): Promise<void>;
  /**
   * A secret kept in the store under `key`, created with `create()` the first time. Replicas on
   * one database share it, and it survives restarts (page tokens stay valid).
   */
  secret(key: string, create: () => Buffer): Promise<Buffer>;
  close(): Promise<void>;
}
