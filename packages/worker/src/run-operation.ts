/**
 * `runOperation`: runs a function as a long-running operation. It creates the operation (or
 * resumes one), tells the function when a consumer asks to cancel, records its progress, and
 * records its outcome, retrying until the server has it.
 */
import {
  type Any,
  ApiError,
  Backoff,
  type ClientOptions,
  Code,
  DEFAULT_RETRY,
  type Operation,
  type OperationState,
  OperationsClient,
  type Status,
  systemClock,
} from '@longrun/client';
import { ProgressReporter } from './progress-reporter.js';
import { CANCELLED_STATUS, toAny, toStatus } from './values.js';

/** What a handler gets to do its work. */
export interface OperationContext {
  /** The operation's name, to hand to whoever will wait on it. */
  readonly name: string;
  /**
   * The operation as the run found it: just created, or, when resuming, with the last metadata
   * recorded (a checkpoint to carry on from).
   */
  readonly operation: Operation;
  /**
   * Aborts when a consumer asks to cancel the operation (the run checks every
   * `cancelPollIntervalMs`, and on every progress patch), or when the operation ends without this
   * run (for instance after the server's cancel grace period). Its reason is an `AbortError`.
   * However the handler then ends, the operation ends `CANCELLED`.
   */
  readonly signal: AbortSignal;
  /**
   * Records `metadata` as the operation's metadata, without waiting: an `Any` as it is, any other
   * JSON value wrapped as a `google.protobuf.Value` (see {@link RunOperationOptions}). Calls are
   * coalesced: the latest wins, with at most one patch in flight and one every
   * `progressIntervalMs`. A failed patch is tried again; the final patch carries the latest.
   *
   * @throws TypeError for a value JSON cannot hold (a function, a symbol).
   */
  progress(metadata: unknown): void;
}

/** The work. Its return value becomes the operation's response; a thrown error, its error. */
export type OperationHandler = (context: OperationContext) => unknown;

export interface RunOperationOptions {
  /** The server: an `OperationsClient` (left open), or the options to make one (closed when the run ends). */
  client: OperationsClient | ClientOptions;
  /**
   * Resume this operation (under `parent`) instead of creating one: the handler runs again, with
   * the operation's last metadata in `context.operation`. An operation already done is returned
   * as it is, without running the handler.
   */
  name?: string;
  /**
   * The id of the operation to create. An exact repeat of a create is answered with the operation
   * it created, so the create is retried safely; if that operation is done, it is returned
   * without running the handler. @default a random UUID
   */
  operationId?: string;
  /** The operation's first metadata, converted as `context.progress` converts it. */
  metadata?: unknown;
  /** The least time between two progress patches, in milliseconds. @default 1000 */
  progressIntervalMs?: number;
  /** How often to ask the server whether a consumer asked to cancel, in milliseconds. @default 500 */
  cancelPollIntervalMs?: number;
}

const DEFAULT_PROGRESS_INTERVAL_MS = 1000;
const DEFAULT_CANCEL_POLL_INTERVAL_MS = 500;

/** One attempt per call: the run's own loops decide when to try again. */
const ONCE = { retry: { maxAttempts: 1 } };

/**
 * Whether a failed call may succeed later: no answer arrived, the server failed (5xx, a proxy's
 * 502 while the server restarts included), or it is rate limiting (429). A 4xx answer is final.
 */
function isTransient(error: unknown): boolean {
  return (
    error instanceof ApiError && (error.httpStatus === undefined || error.httpStatus === 429 || error.httpStatus >= 500)
  );
}

/**
 * Runs `handler` as an operation under `parent` (`""` for top-level `operations/…` names) and
 * returns the operation once its outcome is recorded:
 * - the handler's return value becomes the `response`: an object with an `@type` is an `Any` as
 *   it is; `undefined` is `google.protobuf.Empty`; any other JSON value is wrapped as
 *   `{"@type": "type.googleapis.com/google.protobuf.Value", "value": …}`;
 * - a thrown error becomes the `error`: one with a canonical `code` (an `ApiError`, a gRPC error)
 *   keeps it, anything else is `UNKNOWN` with its message;
 * - once `context.signal` has aborted, however the handler ends, the operation ends `CANCELLED`.
 *
 * The final patch is retried until it lands or the operation turns out to be done already (a
 * server restart loses nothing). If the server refuses the outcome as invalid (`INVALID_ARGUMENT`,
 * say a response whose `@type` is not a type URL), the operation fails with that error instead,
 * so it never stays running.
 *
 * @throws ApiError if the operation cannot be created or read, or the outcome cannot be recorded
 *   for a reason other than those above (it was deleted: `NOT_FOUND`).
 *
 * @example
 * ```ts
 * const operation = await runOperation('projects/demo', async ({ signal, progress }) => {
 *   for (let step = 1; step <= 10; step++) {
 *     signal.throwIfAborted();
 *     await doStep(step);
 *     progress({ step, of: 10 });
 *   }
 *   return { '@type': 'type.googleapis.com/demo.Report', steps: 10 };
 * }, { client: { endpoint: 'http://127.0.0.1:8080' } });
 * ```
 */
