/**
 * A small Server-Sent Events client over node:http for tests: one socket per stream (no shared
 * agent, nothing global changed), frames parsed as the SSE spec says, and promises to wait on.
 */
import http from 'node:http';

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseOpenResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body of a non-200 answer. */
  body?: string;
}

export class SseStream {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** The id of the last event with one (what an EventSource would send as Last-Event-ID). */
  lastEventId: string | undefined;
  ended = false;
  readonly #request: http.ClientRequest;
  readonly #waiters = new Set<() => void>();
  #buffer = '';
  #event: Partial<SseEvent> & { data?: string } = {};
  readonly finished: Promise<void>;
  #finish!: () => void;

  constructor(request: http.ClientRequest, response: http.IncomingMessage) {
    this.#request = request;
    this.finished = new Promise((resolve) => {
      this.#finish = resolve;
    });
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.#feed(chunk));
    const end = () => {
      if (this.ended) return;
      this.ended = true;
      this.#notify();
      this.#finish();
    };
    response.on('end', end);
    response.on('close', end);
    response.on('error', end);
  }

  #feed(chunk: string): void {
    this.#buffer += chunk;
    let newline = this.#buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this.#buffer.slice(0, newline).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(newline + 1);
      this.#line(line);
      newline = this.#buffer.indexOf('\n');
    }
    this.#notify();
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#event.data !== undefined) {
        const event: SseEvent = { id: this.#event.id, event: this.#event.event ?? 'message', data: this.#event.data };
        this.events.push(event);
      }
      this.#event = {};
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.#event.data = this.#event.data === undefined ? value : `${this.#event.data}\n${value}`;
    else if (field === 'event') this.#event.event = value;
    else if (field === 'id') {
      this.#event.id = value;
      this.lastEventId = value;
    }
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Resolves once `predicate` holds (checked after each chunk), rejects after `timeoutMs` or at the end. */
  until(predicate: (stream: SseStream) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this)) {
          done();
          resolve();
        } else if (this.ended) {
          done();
          reject(new Error(`stream ended before ${what} (${this.events.length} events)`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what} (${this.events.length} events)`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  /** Waits until at least `count` events arrived. */
  waitForEvents(count: number, timeoutMs = 10_000): Promise<void> {
    return this.until((s) => s.events.length >= count, timeoutMs, `${count} events`);
  }

  /** The events of a type (or all but `snapshot`/`ready`/`end` when no type is given). */
  of(type?: string): SseEvent[] {
    return this.events.filter((e) =>
      type === undefined ? !['snapshot', 'ready', 'end'].includes(e.event) : e.event === type,
    );
  }

  close(): void {
    this.#request.destroy();
  }
}

/**
 * Opens a stream. Resolves with the stream on 200; with `{status, body}` otherwise.
 */
export function openSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ stream: SseStream; result: SseOpenResult } | { stream: undefined; result: SseOpenResult }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      url,
      { agent: false, headers: { accept: 'text/event-stream', ...headers } },
      (response) => {
        const result: SseOpenResult = { status: response.statusCode ?? 0, headers: response.headers };
        if (response.statusCode !== 200) {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            body += chunk;
          });
          response.on('end', () => resolve({ stream: undefined, result: { ...result, body } }));
          return;
        }
        resolve({ stream: new SseStream(request, response), result });
      },
    );
    request.on('error', reject);
  });
}

/** Opens a stream that must succeed. */
export async function watch(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const { stream, result } = await openSse(url, headers);
  if (!stream) throw new Error(`watch ${url} answered ${result.status}: ${result.body}`);
  return stream;
}
