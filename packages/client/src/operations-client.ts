/**
 * `OperationsClient`: every method of the operations API over REST, for the consumers of
 * operations (get, list, cancel, delete, wait, poll) and for their providers (create, patch, and
 * the progress/complete/fail helpers).
 */
import { Backoff } from './backoff.js';
import { Code } from './code.js';
import { ApiError } from './errors.js';
import {
  type CallOptions,
  type ClientOptions,
  DEFAULT_WAIT_TIMEOUT_MS,
  type PollOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
  resolvePollOptions,
  type WaitOptions,
} from './options.js';
import { operationResult } from './result.js';
import { type HttpCall, Transport } from './transport.js';
import type {
  Any,
  CreateOperationRequest,
  ListOperationsRequest,
  ListOperationsResponse,
  Operation,
  Status,
  UpdateOperationRequest,
} from './types.js';

/** The response header in which longrun tells a provider that a consumer asked to cancel. */
export const CANCEL_REQUESTED_HEADER = 'x-longrun-cancel-requested';

/** An operation as its provider sees it: the operation, and whether a consumer asked to cancel it. */
export interface OperationState {
  operation: Operation;
  /**
   * When a consumer asked to cancel (the `x-longrun-cancel-requested` header); `undefined` if
   * nobody has. The provider should stop and end the operation `CANCELLED`, for instance with
   * `fail(name, { code: Code.CANCELLED, message })`, or the server does so after its grace period.
   */
  cancelRequestTime: Date | undefined;
}

/** An operation's name as a URL path: each segment percent-encoded, the slashes kept (`{+name}`). */
function namePath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

/**
 * The `operations` collection of a parent (`projects/p` → `projects/p/operations`, `""` →
 * `operations`). A name that already ends with the collection (`projects/p/operations`, an odd
 * number of segments) is kept: ListOperationsRequest.name is given both ways in the wild.
 */
function collectionPath(parentOrCollection: string): string {
  if (parentOrCollection === '') return 'operations';
  const segments = parentOrCollection.split('/');
  const isCollection = segments.length % 2 === 1 && segments[segments.length - 1] === 'operations';
  return namePath(isCollection ? parentOrCollection : `${parentOrCollection}/operations`);
}

