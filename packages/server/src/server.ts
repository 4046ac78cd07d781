/**
 * Assembles a running server: store, events, service, transports, and the background work. The
 * one place that knows every part; the CLI and the tests start servers through it.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { AccessControl } from './auth/access.js';
import { RequestGuard } from './auth/guard.js';
import { ConfigError, DEFAULT_CONFIG, type ServerConfig } from './config.js';
import { ConsoleRoutes } from './console/console-routes.js';
import { PageTokens } from './contract/page-token.js';
import { EventHub } from './events/event-hub.js';
import { PostgresEventRelay } from './events/postgres-event-relay.js';
import { startConfiguredGrpcServer } from './grpc/grpc-server.js';
import { Metrics } from './observability/metrics.js';
import { buildRestApp } from './rest/rest-app.js';
import { OperationsService } from './service/operations-service.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { OperationStore } from './store/store.js';
import { type Push, startPush } from './watch/push.js';

/** How often done operations past retention are removed, and overdue ones ended. */
const RETENTION_SWEEP_MS = 60_000;

export interface RunningServer {
  /** The REST endpoint, such as `http://127.0.0.1:8080`. */
  url: string;
  /** The gRPC endpoint (HTTP/2 without TLS), such as `http://127.0.0.1:9090`; undefined when gRPC is off. */
  grpcUrl: string | undefined;
  /** The gRPC port; undefined when gRPC is off. */
  grpcPort: number | undefined;
  /** False when no principals are configured: then anyone who reaches the server may do anything. */
  authEnabled: boolean;
  config: ServerConfig;
  service: OperationsService;
  store: OperationStore;
  metrics: Metrics;
  /** Watch streams and webhooks; undefined when the store has no event log. */
  push: Push | undefined;
  /** Stops accepting requests, answers waiters with the current state, finishes in-flight requests, closes the store. */
  close(): Promise<void>;
}

/** Opens the store a `--store` value names. */
export function openStore(
  config: Pick<ServerConfig, 'store' | 'sqliteSynchronous'> &
    Partial<Pick<ServerConfig, 'postgresPoolSize' | 'sqliteCacheBytes'>>,
): OperationStore {
  if (/^postgres(ql)?:\/\//.test(config.store)) {
    return new PostgresStore(config.store, { poolSize: config.postgresPoolSize ?? DEFAULT_CONFIG.postgresPoolSize });
  }
  return new SqliteStore(config.store, { synchronous: config.sqliteSynchronous, cacheBytes: config.sqliteCacheBytes });
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** The access rules, refusing to expose an unauthenticated server beyond loopback unless told to. */
function accessControl(config: ServerConfig): AccessControl {
  let access: AccessControl;
  try {
    access = new AccessControl(config.auth);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  if (!access.enabled && !isLoopback(config.host) && !config.insecure) {
    throw new ConfigError(
      `refusing to listen on ${config.host} with no principals configured: anyone could read and change every ` +
        'operation. Configure auth (docs/security.md), listen on 127.0.0.1, or pass --insecure.',
    );
  }
  return access;
}

export async function startServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  const config: ServerConfig = { ...DEFAULT_CONFIG, ...overrides };
  const access = accessControl(config);
  // What has started, stopped in reverse order on close or on a failed start.
  const stops: (() => unknown)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const store = openStore(config);
    stops.push(() => store.close());
    const secret = config.pageTokenSecret
      ? Buffer.from(config.pageTokenSecret, 'utf8')
      : await store.secret('page-token', () => randomBytes(32));
    // On PostgreSQL, other replicas' changes reach this one's hub through the event relay.
    const events = new EventHub();
    const service = new OperationsService(store, events, {
      cancelGracePeriodMs: config.cancelGracePeriodMs,
      waitMaxMs: config.waitMaxMs,
      pageTokens: new PageTokens(secret),
      retentionMs: config.retentionMs,
      maxPendingAgeMs: config.maxPendingAgeMs,
      limits: {
        maxNameLength: config.maxNameLength,
        maxFilterLength: config.maxFilterLength,
        maxFilterDepth: config.maxFilterDepth,
        maxPageSize: config.maxPageSize,
        maxOperationFieldBytes: config.maxOperationFieldBytes,
      },
    });
    await service.start();
    // Watch streams and webhooks, on the store's event log (docs/watch-and-webhooks.md).
    let logPushError = (_error: unknown) => {};
    const push = await startPush(store, events, config, (error) => logPushError(error));
    if (push) stops.push(() => push.close());
    const guard = new RequestGuard({
      rateLimit: config.rateLimit,
      rateBurst: config.rateBurst,
      maxWaitersPerPrincipal: config.maxWaitersPerPrincipal,
    });
    const metrics = new Metrics({
      countByState: () => store.countByState(),
      waiters: () => guard.waiters,
      watchers: () => push?.hub.size ?? 0,
    });
    const app = buildRestApp(service, {
      maxBodyBytes: config.maxBodyBytes,
      logLevel: config.logLevel,
      access,
      guard,
      metrics,
      store,
      corsOrigins: config.corsOrigins,
      push,
      console: new ConsoleRoutes({ store, access, guard, maxNameLength: config.maxNameLength }),
    });
    logPushError = (error) => app.log.warn({ err: error }, 'watch/webhooks background work failed; retrying');
    stops.push(async () => {
      service.close();
      await app.close();
    });
    // Watch streams end (with a final event) before the transport closes, which waits for them.
    if (push) stops.push(() => push.streams.close());

    if (store instanceof PostgresStore) {
      const relay = await PostgresEventRelay.start(store, events, {
        log: (level, message) => app.log[level](message),
      });
      stops.push(() => relay.close());
      // Replicas share cancel requests: when the replica that recorded one stops before its grace
      // period ends, another must end it. Every replica re-scans now and then; expiry is idempotent.
      const every = Math.min(Math.max(config.cancelGracePeriodMs, 1000), 10_000);
      const rescan = setInterval(() => service.expireCancellations().catch(() => {}), every).unref();
      stops.push(() => clearInterval(rescan));
    }

    const sweep = () =>
      service.sweep().then(
        (result) => {
          metrics.swept.inc({ kind: 'expired' }, result.expired);
          metrics.swept.inc({ kind: 'timed_out' }, result.timedOut);
        },
        (error: unknown) => app.log.warn({ err: error }, 'retention sweep failed; retrying at the next one'),
      );
    await sweep();
    const sweeper = setInterval(sweep, RETENTION_SWEEP_MS).unref();
    stops.push(() => clearInterval(sweeper));

    await app.listen({ host: config.host, port: config.port });
    // Same principals, limits and metrics as REST.
    const grpc = await startConfiguredGrpcServer(config, service, {
      access,
      guard,
      metrics,
      log: app.log,
      watch: push?.grpc,
    });
    if (grpc) stops.push(() => grpc.close());
    // gRPC watch streams end (UNAVAILABLE) before the transport closes, which waits for them.
    if (grpc && push) stops.push(() => push.grpc.close());
    if (!access.enabled) {
      app.log.warn('authentication is off: no principals are configured, so every caller is an admin');
    }

    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host}:${port}`,
      grpcUrl: grpc?.url,
      grpcPort: grpc?.port,
      authEnabled: access.enabled,
      config,
      service,
      store,
      metrics,
      push,
      close() {
        // Waiters are answered first, so transports have no pending call to wait for.
        service.close();
        closing ??= stopAll();
        return closing;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
