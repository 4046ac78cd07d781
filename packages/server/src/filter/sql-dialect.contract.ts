/**
 * What every SQL dialect of the filter is tested with: fixed operations with the filters and the
 * names each must select (SEMANTICS), and fast-check generators of operations and filters for the
 * property "the database selects exactly what the evaluator does". The SQLite dialect runs them in
 * sql.test.ts, PostgreSQL's in test/postgres/filter-sql.test.ts.
 */
import fc from 'fast-check';
import type { OperationRecord } from '../store/store.js';

let seq = 0;
export function record(fields: Partial<OperationRecord> & { name: string }): OperationRecord {
  return {
    parent: '',
    done: false,
    metadata: null,
    error: null,
    response: null,
    createTime: Date.parse('2021-03-28T14:00:00Z'),
    updateTime: Date.parse('2021-03-28T14:00:00Z'),
    doneTime: null,
    cancelRequestTime: null,
    createHash: null,
    seq: ++seq,
    ...fields,
  };
}

export const RECORDS = [
  record({
    name: 'operations/a',
    metadata: JSON.stringify({
      '@type': 'type.googleapis.com/x.Meta',
      progress: { startTime: '2021-03-28T14:00:00Z', percent: 40 },
      tags: ['red', 'blue'],
      count: '12',
      elapsed: '20.5s',
    }),
  }),
  record({
    name: 'operations/b',
    done: true,
    metadata:
      '{"@type":"type.googleapis.com/google.spanner.admin.database.v1.RestoreDatabaseMetadata",' +
      '"progress":{"start_time":"2021-03-28T14:00:00.5Z","percent":100},' +
      '"matrix":[[1,2],[3,[4]]],"items":[{"name":"x"},{"name":"y"}]}',
    error: JSON.stringify({ code: 5, message: 'not found' }),
    createTime: Date.parse('2021-03-28T14:50:00.001Z'),
    doneTime: Date.parse('2021-03-28T15:00:00Z'),
  }),
  record({
    name: 'projects/p/operations/abc1',
    done: true,
    response: '{"@type":"type.googleapis.com/x.Resp","ok":true,"size":9007199254740993}',
    doneTime: Date.parse('2021-03-28T16:00:00Z'),
    cancelRequestTime: Date.parse('2021-03-28T15:30:00Z'),
  }),
  record({
    name: 'projects/p/operations/xyz',
    done: true,
    metadata: JSON.stringify({ flag: false, n: null, empty: [], obj: {} }),
    error: JSON.stringify({ message: 'no code' }),
    doneTime: Date.parse('2021-03-28T17:00:00Z'),
  }),
];
const [A, B, C, D] = RECORDS.map((r) => r.name);

