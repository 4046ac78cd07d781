/**
 * The PostgreSQL test database: its URL comes from LONGRUN_TEST_POSTGRES_URL. Without it the
 * PostgreSQL suites skip, saying so; in CI (CI=true) a missing URL fails the run instead, since
 * `.ci/run` starts the server and sets the variable. Each test gets its own schema, dropped after.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { describe } from 'vitest';

export const POSTGRES_URL_VARIABLE = 'LONGRUN_TEST_POSTGRES_URL';

/** The base URL of the test database, or undefined when the PostgreSQL tests are skipped. */
export const postgresUrl: string | undefined = process.env[POSTGRES_URL_VARIABLE] || undefined;

if (!postgresUrl) {
  if (process.env['CI'] === 'true') {
    throw new Error(
      `${POSTGRES_URL_VARIABLE} is not set, and CI=true: the PostgreSQL tests must run in CI, not skip ` +
        '(start the server with scripts/ensure-postgres.sh and export the URL it prints)',
    );
  }
  console.warn(
    `PostgreSQL tests skipped: set ${POSTGRES_URL_VARIABLE} (for example postgres://postgres@127.0.0.1:5432/test) to run them`,
  );
}

/** `describe` that runs only when a test database is configured. */
export const describePostgres = describe.skipIf(!postgresUrl);

export interface TestSchema {
  /** The schema's name. */
  name: string;
  /** The test database's URL with the schema first on `search_path`, and a recognisable application_name. */
  url: string;
  /** The `application_name` connections through `url` carry (to find their backends). */
  applicationName: string;
  /** Runs SQL on the test database, in this schema. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** `url` with the given schema on its search_path and the given application_name. */
export function withSchema(url: string, schema: string, applicationName: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}

/** Names this machine's test schemas: `longrun_test_<host>_<pid>_<random>`. */
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 6);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let collected = false;

/**
 * Drops schemas that test processes of this machine left behind when they died before their
 * clean-up ran. Only this host's schemas, and only those of processes that no longer run.
 */
async function collectLeftovers(admin: pg.Client): Promise<void> {
  if (collected) return;
  collected = true;
  const { rows } = await admin.query<{ name: string }>(
    `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1`,
    [`longrun_test_${HOST}_%`],
  );
  for (const { name } of rows) {
    const pid = Number(name.split('_')[3]);
    if (Number.isInteger(pid) && !alive(pid))
      await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).catch(() => {});
  }
}

/** Creates a fresh schema in the test database. */
export async function createSchema(): Promise<TestSchema> {
  if (!postgresUrl) throw new Error(`${POSTGRES_URL_VARIABLE} is not set`);
  const name = `longrun_test_${HOST}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = withSchema(postgresUrl, name, name);
  const admin = new pg.Client({ connectionString: withSchema(postgresUrl, name, `${name}_admin`) });
  await admin.connect();
  await collectLeftovers(admin);
  await admin.query(`CREATE SCHEMA ${name}`);
  return {
    name,
    url,
    applicationName: name,
    query: (text, values) => admin.query(text, values),
    async drop() {
      try {
        // Connections still open in the schema would hold locks the drop waits for.
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);
        await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
