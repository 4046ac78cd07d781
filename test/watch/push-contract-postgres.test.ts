/** The push storage contract, unchanged, on PostgreSQL: a fresh schema for each test. */
import { PostgresStore } from '../../packages/server/src/store/postgres/postgres-store.js';
import { describePushContract } from '../../packages/server/src/watch/push.contract.js';
import { openPushBackend, type PushBackend } from '../../packages/server/src/watch/push.js';
import { createSchema, describePostgres, type TestSchema } from '../postgres/database.js';

let schema: TestSchema | undefined;
let backend: PushBackend | undefined;

describePostgres('PostgreSQL push storage', () => {
  describePushContract('postgres', {
    async open() {
      schema = await createSchema();
      const store = await PostgresStore.open(schema.url);
      backend = openPushBackend(store)!;
      return { store, log: backend.log, webhooks: backend.webhooks };
    },
    async destroy() {
      await backend?.close?.();
      await schema?.drop();
      schema = undefined;
      backend = undefined;
    },
  });
});