export const SEMANTICS: [string, (string | undefined)[]][] = [
  ['done:true', [B, C, D]],
  ['NOT done:true', [A]],
  ['done = false', [A]],
  ['name = "projects/p/operations/abc*"', [C]],
  ['name = operations/*', [A, B]],
  ['name = "*xyz"', [D]],
  ['name = "projects/*/operations/*"', [C, D]],
  ['name != "operations/*"', [C, D]],
  ['name > "operations/b"', [C, D]],
  // Timestamps compare as instants, whatever their fractions and offsets.
  ['metadata.progress.start_time < "2021-03-28T14:00:00.1Z"', [A]],
  ['metadata.progress.startTime = "2021-03-28T16:00:00.500+02:00"', [B]],
  ['metadata.progress.start_time >= "2021-03-28T14:00:00Z"', [A, B]],
  // Numbers; a path an operation lacks matches nothing, even with !=, but NOT of it matches.
  ['metadata.progress.percent >= 50', [B]],
  ['metadata.progress.percent != 40', [B]],
  ['NOT metadata.progress.percent = 40', [B, C, D]],
  ['metadata.count > 10', [A]],
  ['metadata.count = "12"', [A]],
  ['response.size = 9007199254740993', [C]],
  ['response.size = 9007199254740992', []],
  // Durations.
  ['metadata.elapsed > 20s', [A]],
  ['metadata.elapsed = 20.500s', [A]],
  ['metadata.elapsed < "20.6s"', [A]],
  // Lists and the has operator.
  ['metadata.tags:red', [A]],
  ['metadata.tags = blue', [A]],
  ['metadata.tags:green', []],
  ['metadata.matrix:4', [B]],
  ['metadata.items.name = y', [B]],
  ['metadata:progress', [A, B]],
  ['metadata.progress:percent', [A, B]],
  ['metadata:*', [A, B, D]],
  ['response:*', [C]],
  ['response.ok = true', [C]],
  ['metadata.flag = false', [D]],
  ['metadata.flag != true', [D]],
  ['metadata.n:*', []],
  ['metadata.empty:*', []],
  ['metadata.obj:*', [D]],
  ['metadata.@type = "type.googleapis.com/x.*"', [A]],
  // error is a google.rpc.Status: an omitted code is 0.
  ['error:*', [B, D]],
  ['error.code = 0', [D]],
  ['error.code = 5', [B]],
  ['error.code:*', [B]],
  ['NOT error.code = 5', [A, C, D]],
  ['error.code < 3', [D]],
  ['error.message:*', [B, D]],
  ['error.message = "not*"', [B]],
  // longrun's own fields.
  ['cancel_requested = true', [C]],
  ['cancel_requested:*', [C]],
  ['done_time:*', [B, C, D]],
  ['NOT done_time > "2021-03-28T15:30:00Z"', [A, B]],
  ['create_time > "2021-03-28T14:50:00.0005Z"', [B]],
  ['create_time > "2021-03-28T14:50:00.001Z"', []],
  ['create_time = "2021-03-28T14:50:00.001000Z"', [B]],
  ['create_time = "2021-03-28T14:50:00.0010005Z"', []],
  ['create_time >= "2021-03-28T14:50:00.0010005Z"', []],
  ['create_time < "2021-03-28T14:50:00.0010005Z"', [A, B, C, D]],
  ['createTime <= "2021-03-28T14:00:00Z"', [A, C, D]],
  // Spanner's example.
  [
    '(metadata.@type=type.googleapis.com/google.spanner.admin.database.v1.RestoreDatabaseMetadata) AND ' +
      '(metadata.progress.start_time < "2021-03-28T14:50:00Z") AND (error:*)',
    [B],
  ],
];

// ---------------------------------------------------------------------------------------------
// Generators for the property: random operations and random filters, for which every dialect must
// select exactly what the evaluator does.

type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json };