/** A Duration in proto3 JSON, such as `"1.500s"`. */
function duration(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(3)}s`;
}

/** Whether a `:wait` failed because the server does not serve it (rather than for the operation). */
function waitUnsupported(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.code === Code.UNIMPLEMENTED || error.code === Code.NOT_FOUND || error.httpStatus === 405)
  );
}

/**
 * A client for Google's long-running operations API, as longrun serves it (and any Google API
 * that binds the same REST paths). Calls reject with an {@link ApiError}.
 *
 * @example
 * ```ts
 * const client = new OperationsClient({ endpoint: 'http://127.0.0.1:8080' });
 * const response = await client.waitUntilDone('projects/p/operations/build-42', {
 *   onProgress: (metadata) => console.log('progress', metadata),
 * });
 * client.close();
 * ```
 */
export class OperationsClient {
  readonly #options: ResolvedClientOptions;
  readonly #transport: Transport;

  constructor(options: ClientOptions) {
    this.#options = resolveClientOptions(options);
    this.#transport = new Transport(this.#options);
  }

  // Consumer methods.

  /** The latest state of an operation. */
  async get(name: string, options?: CallOptions): Promise<Operation> {
    return (await this.getState(name, options)).operation;
  }

  /** One page of the operations under `request.name` (a parent, or its `operations` collection). */
  async list(request: ListOperationsRequest, options?: CallOptions): Promise<ListOperationsResponse> {
    const { body } = await this.#transport.call(
      {
        method: 'GET',
        path: collectionPath(request.name),
        query: {
          filter: request.filter || undefined,
          pageSize: request.pageSize || undefined,
          pageToken: request.pageToken || undefined,
          returnPartialSuccess: request.returnPartialSuccess || undefined,
        },
        idempotent: true,
      },
      options,
    );
    return body as ListOperationsResponse;
  }

  /**
   * The request for the page after `previousResponse`, or `null` after the last page: the
   * discovery clients' `list_next`.
   *
   * @example
   * ```ts
   * let request: ListOperationsRequest | null = { name: 'projects/p' };
   * while (request) {
   *   const page = await client.list(request);
   *   for (const operation of page.operations ?? []) console.log(operation.name);
   *   request = client.listNext(request, page);
   * }
   * ```
   */
  listNext(
    previousRequest: ListOperationsRequest,
    previousResponse: ListOperationsResponse,
  ): ListOperationsRequest | null {
    const pageToken = previousResponse.nextPageToken;
    return pageToken ? { ...previousRequest, pageToken } : null;
  }

  /**
   * Every operation under `request.name`, fetching page after page as the loop goes on.
   *
   * @example
   * ```ts
   * for await (const operation of client.listAll({ name: 'projects/p', pageSize: 100 })) {
   *   console.log(operation.name, operation.done ?? false);
   * }
   * ```
   */
  async *listAll(request: ListOperationsRequest, options?: CallOptions): AsyncGenerator<Operation, void, undefined> {
    let next: ListOperationsRequest | null = request;
    while (next) {
      const page: ListOperationsResponse = await this.list(next, options);
      yield* page.operations ?? [];
      next = this.listNext(next, page);
    }
  }

  /**
   * Asks for the operation to be cancelled. Cancellation is cooperative: the operation ends with
   * a `CANCELLED` error once its provider stops (or, on longrun, after the server's grace period).
   */
  async cancel(name: string, options?: CallOptions): Promise<void> {
    await this.#transport.call(
      { method: 'POST', path: `${namePath(name)}:cancel`, body: {}, idempotent: true },
      options,
    );
  }

  /**
   * Deletes the operation's record; the work itself is not cancelled. A retried delete whose
   * first attempt did reach the server answers `NOT_FOUND`.
   */
  async delete(name: string, options?: CallOptions): Promise<void> {
    await this.#transport.call({ method: 'DELETE', path: namePath(name), idempotent: true }, options);
  }

  /**
   * One call to the server's `:wait` long-poll: the operation once it is done, or as it is when
   * the timeout passes. It may answer earlier (the contract allows it), so check `done`.
   */
  async wait(name: string, options: WaitOptions = {}): Promise<Operation> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const { body } = await this.#transport.call(
      {
        method: 'POST',
        path: `${namePath(name)}:wait`,
        body: { timeout: duration(timeoutMs) },
        idempotent: true,
        holdMs: timeoutMs,
      },
      options,
    );
    return body as Operation;
  }

  /**
   * Polls until the operation is done and returns it, done, whether it succeeded or failed.
   *
   * Each round takes at least the backoff delay (see {@link PollOptions}): it is spent in the
   * server's `:wait`, which answers as soon as the operation is done, or, on a server without
   * `:wait`, in a local sleep after a `get`. Errors of the calls (after their own retries, which
   * honour `Retry-After`) reject the poll.
   *
   * @throws ApiError `DEADLINE_EXCEEDED` when `timeoutMs` passes; `signal.reason` when aborted.
   */
  async pollUntilDone(name: string, options: PollOptions = {}): Promise<Operation> {
    const settings = resolvePollOptions(options);
    const { clock } = this.#options;
    const call: CallOptions = { signal: options.signal, retry: options.retry };
    const deadline = clock.now() + settings.timeoutMs;
    const backoff = new Backoff(settings);
    let useWait = settings.useWait;
    let lastMetadata = JSON.stringify(undefined);
    for (;;) {
      const remaining = deadline - clock.now();
      if (remaining <= 0) {
        throw new ApiError({
          code: Code.DEADLINE_EXCEEDED,
          message: `Operation "${name}" was not done within ${settings.timeoutMs} ms`,
        });
      }
      const delay = Math.min(backoff.next(), remaining);
      const started = clock.now();
      let operation: Operation | undefined;
      if (useWait) {
        try {
          operation = await this.wait(name, { ...call, timeoutMs: delay });
        } catch (error) {
          if (!waitUnsupported(error)) throw error;
          useWait = false; // The get below tells a missing operation from a missing method.
        }
      }
      operation ??= await this.get(name, call);
      const metadata = JSON.stringify(operation.metadata);
      if (metadata !== lastMetadata) {
        lastMetadata = metadata;
        options.onProgress?.(operation.metadata, operation);
      }
      if (operation.done) return operation;
      await this.#transport.sleep(Math.max(0, delay - (clock.now() - started)), options.signal);
    }
  }

  /**
   * Polls until the operation is done (as {@link pollUntilDone}) and returns its result: the
   * `response` (`undefined` if it has none), or its `error` thrown as an {@link ApiError}. `T` is
   * not checked; look at `@type` if the operation may answer with several types.
   */
  async waitUntilDone<T extends Any = Any>(name: string, options?: PollOptions): Promise<T | undefined> {
    return operationResult<T>(await this.pollUntilDone(name, options));
  }

  // Provider methods.

  /**
   * Creates an operation. With an `operationId` the call is retried like an idempotent one: the
   * server answers an exact repeat with the operation it created. Without one it is sent once.
   */
  async create(request: CreateOperationRequest, options?: CallOptions): Promise<OperationState> {
    const body: Record<string, unknown> = {};
    if (request.operationId !== undefined) body.operationId = request.operationId;
    if (request.operation !== undefined) body.operation = request.operation;
    return this.#state(
      { method: 'POST', path: collectionPath(request.parent), body, idempotent: request.operationId !== undefined },
      options,
    );
  }

  /**
   * Updates an operation (the fields in `updateMask`, or all fields given). Once it is done, any
   * change is refused with `FAILED_PRECONDITION`; a patch that changes nothing returns it.
   */
  async patch(request: UpdateOperationRequest, options?: CallOptions): Promise<OperationState> {
    const body: Record<string, unknown> = { operation: request.operation };
    if (request.updateMask !== undefined) body.updateMask = request.updateMask;
    // A patch sets fields to values, so sending it twice leaves what sending it once does.
    return this.#state({ method: 'PATCH', path: namePath(request.name), body, idempotent: true }, options);
  }

  /** The operation and whether a consumer asked to cancel it. */
  async getState(name: string, options?: CallOptions): Promise<OperationState> {
    return this.#state({ method: 'GET', path: namePath(name), idempotent: true }, options);
  }

  /** Replaces the operation's metadata. */
  async reportProgress(name: string, metadata: Any, options?: CallOptions): Promise<OperationState> {
    return this.patch({ name, operation: { metadata }, updateMask: 'metadata' }, options);
  }

  /** Ends the operation with a response. */
  async complete(name: string, response: Any, options?: CallOptions): Promise<OperationState> {
    return this.patch({ name, operation: { done: true, response }, updateMask: 'done,response' }, options);
  }

  /** Ends the operation with an error (code 1 to 16; `Code.CANCELLED` to acknowledge a cancel). */
  async fail(name: string, error: Status, options?: CallOptions): Promise<OperationState> {
    return this.patch({ name, operation: { done: true, error }, updateMask: 'done,error' }, options);
  }

  /**
   * Ends every call of this client still in flight (they reject with an `AbortError`) and refuses
   * new ones. The global `fetch` keeps its connections in a pool shared by the whole process (or
   * page), which closes idle ones itself, so there is nothing of this client's to release there;
   * if you passed a `fetch` bound to a dispatcher you own (an undici `Agent`), close that too.
   */
  close(): void {
    this.#transport.close();
  }

  async #state(call: HttpCall, options: CallOptions | undefined): Promise<OperationState> {
    const { body, headers } = await this.#transport.call(call, options);
    const cancelRequested = headers.get(CANCEL_REQUESTED_HEADER);
    return { operation: body as Operation, cancelRequestTime: cancelRequested ? new Date(cancelRequested) : undefined };
  }
}
