/**
 * Watch streams over gRPC: `longrun.v1.OperationsWatch/WatchOperations`, server streaming
 * (proto/longrun/v1/watch.proto). The same hub, log, ids and limits as the SSE streams; only the
 * framing differs. HTTP/2 flow control is the backpressure: events wait in a queue for the
 * client to take them, and a client that falls more than `maxBufferedBytes` behind is ended with
 * RESOURCE_EXHAUSTED (SLOW_CONSUMER), as an SSE stream is. Keepalive is HTTP/2's own (PING).
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ConnectError, HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { type AccessControl, ANONYMOUS, collectionResource } from '../auth/access.js';
import { ApiError, invalidField } from '../contract/errors.js';
import { parseListName, parseOperationName } from '../contract/names.js';
import { parseFilter } from '../filter/index.js';
import { PRINCIPAL } from '../grpc/access.js';
import type { AnyCodec } from '../grpc/any-codec.js';
import {
  OperationEvent_Type,
  type OperationEventSchema,
  type OperationsWatch,
  type WatchOperationsRequest,
} from '../grpc/gen/longrun/v1/watch_pb.js';
import type { EventLog, EventType, LoggedEvent } from './event-log.js';
import { parseEventId } from './sse.js';
import type { WatchHub, WatchSelector } from './watch-hub.js';
import { type StreamLimits, watchStart } from './watch-start.js';

const TYPES: Record<EventType, OperationEvent_Type> = {
  created: OperationEvent_Type.CREATED,
  progress: OperationEvent_Type.PROGRESS,
  cancel_requested: OperationEvent_Type.CANCEL_REQUESTED,
  done: OperationEvent_Type.DONE,
  deleted: OperationEvent_Type.DELETED,
};

/** Roughly what an event costs in memory while it waits (its JSON texts). */
function sizeOf(event: LoggedEvent): number {
  const { record } = event;
  return (
    128 +
    record.name.length +
    (record.metadata?.length ?? 0) +
    (record.response?.length ?? 0) +
    (record.error?.length ?? 0)
  );
}

export interface GrpcWatchOptions {
  /** Bytes of events a stream may hold for a slow client before it is ended. */
  maxBufferedBytes: number;
}

/** What the gRPC transport needs to serve OperationsWatch. */
export interface GrpcWatch {
  impl(
    codec: AnyCodec,
    access: AccessControl,
    toError: (error: unknown) => ConnectError,
  ): ServiceImpl<typeof OperationsWatch>;
}

export class GrpcWatchStreams implements GrpcWatch {
  readonly #hub: WatchHub;
  readonly #log: EventLog;
  readonly #limits: StreamLimits;
  readonly #options: GrpcWatchOptions;
  readonly #closing = new AbortController();
  #open = 0;

  constructor(hub: WatchHub, log: EventLog, limits: StreamLimits, options: GrpcWatchOptions) {
    this.#hub = hub;
    this.#log = log;
    this.#limits = limits;
    this.#options = options;
  }

  /** Open streams. */
  get size(): number {
    return this.#open;
  }

  /** Ends every stream with UNAVAILABLE (SHUTTING_DOWN), and refuses new ones. */
  close(): void {
    this.#closing.abort();
  }

  impl(
    codec: AnyCodec,
    access: AccessControl,
    toError: (error: unknown) => ConnectError,
  ): ServiceImpl<typeof OperationsWatch> {
    const streams = this;
    return {
      async *watchOperations(request, context) {
        try {
          yield* streams.#watch(request, context, codec, access);
        } catch (error) {
          throw toError(error);
        }
      },
    };
  }

