import { describe, expect, it } from 'vitest';
import { ApiError } from '../contract/errors.js';
import type { Node, Test } from './ast.js';
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, MAX_PATH_LENGTH, parseFilter } from './index.js';

/** The checked tree in a compact form: `and(…)`, `or(…)`, `not(…)`, and one line per restriction. */
function show(node: Node): string {
  switch (node.kind) {
    case 'and':
    case 'or':
      return `${node.kind}(${node.operands.map(show).join(', ')})`;
    case 'not':
      return `not(${show(node.operand)})`;
    case 'flag':
      return `${node.flag}=${node.value}`;
    case 'column':
      return `${node.column} ${showTest(node.test)}`;
    case 'json': {
      const path = node.path.map((keys) => keys.join('|')).join('.');
      return `${node.column}.${path}${node.protoDefault === undefined ? '' : '?'} ${showTest(node.test)}`;
    }
  }
}

function showTest(test: Test): string {
  switch (test.kind) {
    case 'present':
      return 'present';
    case 'bool':
      return `is ${test.value}`;
    case 'number':
      return `${test.op} ${typeof test.value === 'bigint' ? `${test.value}n` : test.value}`;
    case 'string':
      // Wildcards show as the pieces around them.
      return `${test.op} ${test.parts.length === 1 ? JSON.stringify(test.parts[0]) : JSON.stringify(test.parts)}`;
    case 'timestamp':
      return `${test.op} @${test.key}`;
    case 'duration':
      return `${test.op} ${test.value.seconds}s${test.value.nanos}ns`;
  }
}

function parsed(text: string): string {
  const filter = parseFilter(text);
  if (!filter) throw new Error('empty filter');
  return show(filter.root);
}

const SPANNER_RESTORE =
  '(metadata.@type=type.googleapis.com/google.spanner.admin.database.v1.RestoreDatabaseMetadata) AND ' +
  '(metadata.progress.start_time < "2021-03-28T14:50:00Z") AND (error:*)';

// The full example of ListDatabaseOperationsRequest.filter in google/spanner/admin/database/v1.
const SPANNER_RESTORE_FULL =
  '(metadata.@type=type.googleapis.com/google.spanner.admin.database.v1.RestoreDatabaseMetadata) AND ' +
  '(metadata.source_type:BACKUP) AND (metadata.backup_info.backup:backup_howl) AND ' +
  '(metadata.name:restored_howl) AND (metadata.progress.start_time < "2018-03-28T14:50:00Z") AND (error:*)';

