/**
 * Assembles a running server: store, events, service, transports. The one place that knows
 * every part; the CLI and the tests start servers through it.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_CONFIG, type ServerConfig } from './config.js';
import { PageTokens } from './contract/page-token.js';
import { EventHub } from './events/event-hub.js';
import { buildRestApp } from './rest/rest-app.js';
import { OperationsService } from './service/operations-service.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { OperationStore } from './store/store.js';

export interface RunningServer {
  /** The REST endpoint, such as `http://127.0.0.1:8080`. */
  url: string;
  config: ServerConfig;
  service: OperationsService;
  store: OperationStore;
  /** Stops accepting requests, answers waiters with the current state, finishes in-flight requests, closes the store. */
  close(): Promise<void>;
}

/** Opens the store a `--store` value names. */
export function openStore(config: Pick<ServerConfig, 'store' | 'sqliteSynchronous'>): OperationStore {
  if (/^postgres(ql)?:\/\//.test(config.store)) {
    throw new Error('PostgreSQL stores are not available in this version; use a SQLite file path or :memory:');
  }
  return new SqliteStore(config.store, { synchronous: config.sqliteSynchronous });
}

export async function startServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  const config: ServerConfig = { ...DEFAULT_CONFIG, ...overrides };
  const store = openStore(config);
  try {
    const secret = config.pageTokenSecret
      ? Buffer.from(config.pageTokenSecret, 'utf8')
      : await store.secret('page-token', () => randomBytes(32));
    const events = new EventHub();
    const service = new OperationsService(store, events, {
      cancelGracePeriodMs: config.cancelGracePeriodMs,
      waitMaxMs: config.waitMaxMs,
      pageTokens: new PageTokens(secret),
    });
    await service.start();
    const app = buildRestApp(service, { maxBodyBytes: config.maxBodyBytes, logLevel: config.logLevel });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host}:${port}`,
      config,
      service,
      store,
      close() {
        closing ??= (async () => {
          service.close();
          await app.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
