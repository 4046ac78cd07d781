/**
 * Live updates from the server's watch streams (`GET /v1/{name}:watch`,
 * `GET /v1/{parent}/operations:watch?filter=…`), read with fetch so the token travels in the
 * Authorization header (EventSource cannot send one). Server-Sent Events are parsed as the spec
 * says; a dropped stream reconnects with `Last-Event-ID`, so nothing is missed within the server's
 * event retention. When the server has no watch streams, the view is told to poll instead.
 */
import { ApiFailure, authHeaders, notifyUnauthenticated } from './api.js';

export interface WatchEvent {
  id: string | undefined;
  type: string;
  data: string;
}

export type WatchStatus = 'connecting' | 'live' | 'retrying';

export interface WatchHandlers {
  onEvent(event: WatchEvent): void;
  onStatus?(status: WatchStatus): void;
  /** Watching is not possible here (no watch streams on this store, or not allowed): poll instead. */
  onUnsupported(reason: string): void;
  /** The stream restarted without its history (the resume point expired): reload the view's state. */
  onReset?(): void;
  /** A failure that ends the watch for good (the operation is gone). */
  onGone?(failure: ApiFailure): void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** Parses an SSE byte stream into events, calling `emit` for each complete one. */
export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #type = '';
  #id: string | undefined;
  lastEventId: string | undefined;

  constructor(private readonly emit: (event: WatchEvent) => void) {}

  feed(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (!match) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#id !== undefined) this.lastEventId = this.#id;
      if (this.#data.length > 0) {
        this.emit({ id: this.#id, type: this.#type || 'message', data: this.#data.join('\n') });
      }
      this.#data = [];
      this.#type = '';
      this.#id = undefined;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#type = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }
}

/** Watches until `signal` aborts. `path` is the watch path, `query` its parameters. */
export function watch(
  path: string,
  query: Record<string, string | undefined>,
  handlers: WatchHandlers,
  signal: AbortSignal,
): void {
  void run(path, query, handlers, signal);
}

async function run(
  path: string,
  query: Record<string, string | undefined>,
  handlers: WatchHandlers,
  signal: AbortSignal,
): Promise<void> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const search = params.toString();
  const url = search === '' ? path : `${path}?${search}`;
  let lastEventId: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    handlers.onStatus?.(failures === 0 ? 'connecting' : 'retrying');
    let reconnectNow = false;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      const response = await fetch(url, { headers, signal, cache: 'no-store', credentials: 'omit' });
      if (!response.ok || !response.body) {
        const body = await response.json().catch(() => undefined);
        const failure = new ApiFailure(response.status, body, `watch failed with HTTP ${response.status}`);
        if (response.status === 401) {
          notifyUnauthenticated(failure);
          return;
        }
        if (failure.reason === 'EVENT_ID_EXPIRED' || failure.reason === 'INVALID_EVENT_ID') {
          lastEventId = undefined;
          handlers.onReset?.();
          continue;
        }
        if (failure.reason === 'OPERATION_NOT_FOUND') {
          handlers.onGone?.(failure);
          return;
        }
        if (
          response.status === 403 ||
          response.status === 501 ||
          failure.reason === 'PATH_NOT_FOUND' ||
          failure.reason === 'NOT_SUPPORTED' ||
          response.status === 400
        ) {
          handlers.onUnsupported(failure.message);
          return;
        }
        throw failure;
      }
      failures = 0;
      handlers.onStatus?.('live');
      let ended: WatchEvent | undefined;
      const parser = new SseParser((event) => {
        if (event.type === 'end') ended = event;
        else handlers.onEvent(event);
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
        if (parser.lastEventId !== undefined) lastEventId = parser.lastEventId;
        if (ended) break;
      }
      if (ended) {
        let reason: string | undefined;
        try {
          const failure = new ApiFailure(0, JSON.parse(ended.data), 'the stream ended');
          reason = failure.reason;
        } catch {
          reason = undefined;
        }
        if (reason === 'EVENT_ID_EXPIRED') {
          lastEventId = undefined;
          handlers.onReset?.();
        }
        // SLOW_CONSUMER, SHUTTING_DOWN: reconnect and resume.
        reconnectNow = true;
        await reader.cancel().catch(() => {});
      }
    } catch {
      if (signal.aborted) return;
    }
    if (signal.aborted) return;
    failures++;
    await sleep(reconnectNow && failures === 1 ? 200 : Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), signal);
  }
}
