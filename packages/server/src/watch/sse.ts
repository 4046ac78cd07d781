/**
 * Watch streams over HTTP as Server-Sent Events (docs/watch-and-webhooks.md):
 *
 *   GET /{v}/{name}:watch                          one operation
 *   GET /{v}/{parent}/operations:watch?filter=…    every operation under a parent that matches
 *
 * Everything that can fail is checked before the response starts, so a bad request is an AIP-193
 * error with its status (NOT_FOUND, 400 for a bad or expired Last-Event-ID, 429 past a stream
 * limit). After that the stream carries `id:`/`event:`/`data:` frames, heartbeat comments, and,
 * when the server ends it, one final `end` event whose data is an AIP-193 error body.
 *
 * Memory per stream is bounded: when the bytes waiting to be sent to a consumer pass
 * `maxBufferedBytes`, the stream is ended with an `end` event (SLOW_CONSUMER) instead of
 * buffering more; the consumer reconnects with Last-Event-ID and misses nothing within the window.
 */
import type { ServerResponse } from 'node:http';
import { codeName } from '@longrun/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, invalidField } from '../contract/errors.js';
import { OPERATIONS_COLLECTION, parseOperationName, parseParent } from '../contract/names.js';
import { renderOperation } from '../contract/operation.js';
import { parseFilter } from '../filter/index.js';
import type { EventLog, LoggedEvent } from './event-log.js';
import type { WatchHub, WatchSelector } from './watch-hub.js';
import { type StreamLimits, watchStart } from './watch-start.js';

/** A watch's own query parameters, in both spellings, to their canonical names (for the REST layer). */
export const WATCH_QUERY_PARAMS: Record<string, string> = {
  filter: 'filter',
  lastEventId: 'lastEventId',
  last_event_id: 'lastEventId',
};

export interface SseOptions {
  /** How often an idle stream gets a comment line, so proxies keep it open. */
  heartbeatMs: number;
  /** Bytes a stream may have waiting for a slow consumer before it is dropped. */
  maxBufferedBytes: number;
  /** How long a dropped or ended stream's last bytes may take to leave before its socket is cut. @default 10000 */
  endGraceMs?: number;
  /** The reconnect delay suggested to EventSource clients (`retry:`). @default 2000 */
  retryMs?: number;
}

/** What a watch path names: one operation, or a parent's collection. */
export type WatchTarget = { name: string; parent?: undefined } | { name?: undefined; parent: string };

/** Classifies the resource of a `:watch` path as `route()` does: a collection when `operations` ends it. */
export function parseWatchTarget(resource: string): WatchTarget {
  const segments = resource.split('/');
  for (let i = 0; i < segments.length; i += 2) {
    if (segments[i] !== OPERATIONS_COLLECTION) continue;
    if (i === segments.length - 1) {
      return { parent: parseParent(segments.slice(0, i).join('/'), { allowWildcard: true }) };
    }
    break;
  }
  return { name: parseOperationName(resource).name };
}

/** Reads a Last-Event-ID: a decimal event id. */
export function parseEventId(text: string, field: string): number {
  if (!/^\d{1,15}$/.test(text)) {
    throw new ApiError('INVALID_EVENT_ID', `Invalid ${field}: "${text}" is not an event id from this server`, {
      metadata: { field, value: text },
      fieldViolations: [{ field, description: 'must be the id of an event this server sent (a decimal number)' }],
    });
  }
  return Number(text);
}

/** An AIP-193 body for the data of an `end` event. */
export function renderEnd(error: ApiError): string {
  const status = error.toStatus();
  return JSON.stringify({
    error: { code: error.httpStatus, message: error.message, status: codeName(error.code), details: status.details },
  });
}

const FRAMES = new WeakMap<LoggedEvent, string>();

/** The SSE frame of an event, rendered once however many streams send it. */
export function eventFrame(event: LoggedEvent): string {
  let frame = FRAMES.get(event);
  if (frame === undefined) {
    frame = `id: ${event.id}\nevent: ${event.type}\ndata: ${renderOperation(event.record)}\n\n`;
    FRAMES.set(event, frame);
  }
  return frame;
}

