import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../contract/errors.js';
import type { OperationRecord } from '../store/store.js';
import {
  filterToSql,
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  matchesFilter,
  parseFilter,
  sqliteDialect,
} from './index.js';

const db = new Database(':memory:');
db.exec(`CREATE TABLE operations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, parent TEXT NOT NULL,
  done INTEGER NOT NULL DEFAULT 0, metadata TEXT, error TEXT, response TEXT,
  create_time INTEGER NOT NULL, update_time INTEGER NOT NULL, done_time INTEGER, cancel_request_time INTEGER,
  create_hash TEXT)`);
afterAll(() => db.close());

const RECORD: OperationRecord = {
  name: 'operations/a',
  parent: '',
  done: true,
  metadata: '{"@type":"type.googleapis.com/x.Meta","a":{"b":[1,[2,{"c":"2021-03-28T14:00:00Z"}]]},"x":"20s","y":"12"}',
  error: '{"code":5,"message":"boom"}',
  response: null,
  createTime: 1616940000000,
  updateTime: 1616940000000,
  doneTime: 1616940000000,
  cancelRequestTime: null,
  createHash: null,
  seq: 1,
};
db.prepare(`INSERT INTO operations (name, parent, done, metadata, error, create_time, update_time, done_time)
  VALUES (@name, @parent, 1, @metadata, @error, @createTime, @updateTime, @doneTime)`).run(RECORD);

/**
 * Parses the text: it must either succeed, and then compile to SQL that SQLite runs and evaluate
 * without error, or fail with INVALID_FILTER naming a column inside the text (or just after it),
 * all within `milliseconds`.
 */
function parsesOrRejects(text: string, milliseconds = 500): void {
  const started = performance.now();
  try {
    const filter = parseFilter(text);
    if (filter) {
      const { sql, params } = filterToSql(filter, sqliteDialect);
      db.prepare(`SELECT count(*) FROM operations WHERE ${sql}`).get(...params);
      matchesFilter(filter, RECORD);
    }
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    expect(error.reason).toBe('INVALID_FILTER');
    const column = Number(/^column (\d+): ./.exec(error.fieldViolations?.[0]?.description ?? '')?.[1]);
    expect(column).toBeGreaterThanOrEqual(1);
    expect(column).toBeLessThanOrEqual(Array.from(text).length + 1);
  }
  expect(performance.now() - started).toBeLessThan(milliseconds);
}

// Pieces of the language and of its edges, so that random sequences of them come close to filters.
const PIECES = [
  ...['name', 'done', 'error', 'metadata', 'response', 'create_time', 'cancel_requested', 'code', 'message', '@type'],
  ...[
    'a',
    'b',
    'x',
    '.',
    ' ',
    '  ',
    '\t',
    '\n',
    '(',
    ')',
    '"',
    "'",
    '\\',
    '*',
    '-',
    ':',
    '=',
    '!=',
    '!',
    '<',
    '<=',
    '>',
  ],
  ...[
    '>=',
    ',',
    'AND',
    'OR',
    'NOT',
    'and',
    'true',
    'false',
    '1',
    '-5',
    '1.5e3',
    '1e400',
    '20s',
    '1.5s',
    '9223372036854775808',
  ],
  ...['"2021-03-28T14:50:00Z"', '"2021-02-30T00:00:00Z"', '\\u', '\\uD83D', '\\uDE00', '\\U0010FFFF', '\\x4', '\\n'],
  ...['é', '😀', '\uD800', '\uDC00', '\0', '\u00a0', '\u2028', 'f(', '__proto__', 'constructor', 'toString'],
];

const pieceSoup = fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((pieces) => pieces.join(''));

/** Any UTF-16 units, unpaired surrogates included. */
const anyUnits = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
  maxLength: 60,
});

const VALID = [
  'done:true',
  'NOT done:true AND name = "projects/p/operations/abc*"',
  '(metadata.@type=type.googleapis.com/google.spanner.admin.database.v1.RestoreDatabaseMetadata) AND ' +
    '(metadata.progress.start_time < "2021-03-28T14:50:00Z") AND (error:*)',
  'metadata.a.b:2 OR -metadata.x > 10s metadata.y >= 12',
  'error.code = 5 OR error.message = "b*m" cancel_requested = false',
  'create_time >= "2021-03-28T14:00:00.5+02:00" AND NOT (done_time:* OR response:*)',
  "metadata.a.b.c = '2021-03-28T14:00:00Z' metadata:a",
];

/** A valid filter with a few random edits: insertions of pieces, deletions and duplications. */
const mutated = fc
  .tuple(
    fc.constantFrom(...VALID),
    fc.array(
      fc.tuple(fc.constantFrom('insert', 'delete', 'duplicate'), fc.nat(), fc.nat(), fc.constantFrom(...PIECES)),
      {
        minLength: 1,
        maxLength: 4,
      },
    ),
  )
  .map(([text, edits]) =>
    edits.reduce((current, [edit, i, j, piece]) => {
      const at = i % (current.length + 1);
      const end = Math.min(current.length, at + (j % 8));
      if (edit === 'insert') return current.slice(0, at) + piece + current.slice(at);
      if (edit === 'delete') return current.slice(0, at) + current.slice(end);
      return current.slice(0, end) + current.slice(at, end) + current.slice(end);
    }, text),
  );

describe('parseFilter never fails otherwise than with INVALID_FILTER', () => {
  it.each([
    ['sequences of pieces of the language', pieceSoup],
    ['arbitrary UTF-16 strings', anyUnits],
    ['valid filters with random edits', mutated],
  ])('on %s', (_, texts) => {
    fc.assert(
      fc.property(texts, (text) => parsesOrRejects(text)),
      { numRuns: 3000 },
    );
  });

  it('on the largest and deepest inputs', () => {
    const fill = (unit: string) => unit.repeat(Math.floor(MAX_FILTER_LENGTH / unit.length));
    const depth = MAX_FILTER_DEPTH;
    const inputs = [
      fill('('),
      fill(')'),
      fill('"'),
      fill('\\'),
      fill('a.'),
      fill('NOT '),
      fill('-'),
      `${fill('done:* OR ').slice(0, -4)}`,
      `${fill('done:* ').trim()}`,
      `${fill('metadata.x:y AND ').slice(0, -5)}`,
      `${fill('metadata.a.b.c >= 1.5s OR ').slice(0, -4)}`,
      `${'NOT ('.repeat(depth)}metadata.a:b${')'.repeat(depth)}`,
      `${'('.repeat(depth)}done:true OR done:false${')'.repeat(depth)} `.repeat(5),
      `metadata.${Array.from({ length: 30 }, (_, i) => `k${i}`).join('.')}:x `.repeat(20),
      'a'.repeat(MAX_FILTER_LENGTH * 100),
      ' '.repeat(MAX_FILTER_LENGTH + 1),
    ];
    // The slowest, about 150 duration comparisons, costs SQLite some 0.3 s to prepare.
    for (const text of inputs) parsesOrRejects(text, 3000);
  });
});
