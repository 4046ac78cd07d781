import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { OperationRecord } from '../store/store.js';
import { type Filter, filterToSql, matchesFilter, parseFilter, sqliteDialect } from './index.js';
import {
  filterText,
  hotOperations,
  hotRestriction,
  operations,
  RECORDS,
  restriction,
  SEMANTICS,
} from './sql-dialect.contract.js';

// The store's table, as the core creates it.
const db = new Database(':memory:');
db.exec(`CREATE TABLE operations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, parent TEXT NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  metadata TEXT, error TEXT, response TEXT,
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL, done_time INTEGER, cancel_request_time INTEGER,
  create_hash TEXT)`);
afterAll(() => db.close());

const insert = db.prepare(`INSERT INTO operations
  (name, parent, done, metadata, error, response, create_time, update_time, done_time, cancel_request_time, create_hash)
  VALUES (@name, @parent, @done, @metadata, @error, @response, @createTime, @updateTime, @doneTime, @cancelRequestTime, @createHash)`);

const load = db.transaction((records: readonly OperationRecord[]) => {
  db.exec('DELETE FROM operations');
  for (const record of records) insert.run({ ...record, seq: undefined, done: record.done ? 1 : 0 });
});

/** Names of the rows the SQL selects, checking that the condition is 0 or 1 (never NULL) on every row. */
function sqlNames(filter: Filter): string[] {
  const { sql, params } = filterToSql(filter, sqliteDialect);
  const rows = db.prepare(`SELECT name, (${sql}) AS matched FROM operations ORDER BY seq`).all(...params) as {
    name: string;
    matched: unknown;
  }[];
  for (const row of rows) expect([0, 1], `${filter.text} on ${row.name}`).toContain(row.matched);
  return rows.filter((row) => row.matched === 1).map((row) => row.name);
}

function evaluatorNames(filter: Filter, records: readonly OperationRecord[]): string[] {
  return records.filter((record) => matchesFilter(filter, record)).map((record) => record.name);
}

describe('matchesFilter and filterToSql', () => {
  it.each(SEMANTICS)('%s', (text, expected) => {
    load(RECORDS);
    const filter = parseFilter(text)!;
    expect(evaluatorNames(filter, RECORDS)).toEqual(expected);
    expect(sqlNames(filter)).toEqual(expected);
  });

  it('binds every value', () => {
    const { sql, params } = filterToSql(
      parseFilter(`name = "x'; DROP TABLE operations; --" metadata.a_b = 5`)!,
      sqliteDialect,
    );
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain('a_b');
    expect(params).toEqual(["x'; DROP TABLE operations; --", 'a_b', 'aB', 5n]);
  });
});

describe('SQLite agrees with the evaluator', () => {
  it('on random operations and filters', () => {
    fc.assert(
      fc.property(operations, fc.array(filterText, { minLength: 1, maxLength: 4 }), (records, texts) => {
        load(records);
        for (const text of texts) {
          const filter = parseFilter(text)!;
          expect(sqlNames(filter), text).toEqual(evaluatorNames(filter, records));
        }
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['any field', operations, restriction],
    ['one path holding values at the edges of the typing rules', hotOperations, hotRestriction],
  ])('on single restrictions over %s, matching often enough to mean something', (_, records, restrictions) => {
    let matched = 0;
    let total = 0;
    fc.assert(
      fc.property(records, fc.array(restrictions, { minLength: 10, maxLength: 20 }), (records, texts) => {
        load(records);
        for (const text of texts) {
          const filter = parseFilter(text)!;
          const names = evaluatorNames(filter, records);
          expect(sqlNames(filter), text).toEqual(names);
          matched += names.length;
          total += records.length;
        }
      }),
      { numRuns: 300 },
    );
    // A generator whose filters never match would make the comparison vacuous.
    expect(matched / total).toBeGreaterThan(0.05);
  });
});
