/** The shared store contract, unchanged, against PostgreSQL: a fresh schema for each test. */
import { PostgresStore } from '../../packages/server/src/store/postgres/postgres-store.js';
import { describeStoreContract } from '../../packages/server/src/store/store.contract.js';
import { createSchema, describePostgres, type TestSchema } from './database.js';

let schema: TestSchema | undefined;

describePostgres('PostgreSQL store', () => {
  describeStoreContract('postgres', {
    async open() {
      schema = await createSchema();
      try {
        return await PostgresStore.open(schema.url);
      } catch (error) {
        await schema.drop();
        schema = undefined;
        throw error;
      }
    },
    async reopen() {
      return PostgresStore.open(schema!.url);
    },
    async destroy() {
      await schema?.drop();
      schema = undefined;
    },
  });
});
