/**
 * The rules of the operations contract, in one place: names, create and its exact retry,
 * patch with `done` terminal, cooperative cancel with a grace period, delete, list paging and
 * wait. Transports decode requests into these calls and encode what they return; they decide
 * nothing.
 */
import { hash, randomUUID } from 'node:crypto';
import { ApiError, invalidField } from '../contract/errors.js';
import { updatedFields } from '../contract/field-mask.js';
import { isJsonObject, parseJson, stringifyJson } from '../contract/json.js';
import { checkOperationId, operationName, parseListName, parseOperationName, parseParent } from '../contract/names.js';
import { checkResult, type OperationInput, readOperation } from '../contract/operation.js';
import type { PageTokens } from '../contract/page-token.js';
import type { EventHub, OperationEvent } from '../events/event-hub.js';
import { parseFilter } from '../filter/index.js';
import type { OperationChange, OperationRecord, OperationStore } from '../store/store.js';

export const DEFAULT_PAGE_SIZE = 50;

/** Bounds on what a request may ask for; every one is a configuration setting. */
export interface ServiceLimits {
  maxNameLength: number;
  maxFilterLength: number;
  maxFilterDepth: number;
  maxPageSize: number;
  /** Bytes of canonical JSON in each of metadata, response and error. */
  maxOperationFieldBytes: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  maxNameLength: 1024,
  maxFilterLength: 4096,
  maxFilterDepth: 32,
  maxPageSize: 1000,
  maxOperationFieldBytes: 1024 * 1024,
};

/** The error a cancelled operation ends with when its provider did not end it first. */
export const CANCELLED_ERROR = JSON.stringify({ code: 1, message: 'The operation was cancelled.' });

/** The error an operation ends with when it runs past the maximum pending age. */
export const EXPIRED_ERROR = JSON.stringify({
  code: 4,
  message: 'The operation did not finish within the maximum age this server allows.',
});

/** How many records one retention step touches, so a sweep never holds the store for long. */
const RETENTION_BATCH = 500;

export interface ServiceOptions {
  /** How long a provider has to acknowledge a cancel before the server ends the operation CANCELLED. */
  cancelGracePeriodMs: number;
  /** The longest a wait lasts, whatever timeout it asks for. */
  waitMaxMs: number;
  pageTokens: PageTokens;
  limits?: Partial<ServiceLimits>;
  /** How long done operations are kept; 0 keeps them forever. */
  retentionMs?: number;
  /** Operations not done this long after creation end with DEADLINE_EXCEEDED; 0 for never. */
  maxPendingAgeMs?: number;
  now?: () => number;
}

/** What one retention sweep did. */
export interface SweepResult {
  expired: number;
  timedOut: number;
}

export interface CreateRequest {
  parent: string;
  operationId?: string | undefined;
  /** The Operation as JSON, unvalidated. */
  operation?: unknown;
}

export interface PatchRequest {
  name: string;
  operation: unknown;
  updateMask?: string | undefined;
}

export interface ListRequest {
  /** The parent or the collection (both conventions). */
  name: string;
  filter?: string | undefined;
  pageSize?: number | undefined;
  pageToken?: string | undefined;
}

export interface ListResult {
  operations: OperationRecord[];
  nextPageToken: string | undefined;
}

function notFound(name: string): ApiError {
  return new ApiError('OPERATION_NOT_FOUND', `Operation "${name}" not found`, { metadata: { name } });
}

type ResultState = Pick<OperationRecord, 'done' | 'metadata' | 'error' | 'response'>;

function sameResult(a: ResultState, b: ResultState): boolean {
  return a.done === b.done && a.metadata === b.metadata && a.error === b.error && a.response === b.response;
}

/**
 * How a transport tells a wait that its caller has gone (a closed connection, a cancelled call):
 * it calls `gone` then, once or more. A callback rather than an AbortSignal, which costs far more
 * per waiter than what it does here.
 */
export type OnGone = (gone: () => void) => void;

/** An `OnGone` for a call that already has an AbortSignal (gRPC's). */
export function goneOnAbort(signal: AbortSignal): OnGone {
  return (gone) => {
    if (signal.aborted) gone();
    else signal.addEventListener('abort', gone, { once: true });
  };
}

/** What a wait ended by when its caller went away. */
const GONE = Symbol('gone');
type WaitEnd = (why?: OperationEvent | typeof GONE) => void;

