/**
 * What every watch transport (SSE, gRPC) does before its stream starts: the stream limits, and
 * where in the log a watch begins (a resume's checks, or the current state). Everything here
 * fails with an `ApiError` before anything is sent.
 */
import { ApiError } from '../contract/errors.js';
import type { OperationRecord } from '../store/store.js';
import type { EventLog } from './event-log.js';
import { expired } from './watch-hub.js';

/** Streams per server and per client, counted across transports. */
export class StreamLimits {
  readonly #maxStreams: number;
  readonly #maxPerClient: number;
  readonly #perClient = new Map<string, number>();
  #total = 0;

  constructor(maxStreams: number, maxPerClient: number) {
    this.#maxStreams = maxStreams;
    this.#maxPerClient = maxPerClient;
  }

  /** Streams held (or being opened) now. */
  get size(): number {
    return this.#total;
  }

  /** Takes a slot for `client`, or throws TOO_MANY_STREAMS; call the returned function (once) to give it back. */
  acquire(client: string): () => void {
    if (this.#total >= this.#maxStreams) {
      throw new ApiError(
        'TOO_MANY_STREAMS',
        `This server already holds ${this.#total} watch streams, the most it allows`,
        {
          metadata: { limit: String(this.#maxStreams) },
          retryDelayMs: 1000,
        },
      );
    }
    const mine = this.#perClient.get(client) ?? 0;
    if (mine >= this.#maxPerClient) {
      throw new ApiError('TOO_MANY_STREAMS', `This client already has ${mine} watch streams open, the most allowed`, {
        metadata: { client, limit: String(this.#maxPerClient) },
        retryDelayMs: 1000,
      });
    }
    this.#perClient.set(client, mine + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#perClient.get(client) ?? 1) - 1;
      if (left <= 0) this.#perClient.delete(client);
      else this.#perClient.set(client, left);
    };
  }
}

/** Where a watch starts, and what it sends first. */
export type WatchStart =
  | { position: number; opening: 'resumed' }
  | { position: number; opening: 'snapshot'; record: OperationRecord }
  | { position: number; opening: 'ready' };

export function notFound(name: string): ApiError {
  return new ApiError('OPERATION_NOT_FOUND', `Operation "${name}" not found`, { metadata: { name } });
}

/**
 * A resume after `resumeAfter`: refused when it is older than the log keeps (EVENT_ID_EXPIRED),
 * newer than anything this server sent (INVALID_EVENT_ID), or, for one operation, when the
 * operation is gone with nothing left to replay (NOT_FOUND). Without one: a single operation
 * starts with its current state (NOT_FOUND when there is none), a collection at the head.
 */
export async function watchStart(
  log: EventLog,
  target: { name?: string | undefined },
  resumeAfter: number | undefined,
  field = 'Last-Event-ID',
): Promise<WatchStart> {
  if (resumeAfter !== undefined) {
    if (resumeAfter < (await log.horizon())) throw expired(resumeAfter);
    const latest = await log.latest();
    if (resumeAfter > latest) {
      throw new ApiError(
        'INVALID_EVENT_ID',
        `${field} ${resumeAfter} is ahead of this server's newest event (${latest}); it did not come from this server`,
        { metadata: { lastEventId: String(resumeAfter), latest: String(latest) } },
      );
    }
    if (target.name !== undefined) {
      const { record } = await log.snapshot(target.name);
      if (!record && (await log.read({ after: resumeAfter, name: target.name, limit: 1 })).length === 0) {
        throw notFound(target.name);
      }
    }
    return { position: resumeAfter, opening: 'resumed' };
  }
  if (target.name !== undefined) {
    const { record, head } = await log.snapshot(target.name);
    if (!record) throw notFound(target.name);
    return { position: head, opening: 'snapshot', record };
  }
  return { position: await log.head(), opening: 'ready' };
}
