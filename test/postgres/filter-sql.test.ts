/**
 * The PostgreSQL dialect of AIP-160 filters selects exactly what the in-memory evaluator does: the
 * fixed cases and the random operations and filters of the SQL dialect contract, the same ones
 * SQLite runs in packages/server/src/filter/sql.test.ts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Filter, matchesFilter, parseFilter } from '../../packages/server/src/filter/index.js';
import {
  filterText,
  hotOperations,
  hotRestriction,
  operations,
  RECORDS,
  restriction,
  SEMANTICS,
} from '../../packages/server/src/filter/sql-dialect.contract.js';
import { compilePostgresFilter } from '../../packages/server/src/store/postgres/postgres-dialect.js';
import { PostgresStore } from '../../packages/server/src/store/postgres/postgres-store.js';
import type { OperationRecord } from '../../packages/server/src/store/store.js';
import { createSchema, describePostgres, type TestSchema } from './database.js';

// PostgreSQL text cannot hold U+0000. The service never accepts it in a name, but the generators
// use it (SQLite's pattern matching stops there), so names are stored with the encoding that
// stored JSON strings get (see migrations.ts): U+0001 → U+0001 U+0002, then U+0000 → U+0001 U+0001.
const encodeName = (name: string) => name.replaceAll('\u0001', '\u0001\u0002').replaceAll('\u0000', '\u0001\u0001');
const decodeName = (name: string) => name.replaceAll('\u0001\u0001', '\u0000').replaceAll('\u0001\u0002', '\u0001');

describePostgres('PostgreSQL filters agree with the evaluator', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createSchema();
    const store = await PostgresStore.open(schema.url);
    await store.close();
  });
  afterAll(async () => {
    await schema?.drop();
  });

  async function load(records: readonly OperationRecord[]): Promise<void> {
    const column = <K extends keyof OperationRecord>(key: K) => records.map((record) => record[key]);
    await schema.query('TRUNCATE longrun_operations');
    await schema.query(
      `INSERT INTO longrun_operations (name, parent, done, metadata, error, response, create_time, update_time, done_time,
         cancel_request_time)
       SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::text[], $6::text[], $7::bigint[],
         $8::bigint[], $9::bigint[], $10::bigint[])`,
      [
        records.map((record) => encodeName(record.name)),
        column('parent'),
        column('done'),
        column('metadata'),
        column('error'),
        column('response'),
        column('createTime'),
        column('updateTime'),
        column('doneTime'),
        column('cancelRequestTime'),
      ],
    );
  }

  /** Names of the rows the SQL selects, checking that the condition is true or false (never NULL) on every row. */
  async function sqlNames(filter: Filter): Promise<string[]> {
    const values: unknown[] = [];
    const condition = compilePostgresFilter(filter, values);
    const { rows } = await schema.query<{ name: string; matched: unknown }>(
      `SELECT name, (${condition}) AS matched FROM longrun_operations ORDER BY seq`,
      values,
    );
    for (const row of rows) expect([true, false], `${filter.text} on ${row.name}`).toContain(row.matched);
    return rows.filter((row) => row.matched === true).map((row) => decodeName(row.name));
  }

  const evaluatorNames = (filter: Filter, records: readonly OperationRecord[]) =>
    records.filter((record) => matchesFilter(filter, record)).map((record) => record.name);

  it.each(SEMANTICS)('%s', async (text, expected) => {
    await load(RECORDS);
    const filter = parseFilter(text)!;
    expect(evaluatorNames(filter, RECORDS)).toEqual(expected);
    expect(await sqlNames(filter)).toEqual(expected);
  });

  it('binds every value', () => {
    const values: unknown[] = ['first'];
    const sql = compilePostgresFilter(parseFilter(`name = "x'; DROP TABLE operations; --" metadata.a_b = 5`)!, values);
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain('a_b');
    expect(sql).toContain('$2::text');
    expect(values).toEqual(['first', "x'; DROP TABLE operations; --", 'a_b', 'aB', '5']);
  });

  it('on random operations and filters', async () => {
    await fc.assert(
      fc.asyncProperty(operations, fc.array(filterText, { minLength: 1, maxLength: 4 }), async (records, texts) => {
        await load(records);
        for (const text of texts) {
          const filter = parseFilter(text)!;
          expect(await sqlNames(filter), text).toEqual(evaluatorNames(filter, records));
        }
      }),
      { numRuns: 500 },
    );
  }, 300_000);

  it.each([
    ['any field', operations, restriction],
    ['one path holding values at the edges of the typing rules', hotOperations, hotRestriction],
  ])(
    'on single restrictions over %s, matching often enough to mean something',
    async (_, records, restrictions) => {
      let matched = 0;
      let total = 0;
      await fc.assert(
        fc.asyncProperty(records, fc.array(restrictions, { minLength: 10, maxLength: 20 }), async (records, texts) => {
          await load(records);
          for (const text of texts) {
            const filter = parseFilter(text)!;
            const names = evaluatorNames(filter, records);
            expect(await sqlNames(filter), text).toEqual(names);
            matched += names.length;
            total += records.length;
          }
        }),
        { numRuns: 300 },
      );
      // A generator whose filters never match would make the comparison vacuous.
      expect(matched / total).toBeGreaterThan(0.05);
    },
    300_000,
  );
});