export class OperationsService {
  readonly #store: OperationStore;
  readonly #events: EventHub;
  readonly #options: ServiceOptions;
  readonly #now: () => number;
  readonly #limits: ServiceLimits;
  #cancelTimer: NodeJS.Timeout | undefined;
  #cancelTimerAt = Number.POSITIVE_INFINITY;
  #closed = false;
  /** Every pending wait's end, called at shutdown. */
  readonly #waits = new Set<WaitEnd>();

  constructor(store: OperationStore, events: EventHub, options: ServiceOptions) {
    this.#store = store;
    this.#events = events;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  get limits(): Readonly<ServiceLimits> {
    return this.#limits;
  }

  #name(name: string): string {
    return parseOperationName(name, 'name', this.#limits.maxNameLength).name;
  }

  #operation(value: unknown): OperationInput {
    const input = readOperation(value);
    for (const field of ['metadata', 'error', 'response'] as const) {
      const text = input[field];
      if (text !== undefined && Buffer.byteLength(text) > this.#limits.maxOperationFieldBytes) {
        throw new ApiError(
          'OPERATION_TOO_LARGE',
          `operation.${field} is larger than the ${this.#limits.maxOperationFieldBytes} bytes this server accepts`,
          {
            metadata: { field: `operation.${field}`, limit: String(this.#limits.maxOperationFieldBytes) },
            fieldViolations: [{ field: `operation.${field}`, description: 'is too large' }],
          },
        );
      }
    }
    return input;
  }

  /** Picks up cancel requests whose grace period runs out (including those from before a restart). */
  async start(): Promise<void> {
    await this.expireCancellations();
  }

  /** True once `close` was called: transports tell clients to go elsewhere. */
  get closing(): boolean {
    return this.#closed;
  }

  /** Stops the timers and answers every waiter with the state it has now. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#cancelTimer);
    for (const end of this.#waits) end();
  }

  async create(request: CreateRequest): Promise<OperationRecord> {
    const parent = parseParent(request.parent, { maxLength: this.#limits.maxNameLength });
    const input = this.#operation(request.operation);
    let id = request.operationId === undefined ? undefined : checkOperationId(request.operationId);
    if (input.name !== undefined) {
      const named = parseOperationName(input.name, 'operation.name', this.#limits.maxNameLength);
      if (named.parent !== parent) {
        throw invalidField('operation.name', `"${input.name}" is not under the parent "${parent}"`);
      }
      if (id !== undefined && named.id !== id) {
        throw invalidField('operation.name', `"${input.name}" does not end with the operation_id "${id}"`);
      }
      id = named.id;
    }
    const state = {
      done: input.done ?? false,
      metadata: input.metadata ?? null,
      error: input.error ?? null,
      response: input.response ?? null,
    };
    checkResult(state);
    // An id the caller chose makes the create retryable: the same request again is answered with
    // the operation it created. A server-assigned id is new each time, so there is nothing to compare.
    const createHash = id === undefined ? null : hashCreate(state);
    const name = operationName(parent, id ?? randomUUID());
    const now = this.#now();
    const result = await this.#store.create({
      name,
      parent,
      ...state,
      createTime: now,
      updateTime: now,
      doneTime: state.done ? now : null,
      cancelRequestTime: null,
      createHash,
    });
    if (!result.created) {
      if (createHash !== null && result.existing.createHash === createHash) return result.existing;
      throw new ApiError('OPERATION_ALREADY_EXISTS', `Operation "${name}" already exists`, { metadata: { name } });
    }
    this.#publish({ type: 'created', name, record: result.record });
    return result.record;
  }

  async get(name: string): Promise<OperationRecord> {
    this.#name(name);
    const record = await this.#store.get(name);
    if (!record) throw notFound(name);
    return record;
  }

  async patch(request: PatchRequest): Promise<OperationRecord> {
    const name = this.#name(request.name);
    const input = this.#operation(request.operation);
    if (input.name !== undefined && input.name !== name) {
      throw invalidField('operation.name', `"${input.name}" is not the operation being updated ("${name}")`);
    }
    const fields = updatedFields(request.updateMask, input);
    let changed = false;
    const record = await this.#store.update(name, (current) => {
      changed = false;
      const next: ResultState = {
        done: current.done,
        metadata: current.metadata,
        error: current.error,
        response: current.response,
      };
      for (const field of fields) {
        if (field === 'done') next.done = input.done ?? false;
        else next[field] = input[field] ?? null;
      }
      if (sameResult(next, current)) return null; // A retried patch changes nothing, done or not.
      if (current.done) {
        throw new ApiError('OPERATION_DONE', `Operation "${name}" is done; a done operation cannot change`, {
          metadata: { name },
        });
      }
      checkResult(next);
      changed = true;
      const now = this.#now();
      return {
        ...next,
        updateTime: now,
        doneTime: next.done ? now : null,
        cancelRequestTime: current.cancelRequestTime,
      };
    });
    if (!record) throw notFound(name);
    if (changed) this.#publish({ type: 'updated', name, record });
    return record;
  }

  async list(request: ListRequest): Promise<ListResult> {
    const parent = parseListName(request.name, 'name', this.#limits.maxNameLength);
    const filterText = request.filter ?? '';
    const filter = parseFilter(filterText, {
      maxLength: this.#limits.maxFilterLength,
      maxDepth: this.#limits.maxFilterDepth,
    });
    const requested = request.pageSize ?? 0;
    if (!Number.isInteger(requested) || requested < 0) {
      throw invalidField('page_size', 'must be a non-negative integer', 'INVALID_PAGE_SIZE');
    }
    const maxPageSize = this.#limits.maxPageSize;
    const pageSize = requested === 0 ? Math.min(DEFAULT_PAGE_SIZE, maxPageSize) : Math.min(requested, maxPageSize);
    const beforeSeq = request.pageToken
      ? this.#options.pageTokens.read(request.pageToken, parent, filterText, this.#now())
      : undefined;
    const records = await this.#store.list({ parent, filter, limit: pageSize + 1, beforeSeq });
    if (records.length <= pageSize) return { operations: records, nextPageToken: undefined };
    const page = records.slice(0, pageSize);
    const nextPageToken = this.#options.pageTokens.mint(
      { parent, filter: filterText, beforeSeq: page[page.length - 1]!.seq },
      this.#now(),
    );
    return { operations: page, nextPageToken };
  }

  /**
   * Records the cancel request at once (idempotently). The provider sees it and ends the operation
   * itself; if it has not within the grace period, the server ends it with CANCELLED.
   */
  async cancel(name: string): Promise<void> {
    this.#name(name);
    const grace = this.#options.cancelGracePeriodMs;
    let changed = false;
    const record = await this.#store.update(name, (current) => {
      changed = false;
      if (current.done || current.cancelRequestTime !== null) return null;
      changed = true;
      const now = this.#now();
      return grace === 0 ? cancelledChange(current, now, now) : { ...current, updateTime: now, cancelRequestTime: now };
    });
    if (!record) throw notFound(name);
    if (!changed) return;
    this.#publish({ type: 'updated', name, record });
    if (!record.done) this.#scheduleCancelExpiry(record.cancelRequestTime! + grace);
  }

  /** Removes the record; the work itself is not cancelled (the contract's Delete). */
  async delete(name: string): Promise<void> {
    this.#name(name);
    if (!(await this.#store.delete(name))) throw notFound(name);
    this.#publish({ type: 'deleted', name });
  }

  /**
   * Returns once the operation is done, or when the timeout (capped by the server's maximum)
   * passes or the server shuts down, with the latest state. When the caller goes away (`onGone`),
   * it returns at once with the state read at the start: nobody reads that answer.
   *
   * A pending wait holds this call, one timer and one function that is at once its event-hub
   * listener, its timer callback and its shutdown and caller-gone hook: no AbortSignal (each costs
   * about a kilobyte, AbortSignal.any more) and no promise sleep. Ten thousand waits then cost
   * little beside their connections (bench/waiters.js).
   */
  async wait(name: string, timeoutMs: number | undefined, onGone?: OnGone): Promise<OperationRecord> {
    this.#name(name);
    const timeout = Math.min(timeoutMs ?? this.#options.waitMaxMs, this.#options.waitMaxMs);
    let end!: WaitEnd;
    const ended = new Promise<OperationEvent | typeof GONE | undefined>((resolve) => {
      // Called with an event (only a completion or a deletion ends the wait), with nothing (the
      // timeout, shutdown) or with GONE; the first call decides, later ones change nothing.
      end = (why) => {
        if (why === undefined || why === GONE || why.type === 'deleted' || why.record.done) resolve(why);
      };
    });
    // Subscribe before reading, so a completion between the two cannot be missed; and listen for
    // the caller before reading, so one who leaves meanwhile is not waited for.
    this.#events.listen(name, end);
    onGone?.(() => end(GONE));
    let timer: NodeJS.Timeout | undefined;
    try {
      const record = await this.#store.get(name);
      if (!record) throw notFound(name);
      if (record.done || timeout === 0 || this.#closed) return record;
      timer = setTimeout(end, timeout);
      this.#waits.add(end);
      const why = await ended;
      if (why === GONE) return record;
      if (why?.type === 'deleted') throw notFound(name);
      if (why) return why.record;
      try {
        return await this.get(name);
      } catch (error) {
        // The store went away while we waited: the state read at the start is still the latest we know.
        if (error instanceof ApiError && error.reason === 'STORE_UNAVAILABLE') return record;
        throw error;
      }
    } finally {
      clearTimeout(timer);
      this.#waits.delete(end);
      this.#events.unlisten(name, end);
    }
  }

  /**
   * One retention sweep, in bounded batches: removes done operations older than the retention
   * period, and ends operations pending longer than the maximum age with DEADLINE_EXCEEDED.
   */
  async sweep(): Promise<SweepResult> {
    const result: SweepResult = { expired: 0, timedOut: 0 };
    const now = this.#now();
    const retention = this.#options.retentionMs ?? 0;
    if (retention > 0) {
      for (;;) {
        const names = await this.#store.expireDone(now - retention, RETENTION_BATCH);
        for (const name of names) this.#publish({ type: 'deleted', name });
        result.expired += names.length;
        if (names.length < RETENTION_BATCH) break;
      }
    }
    const maxAge = this.#options.maxPendingAgeMs ?? 0;
    if (maxAge > 0) {
      for (;;) {
        const names = await this.#store.pendingCreatedBefore(now - maxAge, RETENTION_BATCH);
        for (const name of names) {
          let changed = false;
          const record = await this.#store.update(name, (current) => {
            changed = !current.done;
            if (!changed) return null;
            return { ...current, done: true, error: EXPIRED_ERROR, response: null, updateTime: now, doneTime: now };
          });
          if (record && changed) {
            this.#publish({ type: 'updated', name, record });
            result.timedOut++;
          }
        }
        if (names.length < RETENTION_BATCH) break;
      }
    }
    return result;
  }

  #publish(event: OperationEvent): void {
    this.#events.publish(event);
  }

  #scheduleCancelExpiry(at: number): void {
    if (this.#closed || at >= this.#cancelTimerAt) return;
    clearTimeout(this.#cancelTimer);
    this.#cancelTimerAt = at;
    this.#cancelTimer = setTimeout(
      () => {
        this.#cancelTimerAt = Number.POSITIVE_INFINITY;
        this.expireCancellations().catch(() => {
          // The store is down: try again shortly; the requests are durable.
          this.#scheduleCancelExpiry(this.#now() + 1000);
        });
      },
      Math.max(0, at - this.#now()),
    );
    this.#cancelTimer.unref();
  }

  /**
   * Ends every operation whose cancel grace period has run out, then sets a timer for the next one.
   * Idempotent, so replicas sharing a store may all run it.
   */
  async expireCancellations(): Promise<void> {
    const grace = this.#options.cancelGracePeriodMs;
    for (;;) {
      const now = this.#now();
      const names = await this.#store.cancelRequestedBefore(now - grace, 100);
      for (const name of names) {
        let changed = false;
        const record = await this.#store.update(name, (current) => {
          changed = !current.done && current.cancelRequestTime !== null && current.cancelRequestTime <= now - grace;
          return changed ? cancelledChange(current, now, current.cancelRequestTime!) : null;
        });
        if (record && changed) this.#publish({ type: 'updated', name, record });
      }
      if (names.length < 100) break;
    }
    const earliest = await this.#store.earliestPendingCancel();
    if (earliest !== undefined) this.#scheduleCancelExpiry(earliest + grace);
  }
}

function cancelledChange(current: OperationRecord, now: number, requestedAt: number): OperationChange {
  return {
    done: true,
    metadata: current.metadata,
    error: CANCELLED_ERROR,
    response: null,
    updateTime: now,
    doneTime: now,
    cancelRequestTime: requestedAt,
  };
}

/**
 * The create's content, independent of how it was spelled: keys sorted at every level, so the same
 * create sent over REST and then over gRPC (whose JSON orders keys its own way) is one retry.
 */
function hashCreate(state: ResultState): string {
  const canonical = (text: string | null) => (text === null ? null : sortKeys(parseJson(text)));
  const content = [state.done, canonical(state.metadata), canonical(state.error), canonical(state.response)];
  return hash('sha256', stringifyJson(content), 'base64url');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys(value[key])]),
  );
}
