/**
 * Compiles a checked filter to a parameterised SQL condition over the operations table. The logic
 * (and/or/not, the existential reading of JSON paths, proto3 defaults, comparisons) lives here;
 * a `SqlDialect` supplies the few engine-specific expressions, so that a new engine is one small
 * file. No text from the filter ever reaches the SQL: values, JSON keys and patterns are bound.
 */
import type {
  JsonColumn,
  JsonRestriction,
  Node,
  NumberTest,
  Restriction,
  StringTest,
  Test,
  TimestampTest,
} from './ast.js';
import { passes } from './evaluate.js';
import type { Comparator, Duration } from './values.js';

/** A bound value. */
export class Param {
  constructor(readonly value: string | number | bigint) {}
}

/**
 * SQL under construction: text and bound values in order. Placeholders are numbered only when the
 * whole condition is rendered, so pieces can be built in any order and reused.
 */
export type Sql = string | Param | readonly Sql[];

export function param(value: string | number | bigint): Param {
  return new Param(value);
}

export function join(pieces: readonly Sql[], separator: string): Sql[] {
  return pieces.flatMap((piece, i) => (i === 0 ? [piece] : [separator, piece]));
}

/** A value of the wanted type, read from a JSON candidate: valid where `guard` holds. */
export interface Typed<T = Sql> {
  readonly guard: Sql;
  readonly value: T;
}

/**
 * What differs between SQL engines. The compiler reads these columns of the operations table:
 * `name`, `done`, `metadata`, `error`, `response` (JSON text), `create_time`, `update_time`,
 * `done_time` (integer milliseconds) and `cancel_request_time`. The values a dialect reads must
 * follow the rules in values.ts exactly, or the evaluator and the database disagree.
 */
export interface SqlDialect {
  /** The placeholder of the `index`-th bound value, counting from 1: `?`, `$1`. */
  placeholder(index: number): string;
  /** A boolean column (`done`) as a condition. */
  isTrue(column: string): Sql;
  /** Text compared in code point order (the `=`/`<>` answers are the same in any order). */
  compareText(left: Sql, op: Comparator, right: Sql): Sql;
  /** Whether text matches a pattern given as the pieces between its wildcards (two or more). */
  matchesWildcard(text: Sql, parts: readonly string[]): Sql;
  /**
   * FROM items and conditions whose rows are the values at `path` in a JSON column (the rule of
   * `valuesAt` in evaluate.ts); `candidate` names the row for the functions below.
   */
  jsonValues(column: JsonColumn, path: readonly (readonly string[])[]): { from: Sql; where: Sql[]; candidate: string };
  /** The candidate is not JSON null. */
  jsonNotNull(candidate: string): Sql;
  /** The candidate is the JSON bool `value`. */
  jsonIsBool(candidate: string, value: boolean): Sql;
  /** A JSON string's text. */
  jsonText(candidate: string): Typed;
  /** A JSON number, or a string holding a canonical int64 (`int64StringValue`). */
  jsonNumber(candidate: string): Typed;
  /** A stored timestamp string's sort key (`timestampKey`). */
  jsonTimestampKey(candidate: string): Typed;
  /** A duration string's signed seconds and nanoseconds (`parseDuration`). */
  jsonDuration(candidate: string): Typed<readonly [Sql, Sql]>;
}

/** A condition that is true or false, never NULL, for every row (so NOT negates it exactly). */
export function compile(node: Node, dialect: SqlDialect): Sql {
  switch (node.kind) {
    case 'and':
    case 'or':
      return balanced(
        node.operands.map((operand) => compile(operand, dialect)),
        node.kind === 'and' ? ' AND ' : ' OR ',
      );
    case 'not':
      return ['NOT (', compile(node.operand, dialect), ')'];
    default:
      return restriction(node, dialect);
  }
}

/**
 * Operands nested as a balanced tree: SQLite parses `a OR b OR …` into a tree as deep as the list
 * is long and refuses expressions deeper than 1000.
 */
function balanced(operands: readonly Sql[], operator: string): Sql {
  if (operands.length === 1) return operands[0]!;
  const middle = operands.length >> 1;
  const [left, right] = [operands.slice(0, middle), operands.slice(middle)];
  return ['(', balanced(left, operator), ')', operator, '(', balanced(right, operator), ')'];
}

