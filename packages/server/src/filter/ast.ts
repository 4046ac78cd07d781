/**
 * The checked filter: what the checker produces and the evaluator and the SQL compiler consume.
 * A restriction says where its values come from and what it asks of one value; it holds when at
 * least one of its values passes.
 */
import type { Comparator, Duration, JsonValue } from './values.js';

/** A boolean tree over restrictions of type `R`: syntax ones from the parser, checked ones after. */
export type Tree<R> =
  | { readonly kind: 'and'; readonly operands: readonly Tree<R>[] }
  | { readonly kind: 'or'; readonly operands: readonly Tree<R>[] }
  | { readonly kind: 'not'; readonly operand: Tree<R> }
  | R;

export type Node = Tree<Restriction>;

export type Restriction = ColumnRestriction | FlagRestriction | JsonRestriction;

/** Columns of the operations table read as they are. */
export type Column = 'name' | 'create_time' | 'update_time' | 'done_time' | JsonColumn;

/** Columns holding JSON text. */
export type JsonColumn = 'error' | 'metadata' | 'response';

/** A column's value: `name` (text), a time (integer milliseconds), or a JSON column's presence. */
export interface ColumnRestriction {
  readonly kind: 'column';
  readonly column: Column;
  readonly test: PresentTest | NumberTest | StringTest;
}

/** A fact stored as a column: `done`, or `cancel_requested` (a cancel request time is set). */
export interface FlagRestriction {
  readonly kind: 'flag';
  readonly flag: 'done' | 'cancel_requested';
  readonly value: boolean;
}

/**
 * The values at a path in a JSON column. Each segment lists the keys it matches; arrays on the way
 * are looked through (their elements, and nested arrays' elements, are the values). With a
 * `protoDefault` the path is a proto3 primitive field: when the JSON is present but the path holds
 * no non-null value, the test applies to the default instead.
 */
export interface JsonRestriction {
  readonly kind: 'json';
  readonly column: JsonColumn;
  readonly path: readonly (readonly string[])[];
  readonly protoDefault?: JsonValue;
  readonly test: Test;
}

export type Test = PresentTest | BoolTest | NumberTest | StringTest | TimestampTest | DurationTest;

/** The value is set: not null (for a column: not NULL). */
export interface PresentTest {
  readonly kind: 'present';
}

export interface BoolTest {
  readonly kind: 'bool';
  readonly value: boolean;
}

export interface NumberTest {
  readonly kind: 'number';
  readonly op: Comparator;
  readonly value: number | bigint;
}

/**
 * `=` and `!=` match the pieces of a wildcard pattern (one piece: plain equality); the ordering
 * comparators compare with the single piece in code point order.
 */
export interface StringTest {
  readonly kind: 'string';
  readonly op: Comparator;
  readonly parts: readonly string[];
}

/** Against a stored timestamp string's sort key (`instantKey` in values.ts). */
export interface TimestampTest {
  readonly kind: 'timestamp';
  readonly op: Comparator;
  readonly key: string;
}

export interface DurationTest {
  readonly kind: 'duration';
  readonly op: Comparator;
  readonly value: Duration;
}