/** JSON text; bigints are written as integers, as a provider's uint64 in metadata would be. */
function toJson(value: Json): string {
  if (typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, member]) => `${JSON.stringify(key)}:${toJson(member)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const KEYS = [
  'startTime',
  'start_time',
  'percent',
  'progress',
  'items',
  'tags',
  'state',
  'count',
  'aB',
  'a_b',
  'x',
  'é',
  'a.b',
  'k"q',
];

const BASE_SECONDS = [1616940000, 1616940001, 1616943000, 0, -62135596800, 253402300799];
const NANOS = [0, 1, 500000000, 123456789, 999999999, 1000000];

/** A timestamp in proto3 JSON form with 0 to 9 fractional digits (a truncated fraction is another instant). */
const storedTimestamp = fc
  .tuple(fc.constantFrom(...BASE_SECONDS), fc.constantFrom(...NANOS), fc.constantFrom(0, 1, 2, 3, 5, 6, 9))
  .map(([seconds, nanos, digits]) => {
    const fraction = digits === 0 ? '' : `.${String(nanos).padStart(9, '0').slice(0, digits)}`;
    return `${new Date(seconds * 1000).toISOString().slice(0, 19)}${fraction}Z`;
  });

const durationText = fc.oneof(
  fc.constantFrom('20s', '20.5s', '20.500s', '-1.5s', '0s', '-0s', '0.000000001s', '1.000000001s', '315576000000s'),
  fc
    .tuple(fc.constantFrom('', '-'), fc.integer({ min: 0, max: 30 }), fc.constantFrom('', '.5', '.05', '.000000001'))
    .map(([sign, seconds, fraction]) => `${sign}${seconds}${fraction}s`),
);

const STRINGS = ['', 'a', 'ab', 'abc', 'a*b', 'a?b', '[x]', 'RUNNING', 'red', 'é', '😀', '\uE000', '\uFFFF', 'a\nb'];

const storedString = fc.oneof(
  fc.constantFrom(...STRINGS),
  storedTimestamp,
  durationText,
  // Near misses, which must not count as timestamps, durations or int64s.
  fc.constantFrom('2021-03-28T14:00:00z', '2021-03-28T14:00:00+00:00', '2021-03-28T14:00:00.Z', '1.s', '.5s', '--5s'),
  fc.constantFrom('5ss', '5S', '1234567890123s', '1.1234567891s', '42', '-7', '007', '-0', '0', '+5', ' 5'),
  fc.constantFrom('9223372036854775807', '9223372036854775808', '-9223372036854775808', '12345678901234567', 'a\0b'),
  fc.string({ unit: fc.constantFrom('a', 'b', '*', '?', '[', 'é', '😀', '\uE000', '.', '"', '\\'), maxLength: 5 }),
);

const storedNumber = fc.oneof(
  fc.integer({ min: -5, max: 50 }),
  fc.constantFrom(0, -0, 0.5, 1.5, 40, 100, 1e21, 2 ** 53, 2 ** 53 + 2, -1e-7, 5e-324, 1.7976931348623157e308),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 12345678901234567n),
);

const scalar: fc.Arbitrary<Json> = fc.oneof(fc.constant(null), fc.boolean(), storedNumber, storedString);

const { object } = fc.letrec<{ json: Json; array: Json[]; object: { [key: string]: Json } }>((tie) => ({
  json: fc.oneof({ depthSize: 'small' }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 3 }),
  object: fc
    .uniqueArray(fc.tuple(fc.constantFrom(...KEYS), tie('json')), { maxLength: 4, selector: ([key]) => key })
    .map((entries) => Object.fromEntries(entries)),
}));

const anyMessage = fc
  .tuple(
    fc.option(fc.constantFrom('type.googleapis.com/x.Meta', 'type.googleapis.com/y.Other'), { nil: undefined }),
    object,
  )
  .map(([type, fields]) => toJson(type === undefined ? fields : { '@type': type, ...fields }));

const status = fc
  .record(
    {
      code: fc.integer({ min: 0, max: 16 }),
      message: fc.constantFrom('', 'boom', 'not found', 'a*b'),
      details: fc.constant([]),
    },
    { requiredKeys: [] },
  )
  .map((fields) => JSON.stringify(fields));

const millis = fc.oneof(
  fc.constantFrom(1616940000000, 1616940000001, 1616939999999, 1616943000000, 0, -62135596800000, 253402300799999),
  fc.integer({ min: 1616900000000, max: 1617000000000 }),
);

// Astral and private-use characters order differently in UTF-16 and in code points; NUL ends GLOB's strings.
const PREFIXES = ['operations/', 'projects/p/operations/', 'projects/p/operations/abc', 'projects/é/operations/x*y'];
PREFIXES.push('😀/', '\uE000/', '\uFFFF', 'a\0b/');

const operation = fc.record({
  prefix: fc.constantFrom(...PREFIXES),
  done: fc.boolean(),
  metadata: fc.option(anyMessage, { nil: null }),
  response: fc.option(anyMessage, { nil: null }),
  error: fc.option(status, { nil: null }),
  createTime: millis,
  updateTime: millis,
  doneTime: fc.option(millis, { nil: null }),
  cancelRequestTime: fc.option(millis, { nil: null }),
});

export const operations = fc
  .array(operation, { minLength: 1, maxLength: 20 })
  .map((generated) =>
    generated.map(({ prefix, ...fields }, i) => record({ name: `${prefix}${i}`, parent: '', ...fields })),
  );

// Filters: literals drawn from the same pools as the stored values, so that they meet.

/** A quoted string; `*`s in `text` are literal unless `wildcards` lists where pieces split. */
function quote(pieces: readonly string[]): string {
  return `"${pieces.map((piece) => piece.replace(/[\\"*]/g, (char) => `\\${char}`)).join('*')}"`;
}