const CASES: [string, string, string][] = [
  // Precedence: OR binds tighter than AND; whitespace is AND.
  ['OR inside AND', 'done:true AND name = a OR name = b', 'and(done=true, or(name = "a", name = "b"))'],
  ['OR before AND', 'done:true OR name = a AND name = b', 'and(or(done=true, name = "a"), name = "b")'],
  ['implicit AND', 'done:true name = a OR name = b', 'and(done=true, or(name = "a", name = "b"))'],
  ['parentheses', '(done:true AND name = a) OR name = b', 'or(and(done=true, name = "a"), name = "b")'],
  ['AND chain', 'done:true AND name = a AND error:*', 'and(done=true, name = "a", error present)'],
  ['implicit then AND', 'done:true name = a AND error:*', 'and(and(done=true, name = "a"), error present)'],
  ['OR chain', 'name = a OR name = b OR name = c', 'or(name = "a", name = "b", name = "c")'],
  ['nested parentheses', '((done:true))', 'done=true'],
  // Negation.
  ['NOT', 'NOT done:true', 'not(done=true)'],
  ['minus', '-done:true', 'not(done=true)'],
  ['NOT group', 'NOT (done:true OR cancel_requested:true)', 'not(or(done=true, cancel_requested=true))'],
  ['minus group', '-(done:true)', 'not(done=true)'],
  ['NOT without space', 'NOT(done:true)', 'not(done=true)'],
  ['negation in a sequence', 'done:true -error:*', 'and(done=true, not(error present))'],
  ['!= on a bool', 'done != true', 'done=false'],
  // Keywords are case-sensitive.
  ['lower-case and is a value', 'name = and', 'name = "and"'],
  ['quoted AND is a value', 'name = "AND"', 'name = "AND"'],
  ['keyword as a path segment', 'metadata.AND = 1', 'metadata.AND = 1n'],
  // Comparators.
  ['all comparators', 'error.code < 1 error.code <= 2', 'and(error.code? < 1n, error.code? <= 2n)'],
  [
    'more comparators',
    'error.code > 1 error.code >= 2 error.code != 3',
    'and(error.code? > 1n, error.code? >= 2n, error.code? != 3n)',
  ],
  ['no spaces', 'error.code>=2', 'error.code? >= 2n'],
  // Wildcards.
  ['prefix wildcard', 'name = "projects/p/operations/abc*"', 'name = ["projects/p/operations/abc",""]'],
  ['suffix wildcard', 'name = "*abc"', 'name = ["","abc"]'],
  ['middle wildcards', 'name = "a*b*c"', 'name = ["a","b","c"]'],
  ['unquoted wildcard', 'name = projects/p/operations/abc*', 'name = ["projects/p/operations/abc",""]'],
  ['escaped star', 'name = "a\\*b"', 'name = "a*b"'],
  ['star in ordering', 'name < "a*"', 'name < "a*"'],
  ['!= with wildcard', 'name != "a*"', 'name != ["a",""]'],
  // Strings: escapes and Unicode.
  ['escapes', 'name = "q\\"b\\\\s\\n\\t\\r\\/"', `name = ${JSON.stringify('q"b\\s\n\t\r/')}`],
  ['hex escapes', 'name = "\\u00e9\\U0001F600\\x41"', 'name = "é😀A"'],
  ['surrogate pair escape', 'name = "\\uD83D\\uDE00"', 'name = "😀"'],
  ['single quotes', `name = 'say "hi"'`, 'name = "say \\"hi\\""'],
  ['escaped single quote', "name = 'it\\'s'", 'name = "it\'s"'],
  ['unicode text', 'metadata.名前 = 値', 'metadata.名前 = "値"'],
  ['emoji', 'name = "😀*"', 'name = ["😀",""]'],
  ['quoted path segment', 'metadata."a.b" = 1', 'metadata.a.b = 1n'],
  // Typed literals on metadata paths: the literal's form decides.
  ['negative integer', 'metadata.n = -5', 'metadata.n = -5n'],
  ['exponent', 'metadata.n = 1.5e3', 'metadata.n = 1500'],
  ['negative exponent', 'metadata.n > -1.5E-3', 'metadata.n > -0.0015'],
  ['signed exponent', 'metadata.n > 2e+2', 'metadata.n > 200'],
  ['int64', 'metadata.n = 9223372036854775807', 'metadata.n = 9223372036854775807n'],
  ['beyond int64', 'metadata.n = 9223372036854775808', 'metadata.n = 9223372036854776000'],
  ['bool', 'metadata.flag = true', 'metadata.flag is true'],
  ['bool !=', 'metadata.flag != true', 'metadata.flag is false'],
  ['quoted bool is a string', 'metadata.flag = "true"', 'metadata.flag = "true"'],
  ['quoted number is a string', 'metadata.n = "5"', 'metadata.n = "5"'],
  ['timestamp', 'metadata.t < "2021-03-28T14:50:00Z"', 'metadata.t < @2021-03-28T14:50:00000000000'],
  ['timestamp with offset', 'metadata.t = "2021-03-28T16:50:00.5+02:00"', 'metadata.t = @2021-03-28T14:50:00500000000'],
  [
    'timestamp with nanos',
    'metadata.t >= "2021-03-28t14:50:00.000000001z"',
    'metadata.t >= @2021-03-28T14:50:00000000001',
  ],
  ['duration', 'metadata.d > 20s', 'metadata.d > 20s0ns'],
  ['fractional duration', 'metadata.d <= 1.5s', 'metadata.d <= 1s500000000ns'],
  ['negative duration', 'metadata.d = -1.5s', 'metadata.d = -1s-500000000ns'],
  ['quoted duration', 'metadata.d = "20.5s"', 'metadata.d = 20s500000000ns'],
  ['string', 'metadata.state = RUNNING', 'metadata.state = "RUNNING"'],
  ['dotted text', 'metadata.v = 1.2.3', 'metadata.v = "1.2.3"'],
  ['hyphenated text', 'metadata.v = op-1', 'metadata.v = "op-1"'],
  // Paths: snake_case and lowerCamelCase both match.
  ['snake path', 'metadata.progress.start_time:*', 'metadata.progress.start_time|startTime present'],
  ['camel path', 'metadata.progress.startTime:*', 'metadata.progress.startTime|start_time present'],
  ['@type', 'metadata.@type = x.Meta', 'metadata.@type = "x.Meta"'],
  ['nested @type is a path', 'metadata.detail.@type = x', 'metadata.detail.@type = "x"'],
  ['response path', 'response.a_b = 1', 'response.a_b|aB = 1n'],
  // The has operator.
  ['presence', 'metadata.x:*', 'metadata.x present'],
  ['message presence', 'metadata:*', 'metadata present'],
  ['map key', 'metadata:progress', 'metadata.progress present'],
  ['has a value', 'metadata.tags:42', 'or(metadata.tags.42 present, metadata.tags = 42n)'],
  ['has a quoted value', 'metadata.tags:"a b"', 'or(metadata.tags.a b present, metadata.tags = "a b")'],
  ['has on a primitive', 'done:true', 'done=true'],
  ['done:*', 'done:*', 'done=true'],
  ['has on a string', 'name:"a*"', 'name = ["a",""]'],
  ['unquoted star after =', 'metadata.x = *', 'metadata.x = ["",""]'],
  // Declared fields.
  ['error', 'error:*', 'error present'],
  ['error.code', 'error.code = 5', 'error.code? = 5n'],
  ['error.code quoted', 'error.code = "5"', 'error.code? = 5n'],
  ['error.code presence', 'error.code:*', 'error.code? != 0n'],
  ['error.message', 'error.message = "boom*"', 'error.message? = ["boom",""]'],
  ['error.message presence', 'error.message:*', 'error.message? != ""'],
  ['name presence', 'name:*', 'name != ""'],
  ['cancel_requested', 'cancel_requested = true', 'cancel_requested=true'],
  ['create_time', 'create_time > "2021-03-28T14:50:00Z"', 'create_time > 1616943000000'],
  ['sub-millisecond time', 'update_time <= "2021-03-28T14:50:00.0005Z"', 'update_time <= 1616943000000.5'],
  ['done_time presence', 'done_time:*', 'done_time present'],
  ['camelCase top-level field', 'createTime < "2021-03-28T14:50:00+01:00"', 'create_time < 1616939400000'],
  ['old timestamp', 'create_time > "0001-01-01T00:00:00Z"', 'create_time > -62135596800000'],
  // Spanner's documented filters, verbatim.
  ['Spanner done', 'done:true', 'done=true'],
  [
    'Spanner restore',
    SPANNER_RESTORE,
    'and(metadata.@type = "type.googleapis.com/google.spanner.admin.database.v1.RestoreDatabaseMetadata", ' +
      'metadata.progress.start_time|startTime < @2021-03-28T14:50:00000000000, error present)',
  ],
];