  async *#watch(
    request: WatchOperationsRequest,
    context: HandlerContext,
    codec: AnyCodec,
    access: AccessControl,
  ): AsyncGenerator<MessageInitShape<typeof OperationEventSchema>> {
    const shuttingDown = () =>
      new ApiError('SHUTTING_DOWN', 'The server is shutting down; watch again (after_event_id) to resume');
    if (this.#closing.signal.aborted) throw shuttingDown();
    const principal = context.values.get(PRINCIPAL);
    if (request.name !== '' && request.parent !== '') {
      throw invalidField('parent', 'give name (one operation) or parent (a collection), not both');
    }
    const target =
      request.name !== ''
        ? { name: parseOperationName(request.name).name, parent: undefined }
        : { name: undefined, parent: parseListName(request.parent, 'parent') };
    if (target.name !== undefined && request.filter !== '') {
      throw invalidField('filter', 'only a watch of a collection (parent) takes a filter');
    }
    access.authorize(principal, 'watch', target.name ?? collectionResource(target.parent));
    const filter = target.parent !== undefined && request.filter !== '' ? parseFilter(request.filter) : undefined;
    const resumeAfter = request.afterEventId === '' ? undefined : parseEventId(request.afterEventId, 'after_event_id');
    const client = principal === ANONYMOUS ? 'grpc:anonymous' : `principal:${principal.name}`;
    const release = this.#limits.acquire(client);
    this.#open++;
    try {
      const start = await watchStart(this.#log, target, resumeAfter, 'after_event_id');
      const max = this.#options.maxBufferedBytes;
      const queue: LoggedEvent[] = [];
      let queued = 0;
      let failure: ApiError | undefined;
      let wake: (() => void) | undefined;
      let drainers: ((open: boolean) => void)[] = [];
      const notify = () => {
        const resolve = wake;
        wake = undefined;
        resolve?.();
      };
      const ended = () => failure !== undefined || context.signal.aborted || this.#closing.signal.aborted;
      const selector: WatchSelector =
        target.name !== undefined ? { name: target.name } : { parent: target.parent, filter };
      const unsubscribe = this.#hub.watch(selector, start.position, {
        deliver: (event) => {
          if (failure) return;
          queue.push(event);
          queued += sizeOf(event);
          if (queued > max) {
            queue.length = 0;
            queued = 0;
            failure = new ApiError(
              'SLOW_CONSUMER',
              `The stream fell more than ${max} bytes behind; watch again with after_event_id to resume`,
              { metadata: { maxBufferedBytes: String(max) } },
            );
          }
          notify();
        },
        drained: () =>
          ended()
            ? Promise.resolve(false)
            : queued <= max / 2
              ? Promise.resolve(true)
              : new Promise((resolve) => drainers.push(resolve)),
        fail: (error) => {
          failure = error;
          notify();
        },
      });
      const onEnd = () => {
        notify();
        for (const resolve of drainers.splice(0)) resolve(false);
      };
      context.signal.addEventListener('abort', onEnd);
      this.#closing.signal.addEventListener('abort', onEnd);
      try {
        if (start.opening === 'snapshot') {
          yield {
            eventId: String(start.position),
            type: OperationEvent_Type.SNAPSHOT,
            operation: codec.operationFromRecord(start.record),
          };
        } else if (start.opening === 'ready') {
          yield { eventId: String(start.position), type: OperationEvent_Type.READY };
        }
        for (;;) {
          if (this.#closing.signal.aborted) throw shuttingDown();
          if (context.signal.aborted) return;
          const event = queue.shift();
          if (event) {
            queued -= sizeOf(event);
            if (queued <= max / 2 && drainers.length > 0) {
              const waiting = drainers;
              drainers = [];
              for (const resolve of waiting) resolve(true);
            }
            yield {
              eventId: String(event.id),
              type: TYPES[event.type],
              operation: codec.operationFromRecord(event.record),
              eventTime: timestampFromMs(event.time),
            };
            continue;
          }
          if (failure) throw failure;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        unsubscribe();
        context.signal.removeEventListener('abort', onEnd);
        this.#closing.signal.removeEventListener('abort', onEnd);
        for (const resolve of drainers.splice(0)) resolve(false);
      }
    } finally {
      this.#open--;
      release();
    }
  }
}