export async function runOperation(
  parent: string,
  handler: OperationHandler,
  options: RunOperationOptions,
): Promise<Operation> {
  const owned = !(options.client instanceof OperationsClient);
  const client = options.client instanceof OperationsClient ? options.client : new OperationsClient(options.client);
  try {
    const start = await begin(client, parent, options);
    if (start.operation.done) return start.operation;
    return await new Run(client, start, options).execute(handler);
  } finally {
    if (owned) client.close();
  }
}

async function begin(client: OperationsClient, parent: string, options: RunOperationOptions): Promise<OperationState> {
  if (options.name !== undefined) {
    const prefix = parent === '' ? 'operations/' : `${parent}/operations/`;
    if (!options.name.startsWith(prefix)) {
      throw new TypeError(`runOperation: "${options.name}" is not an operation under "${parent}"`);
    }
    return client.getState(options.name);
  }
  return client.create({
    parent,
    operationId: options.operationId ?? crypto.randomUUID(),
    ...(options.metadata !== undefined && { operation: { metadata: toAny(options.metadata) } }),
  });
}

class Run {
  readonly #client: OperationsClient;
  readonly #name: string;
  readonly #operation: Operation;
  readonly #cancelPollIntervalMs: number;
  readonly #progress: ProgressReporter;
  /** Aborted when the handler should stop: `context.signal`. */
  readonly #cancel = new AbortController();
  /** Aborted when the handler has ended: stops watching. */
  readonly #ended = new AbortController();

  constructor(client: OperationsClient, start: OperationState, options: RunOperationOptions) {
    this.#client = client;
    this.#name = start.operation.name!;
    this.#operation = start.operation;
    this.#cancelPollIntervalMs = options.cancelPollIntervalMs ?? DEFAULT_CANCEL_POLL_INTERVAL_MS;
    this.#progress = new ProgressReporter(
      (metadata) => this.#sendProgress(metadata),
      options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
    );
    this.#observe(start);
  }

  async execute(handler: OperationHandler): Promise<Operation> {
    this.#watch();
    const context: OperationContext = {
      name: this.#name,
      operation: this.#operation,
      signal: this.#cancel.signal,
      progress: (metadata) => this.#progress.report(toAny(metadata)),
    };
    let outcome: { response: Any } | { error: Status };
    try {
      outcome = { response: toAny(await handler(context)) };
    } catch (error) {
      outcome = { error: toStatus(error) };
    }
    this.#ended.abort();
    if (this.#cancel.signal.aborted) outcome = { error: CANCELLED_STATUS };
    const metadata = await this.#progress.stop();
    return this.#finish({ done: true, ...(metadata && { metadata }), ...outcome });
  }

  /** Stops the handler if the operation is to be cancelled, or is over. */
  #observe(state: OperationState): void {
    if (this.#cancel.signal.aborted) return;
    if (state.cancelRequestTime) {
      this.#cancel.abort(new DOMException('A consumer asked to cancel the operation', 'AbortError'));
    } else if (state.operation.done) {
      this.#cancel.abort(new DOMException('The operation ended without this run', 'AbortError'));
    }
  }

  /** Asks the server every `cancelPollIntervalMs` whether to stop, until the handler ends or is told to stop. */
  #watch(): void {
    const signal = AbortSignal.any([this.#ended.signal, this.#cancel.signal]);
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        this.#observe(await this.#client.getState(this.#name, { ...ONCE, signal }));
      } catch {
        // The server is restarting, or the run is over: either way, the next tick (or the final
        // patch) tells.
      }
      if (!signal.aborted) timer = setTimeout(tick, this.#cancelPollIntervalMs);
    };
    timer = setTimeout(tick, this.#cancelPollIntervalMs);
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  }

  async #sendProgress(metadata: Any): Promise<void> {
    try {
      this.#observe(await this.#client.reportProgress(this.#name, metadata, ONCE));
    } catch (error) {
      if (isTransient(error)) throw error; // The reporter sends it again.
      // A final answer (done, deleted, invalid): the final patch will meet it too.
    }
  }

  /** Records the outcome, trying until it lands or the operation turns out to be done. */
  async #finish(operation: Operation): Promise<Operation> {
    const backoff = new Backoff(DEFAULT_RETRY);
    let refused = false;
    for (;;) {
      try {
        const updateMask = Object.keys(operation).join(',');
        return (await this.#client.patch({ name: this.#name, operation, updateMask }, ONCE)).operation;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.code === Code.FAILED_PRECONDITION) {
          const current = await this.#client.get(this.#name);
          if (current.done) return current;
          throw error;
        }
        if (error.code === Code.INVALID_ARGUMENT && !refused) {
          refused = true;
          operation = { done: true, error: { code: error.code, message: `The outcome was refused: ${error.message}` } };
          continue;
        }
        if (!isTransient(error)) throw error;
        await systemClock.sleep(backoff.next());
      }
    }
  }
}