function restriction(restriction: Restriction, dialect: SqlDialect): Sql {
  switch (restriction.kind) {
    case 'flag': {
      const flag = restriction.flag === 'done' ? dialect.isTrue('done') : 'cancel_request_time IS NOT NULL';
      return [restriction.value ? '(' : 'NOT (', flag, ')'];
    }
    case 'column': {
      const { column, test } = restriction;
      if (test.kind === 'present') return `${column} IS NOT NULL`;
      const condition = valueTest(test, column, dialect);
      // A NULL column (done_time) matches nothing; the guard keeps the answer false rather than NULL.
      return column === 'name' ? condition : [`(${column} IS NOT NULL AND `, condition, ')'];
    }
    case 'json':
      return jsonRestriction(restriction, dialect);
  }
}

function jsonRestriction({ column, path, protoDefault, test }: JsonRestriction, dialect: SqlDialect): Sql {
  const { from, where, candidate } = dialect.jsonValues(column, path);
  const exists = (condition: Sql): Sql => [
    'EXISTS (SELECT 1 FROM ',
    from,
    ' WHERE ',
    join([...where, condition], ' AND '),
    ')',
  ];
  const matched = exists(jsonTest(test, candidate, dialect));
  if (protoDefault === undefined || !passes(test, protoDefault)) return matched;
  // The default passes, so the field being unset (no non-null value at the path) matches too.
  return ['(', column, ' IS NOT NULL AND (', matched, ' OR NOT ', exists(dialect.jsonNotNull(candidate)), '))'];
}

function jsonTest(test: Test, candidate: string, dialect: SqlDialect): Sql {
  switch (test.kind) {
    case 'present':
      return dialect.jsonNotNull(candidate);
    case 'bool':
      return dialect.jsonIsBool(candidate, test.value);
    case 'number':
      return typedTest(test, dialect.jsonNumber(candidate), dialect);
    case 'string':
      return typedTest(test, dialect.jsonText(candidate), dialect);
    case 'timestamp':
      return typedTest(test, dialect.jsonTimestampKey(candidate), dialect);
    case 'duration': {
      const { guard, value } = dialect.jsonDuration(candidate);
      return ['(', guard, ' AND ', durationComparison(value, test.op, test.value), ')'];
    }
  }
}

/** The guard stays outside the comparison, so `!=` never matches a value of another type. */
function typedTest(test: ValueTest, { guard, value }: Typed, dialect: SqlDialect): Sql {
  return ['(', guard, ' AND ', valueTest(test, value, dialect), ')'];
}

type ValueTest = NumberTest | StringTest | TimestampTest;

function valueTest(test: ValueTest, value: Sql, dialect: SqlDialect): Sql {
  switch (test.kind) {
    case 'number':
      return [value, ` ${operator(test.op)} `, param(test.value)];
    case 'timestamp':
      return dialect.compareText(value, test.op, param(test.key));
    case 'string': {
      const [first = '', ...more] = test.parts;
      if (test.op !== '=' && test.op !== '!=') return dialect.compareText(value, test.op, param(first));
      const equal = more.length > 0 ? dialect.matchesWildcard(value, test.parts) : [value, ' = ', param(first)];
      return test.op === '=' ? equal : ['NOT (', equal, ')'];
    }
  }
}

/** (seconds, nanos) compared lexicographically; both carry the sign, so this orders durations. */
function durationComparison([seconds, nanos]: readonly [Sql, Sql], op: Comparator, value: Duration): Sql {
  const s = param(value.seconds);
  const n = param(value.nanos);
  switch (op) {
    case '=':
      return ['(', seconds, ' = ', s, ' AND ', nanos, ' = ', n, ')'];
    case '!=':
      return ['(', seconds, ' <> ', s, ' OR ', nanos, ' <> ', n, ')'];
    default: {
      const strict = op.charAt(0);
      return ['(', seconds, ` ${strict} `, s, ' OR (', seconds, ' = ', s, ' AND ', nanos, ` ${op} `, n, '))'];
    }
  }
}

export function operator(op: Comparator): string {
  return op === '!=' ? '<>' : op;
}

/** The condition as text with numbered placeholders, and its values in placeholder order. */
export function render(sql: Sql, dialect: SqlDialect): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const write = (piece: Sql): string => {
    if (typeof piece === 'string') return piece;
    if (piece instanceof Param) {
      params.push(piece.value);
      return dialect.placeholder(params.length);
    }
    return piece.map(write).join('');
  };
  return { sql: write(sql), params };
}
