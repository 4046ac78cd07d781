/**
 * Push, assembled: the event log of the store's backend, the watch hub and its SSE streams, the
 * webhook store, API and dispatcher, and the maintenance that prunes the log and old deliveries.
 * `startServer` starts it after the service and closes it before the transports.
 */
import type { ServerConfig } from '../config.js';
import type { EventHub } from '../events/event-hub.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { OperationStore } from '../store/store.js';
import { WebhookDispatcher } from '../webhooks/dispatcher.js';
import { PostgresWebhookStore } from '../webhooks/postgres-webhook-store.js';
import { SqliteWebhookStore } from '../webhooks/sqlite-webhook-store.js';
import { WebhookApi } from '../webhooks/webhook-api.js';
import type { WebhookStore } from '../webhooks/webhook-store.js';
import type { EventLog } from './event-log.js';
import { GrpcWatchStreams } from './grpc-watch.js';
import { PostgresEventLog, PushPool } from './postgres-event-log.js';
import { SqliteEventLog } from './sqlite-event-log.js';
import { SseStreams } from './sse.js';
import { WatchHub } from './watch-hub.js';
import { StreamLimits } from './watch-start.js';

/** The settings push reads. */
export type PushConfig = Pick<
  ServerConfig,
  | 'watchHeartbeatMs'
  | 'watchMaxStreams'
  | 'watchMaxStreamsPerClient'
  | 'watchMaxBufferedBytes'
  | 'watchPollIntervalMs'
  | 'eventRetentionMs'
  | 'webhookTimeoutMs'
  | 'webhookMaxAttempts'
  | 'webhookRetryBaseMs'
  | 'webhookRetryMaxMs'
  | 'webhookConcurrency'
  | 'webhookDeliveryRetentionMs'
>;

export interface PushBackend {
  log: EventLog;
  webhooks: WebhookStore;
  /** Releases what the backend holds of its own (connections); the store itself stays open. */
  close?(): Promise<void>;
}

export interface Push extends PushBackend {
  hub: WatchHub;
  streams: SseStreams;
  /** The same streams over gRPC (OperationsWatch), served when the gRPC transport is on. */
  grpc: GrpcWatchStreams;
  api: WebhookApi;
  dispatcher: WebhookDispatcher;
  /** Prunes the log and old deliveries now (maintenance does it periodically). */
  prune(): Promise<void>;
  /** Ends every stream (SHUTTING_DOWN), stops the loops; the store stays open. */
  close(): Promise<void>;
}

/** Backends that can open push storage on a store they share; extended by other backends. */
const BACKENDS: ((store: OperationStore) => PushBackend | undefined)[] = [
  (store) =>
    store instanceof SqliteStore
      ? { log: new SqliteEventLog(store.connection), webhooks: new SqliteWebhookStore(store.connection) }
      : undefined,
  (store) => {
    if (!(store instanceof PostgresStore)) return undefined;
    const db = new PushPool(store);
    const log = new PostgresEventLog(db);
    return { log, webhooks: new PostgresWebhookStore(db, log), close: () => db.close() };
  },
];

/** Registers a backend (the PostgreSQL one registers itself). */
export function registerPushBackend(open: (store: OperationStore) => PushBackend | undefined): void {
  BACKENDS.push(open);
}

export function openPushBackend(store: OperationStore): PushBackend | undefined {
  for (const open of BACKENDS) {
    const backend = open(store);
    if (backend) return backend;
  }
  return undefined;
}

const PRUNE_BATCH = 5000;

/** Starts push on the store's backend; undefined when the backend has none. */
export async function startPush(
  store: OperationStore,
  events: EventHub,
  config: PushConfig,
  onError: (error: unknown) => void = () => {},
): Promise<Push | undefined> {
  const backend = openPushBackend(store);
  if (!backend) return undefined;
  const { log, webhooks } = backend;
  try {
    await log.head();
  } catch (error) {
    await backend.close?.();
    throw error;
  }
  const hub = new WatchHub(log, events, { pollIntervalMs: config.watchPollIntervalMs, onError });
  const limits = new StreamLimits(config.watchMaxStreams, config.watchMaxStreamsPerClient);
  const streams = new SseStreams(hub, log, limits, {
    heartbeatMs: config.watchHeartbeatMs,
    maxBufferedBytes: config.watchMaxBufferedBytes,
  });
  const grpc = new GrpcWatchStreams(hub, log, limits, { maxBufferedBytes: config.watchMaxBufferedBytes });
  const dispatcher = new WebhookDispatcher(webhooks, events, {
    maxAttempts: config.webhookMaxAttempts,
    retryBaseMs: config.webhookRetryBaseMs,
    retryMaxMs: config.webhookRetryMaxMs,
    timeoutMs: config.webhookTimeoutMs,
    concurrency: config.webhookConcurrency,
    pollIntervalMs: Math.max(config.watchPollIntervalMs, 1000),
    onError,
  });
  const api = new WebhookApi(webhooks, { wake: () => dispatcher.wake() });
  await hub.start();
  await dispatcher.start();

  let pruning: Promise<void> | undefined;
  const prune = () => {
    pruning ??= (async () => {
      try {
        const now = Date.now();
        await dispatcher.fanOutNow();
        // Never past what webhooks have fanned out here (its deliveries are stored; events it needed
        // none for can go), nor past a stream still replaying here.
        const maxId = Math.min(dispatcher.fannedOutThrough, hub.lowestReplayPosition);
        while ((await log.prune(now - config.eventRetentionMs, maxId, PRUNE_BATCH)) === PRUNE_BATCH) {}
        while (
          (await webhooks.pruneDeliveries(now - config.webhookDeliveryRetentionMs, PRUNE_BATCH)) === PRUNE_BATCH
        ) {}
      } catch (error) {
        onError(error);
      } finally {
        pruning = undefined;
      }
    })();
    return pruning;
  };
  const every = Math.min(Math.max(config.eventRetentionMs / 4, 1000), 60_000);
  const maintenance = setInterval(() => void prune(), every);
  maintenance.unref();

  let closing: Promise<void> | undefined;
  return {
    log,
    webhooks,
    hub,
    streams,
    grpc,
    api,
    dispatcher,
    prune,
    close() {
      closing ??= (async () => {
        clearInterval(maintenance);
        streams.close();
        grpc.close();
        hub.close();
        await dispatcher.close();
        await pruning;
        await backend.close?.();
      })();
      return closing;
    },
  };
}