const stringLiteral = fc.oneof(
  fc.constantFrom(...STRINGS, 'red', 'a', 'operations/1', '😀/1', '\uE000/', '\uFFFF').map((text) => quote([text])),
  fc.constantFrom('RUNNING', 'red', 'abc', 'operations/1').map((text) => text),
  // Wildcards: prefix, suffix, middle and everything.
  fc
    .tuple(
      fc.constantFrom('projects/p/operations/abc1', 'operations/0', 'a*b', 'a?b', '[x]', 'abc', 'é😀x', '', 'a/b/1'),
      fc.nat(),
      fc.nat(),
    )
    .chain(([text, i, j]) => {
      const chars = Array.from(text);
      const [from, to] = [i % (chars.length + 1), j % (chars.length + 1)].sort((a, b) => a - b) as [number, number];
      const [head, middle, tail] = [chars.slice(0, from), chars.slice(from, to), chars.slice(to)].map((c) =>
        c.join(''),
      );
      return fc.constantFrom(
        quote([head ?? '', '']),
        quote(['', tail ?? '']),
        quote([head ?? '', tail ?? '']),
        quote([head ?? '', middle ?? '', '']),
        quote(['', '']),
      );
    }),
);

const numberLiteral = fc.oneof(
  storedNumber.map((value) => String(value)),
  fc.constantFrom('-5', '1.5e3', '4e1', '40.0', '12', '-0', '0.5', '1e21', '9007199254740993', '9223372036854775808'),
);

/** A timestamp literal: a stored one, or its instant written with another offset. */
const timestampLiteral = fc.tuple(storedTimestamp, fc.constantFrom(0, 60, -90, 120)).map(([text, minutes]) => {
  const seconds = Date.parse(text.replace(/\.\d+Z$/, 'Z')) / 1000;
  if (minutes === 0 || seconds < 0 || seconds > 253402000000) return `"${text}"`;
  const fraction = /(\.\d+)Z$/.exec(text)?.[1] ?? '';
  const local = new Date((seconds + minutes * 60) * 1000).toISOString().slice(0, 19);
  const offset = `${minutes < 0 ? '-' : '+'}${String(Math.floor(Math.abs(minutes) / 60)).padStart(2, '0')}:${String(Math.abs(minutes) % 60).padStart(2, '0')}`;
  return `"${local}${fraction}${offset}"`;
});

const durationLiteral = durationText.chain((text) => fc.constantFrom(text, `"${text}"`));

const comparator = fc.constantFrom('=', '!=', '<', '<=', '>', '>=', ':');
const equality = fc.constantFrom('=', '!=', ':');

/** A path segment as written in a filter: quoted when it is not plain TEXT. */
const segment = fc.constantFrom(...KEYS, 'missing').map((key) => (/^[A-Za-z_é][\w]*$/.test(key) ? key : quote([key])));
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((segments) => segments.join('.'));

export const restriction = fc.oneof(
  fc.tuple(comparator, stringLiteral).map(([op, value]) => `name ${op} ${value}`),
  fc.constant('name:*'),
  fc
    .tuple(
      fc.constantFrom('done', 'cancel_requested', 'cancelRequested'),
      equality,
      fc.constantFrom('true', 'false', '"true"', '*'),
    )
    .map(([field, op, value]) => (value === '*' ? `${field}:*` : `${field} ${op} ${value}`)),
  fc
    .tuple(fc.constantFrom('create_time', 'update_time', 'done_time', 'createTime'), comparator, timestampLiteral)
    .map(([field, op, value]) => `${field} ${op} ${value}`),
  fc.constantFrom('done_time:*', 'error:*', 'metadata:*', 'response:*', 'error.code:*', 'error.message:*'),
  fc.tuple(comparator, fc.constantFrom('0', '5', '-1', '"5"', '16')).map(([op, value]) => `error.code ${op} ${value}`),
  fc.tuple(comparator, stringLiteral).map(([op, value]) => `error.message ${op} ${value}`),
  fc.tuple(fc.constantFrom('metadata', 'response'), segment).map(([root, key]) => `${root}:${key}`),
  fc
    .tuple(
      fc.constantFrom('metadata', 'response'),
      comparator,
      fc.constantFrom('type.googleapis.com/x.Meta', '"type.googleapis.com/*"'),
    )
    .map(([root, op, value]) => `${root}.@type ${op} ${value}`),
  fc
    .tuple(
      fc.constantFrom('metadata', 'response'),
      path,
      fc.oneof(
        fc.tuple(
          comparator,
          fc.oneof(stringLiteral, numberLiteral, timestampLiteral, durationLiteral, fc.constant('*')),
        ),
        fc.tuple(equality, fc.constantFrom('true', 'false')),
      ),
    )
    .map(([root, fields, [op, value]]) => `${root}.${fields} ${op} ${value}`),
);

