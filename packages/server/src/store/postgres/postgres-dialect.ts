/**
 * The PostgreSQL dialect of AIP-160 filters. JSON is read as `json` (not `jsonb`), which keeps each
 * number as written: the rules in filter/values.ts compare an integer written in 64 bits exactly
 * and anything else as the nearest double. The helper functions it calls (`longrun_filter_json`,
 * `longrun_json_values`, `longrun_json_number`) are created by migration 2.
 *
 * - Text compares in the "C" collation: UTF-8 bytes, which is code point order.
 * - Numbers compare as exact `numeric`: stored values through `longrun_json_number`, and bound
 *   values as the exact decimal of the double or the integer the filter holds.
 * - PostgreSQL text cannot hold U+0000, so stored JSON encodes it (see migrations.ts), and bound
 *   text gets the same encoding of U+0001 (filters cannot hold U+0000).
 * - Every value expression is guarded by CASE, because the planner may evaluate the conditions
 *   of a WHERE clause in any order: a cast must not meet a value of the wrong type.
 *
 * Bound values carry explicit types (`$n::numeric`, `$n::text`), which `filterToSql`'s plain
 * placeholders cannot: use {@link compilePostgresFilter}.
 */
import type { Filter } from '../../filter/index.js';
import { compile, join, operator, Param, param, type Sql, type SqlDialect, type Typed } from '../../filter/sql.js';

/** The two-character code of U+0000 in stored text: U+0001 U+0001 (see migrations.ts). */
const NUL_CODE = 'chr(1) || chr(1)';

const TIMESTAMP_PATTERN = `'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?Z$'`;
const DURATION_PATTERN = `'^-?[0-9]{1,12}([.][0-9]{1,9})?s$'`;
const INT64_TEXT_PATTERN = `'^(0|-?[1-9][0-9]{0,18})$'`;

const text = (candidate: string) => `(${candidate} #>> '{}')`;
const isString = (candidate: string) => `json_typeof(${candidate}) = 'string'`;

/** A string holding a canonical int64 (`int64StringValue`): the cast runs only on digits. */
function int64String(candidate: string): string {
  const t = text(candidate);
  return `(CASE WHEN ${isString(candidate)} AND ${t} ~ ${INT64_TEXT_PATTERN}
    THEN ${t}::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 ELSE false END)`;
}

/** LIKE's special characters, escaped with its default escape character. */
const likeEscape = (part: string) => part.replace(/[\\%_]/g, (char) => `\\${char}`);

export const postgresDialect: SqlDialect = {
  placeholder: (index) => `$${index}`,

  isTrue: (column) => column,

  compareText: (left, op, right) => ['(', left, ` COLLATE "C" ${operator(op)} `, right, ')'],

  matchesWildcard: (value, parts) => [
    `(strpos(`,
    value,
    `, ${NUL_CODE}) = 0 AND `,
    value,
    ' LIKE ',
    param(parts.map(likeEscape).join('%')),
    ')',
  ],

  jsonValues(column, path) {
    const from: Sql[] = [];
    const where: Sql[] = [];
    let json = `longrun_filter_json(${column})`;
    path.forEach((keys, i) => {
      // m: members of an object (json_each refuses anything else, so others become NULL: no rows).
      // v: a matching member's values, arrays looked through.
      from.push(
        `json_each(CASE WHEN json_typeof(${json}) = 'object' THEN ${json} END) AS m${i}`,
        `longrun_json_values(m${i}.value) AS v${i}(value)`,
      );
      where.push([`m${i}.key IN (`, join(keys.map(param), ', '), ')']);
      json = `v${i}.value`;
    });
    return { from: join(from, ', '), where, candidate: `v${path.length - 1}.value` };
  },

  jsonNotNull: (candidate) => `json_typeof(${candidate}) <> 'null'`,

  jsonIsBool: (candidate, value) => `(json_typeof(${candidate}) = 'boolean' AND ${candidate}::text = '${value}')`,

  jsonText: (candidate) => ({
    guard: isString(candidate),
    value: `(CASE WHEN ${isString(candidate)} THEN ${text(candidate)} END)`,
  }),

  jsonNumber(candidate) {
    const number = `json_typeof(${candidate}) = 'number'`;
    return {
      guard: `(${number} OR ${int64String(candidate)})`,
      value: `(CASE WHEN ${number} THEN longrun_json_number(${candidate}::text)
        WHEN ${int64String(candidate)} THEN ${text(candidate)}::numeric END)`,
    };
  },

  jsonTimestampKey(candidate) {
    const t = text(candidate);
    const guard = `(${isString(candidate)} AND ${t} ~ ${TIMESTAMP_PATTERN})`;
    return {
      guard,
      value: `(CASE WHEN ${guard} THEN left(${t}, 19) || rpad(substr(${t}, 21, greatest(length(${t}) - 21, 0)), 9, '0') END)`,
    };
  },

  jsonDuration(candidate): Typed<readonly [Sql, Sql]> {
    const t = text(candidate);
    const guard = `(${isString(candidate)} AND ${t} ~ ${DURATION_PATTERN})`;
    const digits = `rtrim(ltrim(${t}, '-'), 's')`;
    const sign = `(CASE WHEN left(${t}, 1) = '-' THEN -1 ELSE 1 END)`;
    return {
      guard,
      value: [
        `(CASE WHEN ${guard} THEN ${sign} * split_part(${digits}, '.', 1)::numeric END)`,
        `(CASE WHEN ${guard} THEN ${sign} * rpad(split_part(${digits}, '.', 2), 9, '0')::numeric END)`,
      ],
    };
  },
};

/** The exact decimal value of a finite double (JavaScript's own printing is the shortest that round-trips). */
export function exactDecimal(value: number): string {
  if (Number.isInteger(value)) return BigInt(value).toString();
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
  // Not an integer, so the binary exponent is negative: m / 2^k = m * 5^k / 10^k.
  const k = exponent === 0 ? 1074 : 1075 - exponent;
  const digits = (mantissa * 5n ** BigInt(k)).toString().padStart(k + 1, '0');
  return `${bits >> 63n ? '-' : ''}${digits.slice(0, -k)}.${digits.slice(-k)}`;
}

/** Bound text encodes U+0001 as stored text does (see migrations.ts). */
const encodeText = (value: string) => value.replaceAll('\u0001', '\u0001\u0002');

/**
 * The filter as a condition for the operations table, its values appended to `values` and
 * referenced as `$n` (numbering continues after what `values` holds), each with its type.
 */
export function compilePostgresFilter(filter: Filter, values: unknown[]): string {
  const write = (piece: Sql): string => {
    if (typeof piece === 'string') return piece;
    if (piece instanceof Param) {
      const { value } = piece;
      if (typeof value === 'string') {
        values.push(encodeText(value));
        return `$${values.length}::text`;
      }
      values.push(typeof value === 'number' ? exactDecimal(value) : value.toString());
      return `$${values.length}::numeric`;
    }
    return piece.map(write).join('');
  };
  return write(compile(filter.root, postgresDialect));
}
