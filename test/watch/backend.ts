/**
 * A test server for the watch and webhook suites, on SQLite by default; with
 * LONGRUN_TEST_PUSH_STORE=postgres (and LONGRUN_TEST_POSTGRES_URL), on a fresh PostgreSQL schema,
 * so the same suites run on both backends.
 */
import type { ServerConfig } from '../../packages/server/src/config.js';
import { startTestServer, type TestServer } from '../helpers.js';

export const PUSH_BACKEND = process.env['LONGRUN_TEST_PUSH_STORE'] === 'postgres' ? 'postgres' : 'sqlite';

export async function startPushTestServer(config: Partial<ServerConfig> = {}): Promise<TestServer> {
  if (PUSH_BACKEND === 'sqlite') return startTestServer(config);
  // Imported only here: the module insists on a database URL as soon as it loads.
  const { createSchema } = await import('../postgres/database.js');
  const schema = await createSchema();
  const server = await startTestServer({ ...config, store: schema.url });
  return {
    ...server,
    async stop() {
      await server.stop();
      await schema.drop();
    },
  };
}