export const filterText = fc.letrec<{
  node: string;
  not: string;
  group: string;
  and: string;
  or: string;
  sequence: string;
}>((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, restriction, tie('not'), tie('group'), tie('and'), tie('or'), tie('sequence')),
  not: fc.tuple(fc.constantFrom('NOT ', '-'), fc.oneof(restriction, tie('group'))).map(([op, term]) => op + term),
  group: tie('node').map((node) => `(${node})`),
  and: fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((nodes) => nodes.join(' AND ')),
  or: fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((nodes) => nodes.join(' OR ')),
  sequence: fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((nodes) => nodes.join(' ')),
})).node;

/** Values next to the edges of the typing rules, and the literals that probe them. */
const TRICKY: Json[] = [
  ...[0, -0, 40, 0.5, 1e21, 2 ** 53, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 64n - 1n, 12345678901234567n],
  ...['12', '42', '-7', '007', '-0', '0', '+5', ' 5', '9223372036854775807', '9223372036854775808', '12\0'],
  ...[
    '2021-03-28T14:00:00Z',
    '2021-03-28T14:00:00.5Z',
    '2021-03-28T14:00:00.500000000Z',
    '2021-03-28T13:59:59.999999999Z',
  ],
  ...['2021-03-28T14:00:00.000000001Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z'],
  ...['2021-03-28T14:00:00z', '2021-03-28T14:00:00+00:00', '2021-03-28T14:00:00.Z', '2021-03-28T14:00:00Z\0x'],
  ...['20s', '20.5s', '20.500s', '-1.5s', '-1.4s', '-0.5s', '0s', '-0s', '1.000000001s', '315576000000s'],
  ...['--5s', '5ss', '5S', '1.s', '.5s', '5s\0', '1234567890123s', '1.1234567891s', '-5s'],
  ...[
    '',
    'a',
    'ab',
    'a*b',
    'a?b',
    'aXb',
    '[x]',
    'x',
    'a\0b',
    '😀',
    '\uE000',
    '\uFFFF',
    'RUNNING',
    true,
    false,
    null,
    {},
  ],
];

const PROBES = [
  ...['0', '-0', '40', '0.5', '1e21', '9007199254740992', '9007199254740993', '9223372036854775807', '12', '7', '-7'],
  ...['18446744073709551615', '"12"', '"007"', '"2021-03-28T14:00:00Z"', '"2021-03-28T14:00:00.5Z"'],
  ...['"2021-03-28T16:00:00.5+02:00"', '"2021-03-28T14:00:00.000000001Z"', '"9999-12-31T23:59:59.999999999Z"'],
  ...['20s', '20.5s', '-1.5s', '-1.45s', '-0.5s', '0s', '"-0s"', '5s', '-5s', '1.000000001s', '"a*"', '"*b"', '"a*b"'],
  ...['a', '"a?*"', '"[x]*"', '"*?b"', '"😀"', '"\uE000"', '"\uFFFF"', '""', '*', 'RUNNING'],
];

const trickyValue = fc.constantFrom(...TRICKY);
/** One of them, in a list, or in nested lists, at a path the probing filters test. */
const hotValue = fc.oneof(
  trickyValue,
  fc.array(trickyValue, { maxLength: 3 }),
  fc.array(fc.array(trickyValue, { maxLength: 2 }), { maxLength: 2 }),
);

export const hotOperations = fc
  .array(fc.tuple(fc.constantFrom('x', 'startTime', 'start_time'), hotValue, operation), {
    minLength: 1,
    maxLength: 20,
  })
  .map((generated) =>
    generated.map(([key, value, { prefix, ...fields }], i) =>
      record({ name: `${prefix}${i}`, parent: '', ...fields, metadata: toJson({ [key]: value }) }),
    ),
  );

export const hotRestriction = fc
  .tuple(
    fc.constantFrom('metadata.x', 'metadata.start_time', 'metadata.startTime', 'NOT metadata.x'),
    fc.oneof(fc.tuple(comparator, fc.constantFrom(...PROBES)), fc.tuple(equality, fc.constantFrom('true', 'false'))),
  )
  .map(([field, [op, value]]) => `${field} ${op} ${value}`);
