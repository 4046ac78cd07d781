/**
 * @longrun/server: Google's long-running operations API, persistent.
 *
 * ```ts
 * import { startServer } from '@longrun/server';
 * const server = await startServer({ port: 0, store: ':memory:' });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export { ConfigError, camelCase, DEFAULT_CONFIG, resolveConfig, SETTINGS, type ServerConfig } from './config.js';
export { ApiError, ERROR_DOMAIN, REASONS, type Reason } from './contract/errors.js';
export { openStore, type RunningServer, startServer } from './server.js';
export { OperationsService } from './service/operations-service.js';
export type { OperationRecord, OperationStore } from './store/store.js';