describe('parseFilter', () => {
  it.each(CASES)('%s: %s', (_, text, expected) => {
    expect(parsed(text)).toBe(expected);
  });

  it('parses the full Spanner restore example', () => {
    expect(parsed(SPANNER_RESTORE_FULL)).toMatch(/^and\(metadata\.@type = .*, error present\)$/);
  });

  it('returns undefined for an empty filter', () => {
    expect(parseFilter('')).toBeUndefined();
    expect(parseFilter(' \t\n\u00a0')).toBeUndefined();
  });

  it('keeps the text', () => {
    expect(parseFilter(' done:true ')?.text).toBe(' done:true ');
  });
});

const ERRORS: [string, string, number, RegExp][] = [
  ['unknown field', 'foo = 1', 1, /unknown field 'foo'/],
  ['unknown field after valid ones', 'done:true AND foo = 1', 15, /unknown field 'foo'/],
  ['unknown error field', 'error.details:*', 7, /unknown field 'error.details'/],
  ['field of a scalar', 'name.first = x', 6, /name is a string and has no fields/],
  ['field of @type', 'metadata.@type.x = 1', 16, /metadata.@type is a string and has no fields/],
  ['bool from a number', 'done = 5', 8, /done is a bool: expected true or false, found '5'/],
  ['bool ordering', 'done < true', 6, /only =, != and : apply/],
  ['bool literal ordering', 'metadata.x < true', 12, /only =, != and : apply/],
  ['timestamp from text', 'create_time > "yesterday"', 15, /create_time is a timestamp: expected an RFC 3339/],
  ['timestamp without a zone', 'create_time > "2021-03-28T14:50:00"', 15, /RFC 3339/],
  ['invalid date', 'metadata.t = "2021-02-29T00:00:00Z"', 14, /not a valid RFC 3339 timestamp/],
  ['too many fraction digits', 'metadata.t = "2021-02-28T00:00:00.0000000001Z"', 14, /not a valid/],
  ['integer from text', 'error.code = "x"', 14, /error.code is an integer/],
  ['integer from a fraction', 'error.code = 1.5', 14, /error.code is an integer/],
  ['number out of range', 'metadata.n = 1e400', 14, /out of range/],
  ['message compared', 'metadata = 5', 10, /metadata is a message/],
  ['error compared', 'error:boom', 6, /only error:\* apply/],
  ['unbalanced (', '(done:true', 11, /expected '\)' to close the '\(' at column 1, found the end/],
  ['unbalanced )', 'done:true)', 10, /no matching '\('/],
  ['empty group', '()', 2, /expected a restriction after '\(', found '\)'/],
  ['dangling AND', 'done:true AND', 14, /expected a restriction after AND, found the end/],
  ['leading AND', 'AND done:true', 1, /expected a restriction, found 'AND'/],
  ['dangling OR', 'done:true OR', 13, /after OR/],
  ['double AND', 'done:true AND AND done:true', 15, /after AND, found 'AND'/],
  ['dangling NOT', 'NOT', 4, /after NOT, found the end/],
  ['dangling minus', 'done:true -', 12, /after -, found the end/],
  ['double negation', 'NOT NOT done:true', 5, /after NOT, found 'NOT'/],
  ['missing value', 'name =', 7, /expected a value after '=', found the end/],
  ['keyword value', 'name = AND', 8, /expected a value after '=', found 'AND'/],
  ['spaced minus', 'metadata.n = - 5', 14, /expected a value/],
  ['double comparator', 'name == x', 7, /expected a value after '=', found '='/],
  ['missing comparator', 'name', 5, /expected a comparator .* after name, found the end/],
  ['bare value', 'name = x foo', 13, /expected a comparator .* after foo/],
  ['lower-case and', 'name = x and name = y', 14, /expected a comparator .* after and, found 'name'/],
  ['trailing dot', 'metadata.', 10, /expected a field name right after '.'/],
  ['spaced dot', 'metadata. x = 1', 11, /expected a field name right after '.'/],
  ['value trailing dot', 'metadata.v = 1.', 16, /right after '.'/],
  ['function call', 'f(x) = 1', 2, /function calls are not supported/],
  ['function value', 'name = f(x)', 9, /function calls are not supported/],
  ['comma', 'name = a, name = b', 9, /expected AND, OR or the end of the filter, found ','/],
  ['lone !', 'name ! x', 6, /'!' must be followed by '='/],
  ['backslash outside a string', 'name = a\\b', 9, /backslash/],
  ['unterminated string', 'name = "abc', 8, /unterminated string: no closing "/],
  ['unterminated single quote', "name = 'abc", 8, /no closing '/],
  ['unterminated escape', 'name = "abc\\', 12, /ends inside an escape/],
  ['unknown escape', 'name = "a\\qb"', 10, /unknown escape sequence \\q/],
  ['short hex escape', 'name = "\\u12"', 9, /4 hexadecimal digits/],
  ['lone surrogate escape', 'name = "\\uD800"', 9, /not a Unicode character/],
  ['too big code point', 'name = "\\U00110000"', 9, /not a Unicode character/],
  ['NUL escape', 'name = "\\u0000"', 9, /U\+0000/],
  ['NUL character', 'name = "a\0"', 10, /U\+0000/],
  ['lone surrogate', 'name = "a\uD800"', 10, /unpaired surrogate/],
  ['columns count characters', 'name = "😀" = x', 12, /expected AND, OR or the end/],
];

describe('parseFilter errors', () => {
  it.each(ERRORS)('%s: %s', (_, text, column, message) => {
    const error = parseError(text);
    const description = `column ${column}: `;
    expect(error.fieldViolations?.[0]?.description.slice(0, description.length)).toBe(description);
    expect(error.fieldViolations?.[0]?.description).toMatch(message);
  });

  it('reports INVALID_FILTER with a BadRequest on field filter', () => {
    const error = parseError('done = 5');
    expect(error.code).toBe(3);
    expect(error.message).toBe("Invalid filter: column 8: done is a bool: expected true or false, found '5'");
    expect(error.fieldViolations).toEqual([{ field: 'filter', description: expect.stringMatching(/^column 8: /) }]);
    expect(error.metadata).toEqual({ field: 'filter', column: '8' });
  });

  it(`limits the length to ${MAX_FILTER_LENGTH} characters`, () => {
    const atLimit = `name = "${'a'.repeat(MAX_FILTER_LENGTH - 9)}"`;
    expect(atLimit).toHaveLength(MAX_FILTER_LENGTH);
    expect(parseFilter(atLimit)).toBeDefined();
    const error = parseError(`name = "${'a'.repeat(MAX_FILTER_LENGTH)}"`);
    expect(error.fieldViolations?.[0]?.description).toBe(
      `column ${MAX_FILTER_LENGTH + 1}: the filter is longer than ${MAX_FILTER_LENGTH} characters`,
    );
  });

  it('counts the length in characters, not UTF-16 units', () => {
    expect(parseFilter(`name = "${'😀'.repeat(MAX_FILTER_LENGTH - 9)}"`)).toBeDefined();
    expect(parseError(`name = "${'😀'.repeat(MAX_FILTER_LENGTH - 8)}"`).message).toMatch(/longer than/);
  });

  it(`limits nesting to ${MAX_FILTER_DEPTH} parentheses`, () => {
    const nested = (depth: number) => `${'('.repeat(depth)}done:true${')'.repeat(depth)}`;
    expect(parseFilter(nested(MAX_FILTER_DEPTH))).toBeDefined();
    const error = parseError(nested(MAX_FILTER_DEPTH + 1));
    expect(error.fieldViolations?.[0]?.description).toBe(
      `column ${MAX_FILTER_DEPTH + 1}: more than ${MAX_FILTER_DEPTH} nested parentheses`,
    );
  });

  it('takes other limits', () => {
    expect(parseError('((done:true))', { maxDepth: 1 }).message).toMatch(/column 2: more than 1 nested/);
    expect(parseError('done:true', { maxLength: 5 }).message).toMatch(/column 6: the filter is longer than 5/);
    expect(parseFilter('((done:true))', { maxDepth: 2, maxLength: 13 })).toBeDefined();
  });

  it(`limits a path to ${MAX_PATH_LENGTH} segments`, () => {
    const path = (length: number) => ['metadata', ...Array.from({ length: length - 1 }, (_, i) => `k${i}`)].join('.');
    expect(parseFilter(`${path(MAX_PATH_LENGTH)} = 1`)).toBeDefined();
    expect(parseError(`${path(MAX_PATH_LENGTH + 1)} = 1`).message).toMatch(/column 1: a field path has at most 32/);
    // `:` with a value also asks for a key one level down.
    expect(parseError(`${path(MAX_PATH_LENGTH)}:x`).message).toMatch(/at most 32/);
  });
});

function parseError(text: string, limits?: { maxLength?: number; maxDepth?: number }): ApiError {
  try {
    parseFilter(text, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).reason).toBe('INVALID_FILTER');
    return error as ApiError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}
