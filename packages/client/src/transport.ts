/**
 * One HTTP call to the server: the URL, the headers, `fetch`, the per-attempt timeout, the
 * decoding of an answer or an error, and retries. The retry rule lives here and only here: an
 * idempotent call is sent again after an {@link isRetryable} error, after a jittered exponential
 * delay that is never shorter than the server's `Retry-After`.
 */
import { Backoff } from './backoff.js';
import { Code } from './code.js';
import { ApiError, errorFromResponse, isRetryable, parseRetryAfter } from './errors.js';
import { type CallOptions, type ResolvedClientOptions, withDefaults } from './options.js';

export interface HttpCall {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The path after the version, already encoded, such as `projects/p/operations/x:wait`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  body?: object;
  /** Whether sending the call twice does what sending it once does; only such calls are retried. */
  idempotent: boolean;
  /** How long the server may hold the call on purpose (a `:wait`), added to the attempt timeout. */
  holdMs?: number;
}

export interface HttpResult {
  body: unknown;
  headers: Headers;
}

export class Transport {
  readonly #options: ResolvedClientOptions;
  /** Aborted by `close()`: ends every call in flight and refuses new ones. */
  readonly #closed = new AbortController();

  constructor(options: ResolvedClientOptions) {
    this.#options = options;
  }

  close(): void {
    this.#closed.abort(new DOMException('The client was closed', 'AbortError'));
  }

  /** Waits on the client's clock; ends early, rejecting, when `signal` aborts or the client closes. */
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return this.#options.clock.sleep(ms, this.#signal(signal));
  }

  async call(call: HttpCall, options: CallOptions = {}): Promise<HttpResult> {
    const retry = withDefaults(this.#options.retry, options.retry);
    const signal = this.#signal(options.signal);
    const backoff = new Backoff(retry);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(call, signal);
      } catch (error) {
        if (!call.idempotent || attempt >= retry.maxAttempts || !isRetryable(error)) throw error;
        const delay = Math.max(backoff.next(), error.retryAfterMs ?? 0);
        if (delay > retry.maxDelayMs) throw error;
        await this.#options.clock.sleep(delay, signal);
      }
    }
  }

  async #attempt(call: HttpCall, signal: AbortSignal): Promise<HttpResult> {
    signal.throwIfAborted();
    const { endpoint, version, attemptTimeoutMs, clock } = this.#options;
    const url = `${endpoint}${version ? `/${version}` : ''}/${call.path}${queryString(call.query)}`;
    const timeoutMs = Math.ceil(attemptTimeoutMs + (call.holdMs ?? 0));
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.#options.fetch(url, {
        method: call.method,
        headers: this.#headers(call.body !== undefined),
        ...(call.body !== undefined && { body: JSON.stringify(call.body) }),
        signal: AbortSignal.any([signal, timeout]),
      });
      text = await response.text();
    } catch (error) {
      signal.throwIfAborted();
      // No answer: the call may or may not have reached the server, as with a dropped connection.
      const why = timeout.aborted ? `no response within ${timeoutMs} ms` : describe(error);
      throw new ApiError({ code: Code.UNAVAILABLE, message: `${call.method} ${url}: ${why}`, cause: error });
    }
    if (!response.ok) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock.now());
      throw errorFromResponse(response.status, response.statusText, text, retryAfterMs);
    }
    try {
      return { body: text.trim() === '' ? {} : JSON.parse(text), headers: response.headers };
    } catch (error) {
      throw new ApiError({
        code: Code.UNKNOWN,
        message: `${call.method} ${url}: the response (HTTP ${response.status}) is not JSON`,
        httpStatus: response.status,
        cause: error,
      });
    }
  }

  #signal(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.#closed.signal]) : this.#closed.signal;
  }

  #headers(hasBody: boolean): Record<string, string> {
    const { token, apiKey, headers } = this.#options;
    return {
      accept: 'application/json',
      ...(hasBody && { 'content-type': 'application/json' }),
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
      ...(apiKey !== undefined && { 'x-goog-api-key': apiKey }),
      ...headers,
    };
  }
}

function queryString(query: HttpCall['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** fetch's own message ("fetch failed") says little; its cause says what happened. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
