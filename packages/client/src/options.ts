/**
 * Every option of the client, documented field by field, and its defaults, applied here and
 * nowhere else.
 *
 * Where the defaults come from (see docs/client.md):
 * - Retries follow `google/longrunning/longrunning_grpc_service_config.json`, the settings
 *   Google ships for the Operations service: 5 attempts, 0.5 s doubling up to 10 s, with gRPC's
 *   "full jitter" (gRFC A6).
 * - Polling follows the most common `long_running` block of Google's client configs and
 *   google-api-core's default: 0.5 s, × 1.5, up to 20 s; and, as google-gax does, no total
 *   timeout unless asked for (an operation takes as long as it takes).
 */
import type { BackoffSettings } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import type { Any, Operation } from './types.js';

/** How a failed call is sent again. Only idempotent calls are retried, and only on {@link isRetryable} errors. */
export interface RetrySettings extends BackoffSettings {
  /** Attempts in all, the first one included; `1` turns retries off. @default 5 */
  maxAttempts: number;
  /** @default 500 */
  initialDelayMs: number;
  /** @default 2 */
  multiplier: number;
  /**
   * The largest delay between attempts. A `Retry-After` longer than this is not waited out: the
   * error is thrown at once, with `retryAfterMs` set, for the caller to decide. @default 10_000
   */
  maxDelayMs: number;
  /** @default 1 (full jitter) */
  jitter: number;
}

export const DEFAULT_RETRY: Readonly<RetrySettings> = {
  maxAttempts: 5,
  initialDelayMs: 500,
  multiplier: 2,
  maxDelayMs: 10_000,
  jitter: 1,
};

export interface ClientOptions {
  /** The server's base URL, such as `http://127.0.0.1:8080` or `https://example.com/lro`. */
  endpoint: string;
  /** The version segment that starts every path; `""` for none. @default 'v1' */
  version?: string;
  /** A bearer token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** An API key, sent as `X-Goog-Api-Key`. */
  apiKey?: string;
  /** Headers added to every request. */
  headers?: Record<string, string>;
  /** The `fetch` to send requests with, for instance one bound to an undici `Agent` you own. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * How long one attempt may wait for its response, in milliseconds; a `:wait` gets its own
   * timeout on top. An attempt that gets no answer in time fails like a lost connection
   * (`UNAVAILABLE`). @default 60_000 (google-gax's per-call timeout for the Operations methods)
   */
  attemptTimeoutMs?: number;
  /** Retry settings for every call; each call may override them. @default {@link DEFAULT_RETRY} */
  retry?: Partial<RetrySettings>;
  /** The clock retries and polling wait on; tests pass a fake one. @default systemClock */
  clock?: Clock;
}

export type ResolvedClientOptions = Required<Omit<ClientOptions, 'token' | 'apiKey' | 'retry'>> &
  Pick<ClientOptions, 'token' | 'apiKey'> & { retry: RetrySettings };

/** Options every call accepts. */
export interface CallOptions {
  /** Aborts the call (and its retries); the call rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Retry settings for this call, over the client's. */
  retry?: Partial<RetrySettings>;
}

export interface WaitOptions extends CallOptions {
  /**
   * How long the server may hold the call before answering with the operation as it is. The
   * server caps it (longrun at its `waitMaxMs`, 60 s by default). @default 60_000
   */
  timeoutMs?: number;
}

/** How `pollUntilDone` and `waitUntilDone` poll. */
export interface PollOptions extends CallOptions, Partial<BackoffSettings> {
  /** The first delay between polls, in milliseconds. @default 500 */
  initialDelayMs?: number;
  /** @default 1.5 */
  multiplier?: number;
  /** @default 20_000 */
  maxDelayMs?: number;
  /** @default 0.2 */
  jitter?: number;
  /**
   * Give up after this long, in milliseconds, with a `DEADLINE_EXCEEDED` ApiError.
   * @default Infinity (poll until done or until `signal` aborts)
   */
  timeoutMs?: number;
  /**
   * Spend each delay in the server's `:wait` long-poll, so completion is seen at once, instead of
   * a `get` followed by a local sleep. A server without `:wait` is detected and polled with `get`.
   * @default true
   */
  useWait?: boolean;
  /** Called when the operation's metadata differs from the last seen (the first metadata included). */
  onProgress?: (metadata: Any | undefined, operation: Operation) => void;
}

export type ResolvedPollOptions = BackoffSettings & Required<Pick<PollOptions, 'timeoutMs' | 'useWait'>>;

export const DEFAULT_POLLING: Readonly<ResolvedPollOptions> = {
  initialDelayMs: 500,
  multiplier: 1.5,
  maxDelayMs: 20_000,
  jitter: 0.2,
  timeoutMs: Number.POSITIVE_INFINITY,
  useWait: true,
};

export const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000;
export const DEFAULT_WAIT_TIMEOUT_MS = 60_000;

/** The fields of `defaults`, each overridden by the same field of `given` unless that is `undefined`. */
export function withDefaults<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  const result = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof T)[]) {
    const value = given?.[key];
    if (value !== undefined) result[key] = value as T[keyof T];
  }
  return result;
}

export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  if (!options.endpoint) throw new TypeError('OperationsClient: `endpoint` is required');
  return {
    endpoint: options.endpoint.replace(/\/+$/, ''),
    version: options.version ?? 'v1',
    token: options.token,
    apiKey: options.apiKey,
    headers: options.headers ?? {},
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    attemptTimeoutMs: options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
    retry: withDefaults(DEFAULT_RETRY, options.retry),
    clock: options.clock ?? systemClock,
  };
}

export function resolvePollOptions(options: PollOptions): ResolvedPollOptions {
  return withDefaults<ResolvedPollOptions>(DEFAULT_POLLING, options);
}