const HEARTBEAT = ': heartbeat\n\n';

class Stream {
  readonly #res: ServerResponse;
  readonly #owner: SseStreams;
  readonly #maxBuffered: number;
  readonly #endGraceMs: number;
  readonly client: string;
  #unsubscribe: (() => void) | undefined;
  #ended = false;
  #released = false;
  #graceTimer: NodeJS.Timeout | undefined;
  #drainWaiters: ((open: boolean) => void)[] = [];
  #corked = false;

  constructor(res: ServerResponse, owner: SseStreams, client: string, maxBuffered: number, endGraceMs: number) {
    this.#res = res;
    this.#owner = owner;
    this.client = client;
    this.#maxBuffered = maxBuffered;
    this.#endGraceMs = endGraceMs;
    res.on('close', () => this.#closed());
    res.on('drain', () => this.#wakeDrainWaiters(true));
  }

  set unsubscribe(unsubscribe: () => void) {
    this.#unsubscribe = unsubscribe;
    if (this.#ended) unsubscribe();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Writes a frame unless the consumer is too far behind, in which case the stream ends instead. */
  write(frame: string): void {
    if (this.#ended) return;
    if (this.#res.writableLength > this.#maxBuffered) {
      this.end(
        new ApiError(
          'SLOW_CONSUMER',
          `The stream fell more than ${this.#maxBuffered} bytes behind; reconnect with Last-Event-ID to resume`,
          { metadata: { maxBufferedBytes: String(this.#maxBuffered) } },
        ),
      );
      return;
    }
    this.#res.write(frame);
  }

  /** Like `write`, but held (corked) until `flush`: a batch of events leaves in one write. */
  deliver(frame: string): void {
    if (this.#ended) return;
    if (!this.#corked) {
      this.#res.cork();
      this.#corked = true;
    }
    this.write(frame);
  }

  flush(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#res.uncork();
  }

  /** Resolves once the buffered bytes are under half the bound (true), or the stream ended (false). */
  drained(): Promise<boolean> {
    if (this.#ended) return Promise.resolve(false);
    if (this.#res.writableLength <= this.#maxBuffered / 2) return Promise.resolve(true);
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  heartbeat(): void {
    this.write(HEARTBEAT);
  }

  /** Sends the final `end` event and closes the stream; the socket is cut if it cannot flush in time. */
  end(error: ApiError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#unsubscribe?.();
    this.#release();
    this.#wakeDrainWaiters(false);
    const res = this.#res;
    const socket = res.socket;
    if (res.destroyed || !socket) return;
    if (this.#corked) {
      this.#corked = false;
      res.uncork();
    }
    // The response says `connection: close`, so the socket closes once this is flushed; a consumer
    // that does not read it in time is cut off.
    res.end(`event: end\ndata: ${renderEnd(error)}\n\n`);
    this.#graceTimer = setTimeout(() => socket.destroy(), this.#endGraceMs);
    this.#graceTimer.unref();
    socket.once('close', () => clearTimeout(this.#graceTimer));
  }

  #closed(): void {
    clearTimeout(this.#graceTimer);
    this.#ended = true;
    this.#unsubscribe?.();
    this.#release();
    this.#wakeDrainWaiters(false);
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#owner.release(this);
  }

  #wakeDrainWaiters(open: boolean): void {
    if (this.#drainWaiters.length === 0) return;
    if (open && this.#res.writableLength > this.#maxBuffered / 2) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve(open);
  }
}

/** Every open SSE watch stream of one server, and their heartbeat. */
export class SseStreams {
  readonly #hub: WatchHub;
  readonly #log: EventLog;
  readonly #limits: StreamLimits;
  readonly #options: Required<SseOptions>;
  readonly #streams = new Set<Stream>();
  readonly #releases = new Map<Stream, () => void>();
  #heartbeat: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(hub: WatchHub, log: EventLog, limits: StreamLimits, options: SseOptions) {
    this.#hub = hub;
    this.#log = log;
    this.#limits = limits;
    this.#options = { endGraceMs: 10_000, retryMs: 2000, ...options };
  }

  /** Open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /**
   * Serves one `:watch` request: checks it, then takes the response over and streams. Throws an
   * `ApiError` (before anything is written) when the request cannot be served.
   */
  async open(
    request: FastifyRequest,
    reply: FastifyReply,
    resource: string,
    query: Map<string, unknown>,
    client: string = request.ip,
  ): Promise<void> {
    if (this.#closing) throw new ApiError('SHUTTING_DOWN', 'The server is shutting down; watch another replica');
    const target = parseWatchTarget(resource);
    const filterText = query.get('filter') as string | undefined;
    if (filterText !== undefined && target.name !== undefined) {
      throw invalidField('filter', 'only a watch of a collection ({parent}/operations:watch) takes a filter');
    }
    const filter = filterText === undefined ? undefined : parseFilter(filterText);
    const header = request.headers['last-event-id'];
    const fromHeader = typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
    const fromQuery = query.get('lastEventId') as string | undefined;
    // The header wins: an EventSource reconnecting sends the newest id there, while its URL keeps
    // the one it first connected with.
    const resumeAfter =
      fromHeader !== undefined
        ? parseEventId(fromHeader, 'Last-Event-ID')
        : fromQuery !== undefined
          ? parseEventId(fromQuery, 'last_event_id')
          : undefined;

    const release = this.#limits.acquire(client);
    let stream: Stream | undefined;
    try {
      const start = await watchStart(this.#log, target, resumeAfter);
      const position = start.position;
      const opening =
        start.opening === 'resumed'
          ? `: resumed after ${position}\n\n`
          : start.opening === 'snapshot'
            ? `id: ${position}\nevent: snapshot\ndata: ${renderOperation(start.record)}\n\n`
            : `id: ${position}\nevent: ready\ndata: {}\n\n`;
      if (this.#closing) throw new ApiError('SHUTTING_DOWN', 'The server is shutting down; watch another replica');

      reply.hijack();
      const res = reply.raw;
      const headers: Record<string, string | number | string[]> = {};
      for (const [key, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[key] = value;
      res.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        // One stream per connection: when it ends, the connection goes too.
        connection: 'close',
      });
      request.raw.socket.setNoDelay(true);
      stream = new Stream(res, this, client, this.#options.maxBufferedBytes, this.#options.endGraceMs);
      this.#streams.add(stream);
      this.#releases.set(stream, release);
      this.#startHeartbeat();
      res.write(`retry: ${this.#options.retryMs}\n${opening}`);
      const selector: WatchSelector =
        target.name !== undefined ? { name: target.name } : { parent: target.parent, filter };
      const open = stream;
      open.unsubscribe = this.#hub.watch(selector, position, {
        deliver: (event) => open.deliver(eventFrame(event)),
        flush: () => open.flush(),
        drained: () => open.drained(),
        fail: (error) => open.end(error),
      });
    } catch (error) {
      if (!stream) release();
      throw error;
    }
  }

  /** Called by a stream when it ends. */
  release(stream: Stream): void {
    if (!this.#streams.delete(stream)) return;
    this.#releases.get(stream)?.();
    this.#releases.delete(stream);
    if (this.#streams.size === 0) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  /** Ends every stream with a final `end` event (SHUTTING_DOWN) and refuses new ones. */
  close(): void {
    this.#closing = true;
    clearInterval(this.#heartbeat);
    const error = new ApiError('SHUTTING_DOWN', 'The server is shutting down; reconnect with Last-Event-ID to resume');
    for (const stream of [...this.#streams]) stream.end(error);
  }

  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => {
      for (const stream of this.#streams) stream.heartbeat();
    }, this.#options.heartbeatMs);
    this.#heartbeat.unref();
  }
}
