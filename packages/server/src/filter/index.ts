/**
 * AIP-160 filtering for operation lists: a filter string is parsed and checked once
 * (`parseFilter`), then either decided for a record in memory (`matchesFilter`) or compiled to a
 * parameterised SQL condition (`filterToSql`). Both give the same answer for every record; the
 * fields, types and rules are in docs/filtering.md.
 *
 * @example
 * const filter = parseFilter('done:true AND metadata.progress.percent >= 50');
 * if (filter) {
 *   const { sql, params } = filterToSql(filter, sqliteDialect);
 *   db.prepare(`SELECT * FROM operations WHERE ${sql}`).all(...params);
 * }
 */
import type { OperationRecord } from '../store/store.js';
import type { Node } from './ast.js';
import { check } from './checker.js';
import { evaluate } from './evaluate.js';
import { filterError } from './filter-error.js';
import { lex } from './lexer.js';
import { parse } from './parser.js';
import { compile, render, type SqlDialect } from './sql.js';

export { MAX_PATH_LENGTH } from './checker.js';
export type { SqlDialect } from './sql.js';
export { sqliteDialect } from './sqlite.js';

/** Longest filter accepted by default, in characters (code points). */
export const MAX_FILTER_LENGTH = 4096;
/** Deepest nesting of parentheses accepted by default. */
export const MAX_FILTER_DEPTH = 32;

export interface FilterLimits {
  /** @default MAX_FILTER_LENGTH */
  maxLength?: number;
  /** @default MAX_FILTER_DEPTH */
  maxDepth?: number;
}

/** A parsed and checked filter. */
export interface Filter {
  /** The filter as the client sent it. */
  readonly text: string;
  readonly root: Node;
}

/**
 * Parses and checks a filter. Returns undefined for an empty (or all-whitespace) filter, which
 * matches everything; throws `ApiError` INVALID_FILTER, naming the column at fault, for anything
 * else that is not a valid filter over an operation's fields.
 */
export function parseFilter(text: string, limits: FilterLimits = {}): Filter | undefined {
  const maxLength = limits.maxLength ?? MAX_FILTER_LENGTH;
  // Characters are code points; a string has at least as many UTF-16 units as code points.
  if (text.length > maxLength) {
    const characters = Array.from(text);
    if (characters.length > maxLength) {
      const offset = characters.slice(0, maxLength).join('').length;
      throw filterError(text, offset, `the filter is longer than ${maxLength} characters`);
    }
  }
  if (text.trim() === '') return undefined;
  const syntax = parse(text, lex(text), limits.maxDepth ?? MAX_FILTER_DEPTH);
  return { text, root: check(syntax, text) };
}

/** Whether the record matches the filter: the in-memory twin of `filterToSql`. */
export function matchesFilter(filter: Filter, record: OperationRecord): boolean {
  return evaluate(filter.root, record);
}

/**
 * The filter as a boolean SQL condition over the operations table (columns `name`, `done`,
 * `metadata`, `error`, `response`, `create_time`, `update_time`, `done_time`,
 * `cancel_request_time`), true or false (never NULL) for every row, with its bound values in
 * placeholder order. The columns are not qualified; the condition's own subqueries name their
 * tables `m0`, `v0`, `m1`, … .
 */
export function filterToSql(filter: Filter, dialect: SqlDialect): { sql: string; params: unknown[] } {
  return render(compile(filter.root, dialect), dialect);
}
