/**
 * Decides a checked filter for one record in memory. It is the reference the SQL dialects are
 * tested against: every comparison it makes is one of the rules in values.ts.
 */
import { parse as parseLossless } from 'lossless-json';
import type { OperationRecord } from '../store/store.js';
import type { Column, JsonColumn, Node, Restriction, Test } from './ast.js';
import {
  compareDurations,
  compareNumbers,
  compareText,
  decimalValue,
  holds,
  int64StringValue,
  type JsonValue,
  matchesWildcard,
  parseDuration,
  timestampKey,
} from './values.js';

export function evaluate(node: Node, record: OperationRecord): boolean {
  return new RecordView(record).holds(node);
}

/** Whether one value passes a test. Values of another type never do. */
export function passes(test: Test, value: JsonValue): boolean {
  switch (test.kind) {
    case 'present':
      return value !== null;
    case 'bool':
      return value === test.value;
    case 'number': {
      const number = numberOf(value);
      return number !== undefined && holds(test.op, compareNumbers(number, test.value));
    }
    case 'string':
      if (typeof value !== 'string') return false;
      if (test.op === '=' || test.op === '!=') return matchesWildcard(value, test.parts) === (test.op === '=');
      return holds(test.op, compareText(value, test.parts[0] ?? ''));
    case 'timestamp': {
      const key = typeof value === 'string' ? timestampKey(value) : undefined;
      return key !== undefined && holds(test.op, compareText(key, test.key));
    }
    case 'duration': {
      const duration = typeof value === 'string' ? parseDuration(value) : undefined;
      return duration !== undefined && holds(test.op, compareDurations(duration, test.value));
    }
  }
}

/** A JSON number, or a string holding a canonical int64 (proto3 JSON's encoding of one). */
function numberOf(value: JsonValue): number | bigint | undefined {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  return typeof value === 'string' ? int64StringValue(value) : undefined;
}

/**
 * The values at a path: at each segment, the members of objects whose key is one of the segment's
 * spellings; an array found there contributes its elements (its nested arrays' too) instead.
 */
export function valuesAt(document: JsonValue, path: readonly (readonly string[])[]): JsonValue[] {
  let values = [document];
  for (const keys of path) {
    const next: JsonValue[] = [];
    for (const value of values) {
      if (!isObject(value)) continue;
      for (const [key, member] of Object.entries(value)) if (keys.includes(key)) next.push(...flatten(member));
    }
    values = next;
  }
  return values;
}

function flatten(value: JsonValue): JsonValue[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [value as JsonValue];
}

function isObject(value: JsonValue): value is { readonly [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const COLUMNS: Record<Column, (record: OperationRecord) => string | number | null> = {
  name: (record) => record.name,
  create_time: (record) => record.createTime,
  update_time: (record) => record.updateTime,
  done_time: (record) => record.doneTime,
  error: (record) => record.error,
  metadata: (record) => record.metadata,
  response: (record) => record.response,
};

/** A record with its JSON columns parsed on first use. */
class RecordView {
  private readonly documents = new Map<JsonColumn, JsonValue | undefined>();

  constructor(private readonly record: OperationRecord) {}

  holds(node: Node): boolean {
    switch (node.kind) {
      case 'and':
        return node.operands.every((operand) => this.holds(operand));
      case 'or':
        return node.operands.some((operand) => this.holds(operand));
      case 'not':
        return !this.holds(node.operand);
      default:
        return this.restriction(node);
    }
  }

  private restriction(restriction: Restriction): boolean {
    switch (restriction.kind) {
      case 'flag': {
        const value = restriction.flag === 'done' ? this.record.done : this.record.cancelRequestTime !== null;
        return value === restriction.value;
      }
      case 'column':
        return passes(restriction.test, COLUMNS[restriction.column](this.record));
      case 'json': {
        const { column, path, protoDefault, test } = restriction;
        const document = this.document(column);
        if (document === undefined) return false;
        const values = valuesAt(document, path);
        if (protoDefault !== undefined && values.every((value) => value === null)) return passes(test, protoDefault);
        return values.some((value) => passes(test, value));
      }
    }
  }

  private document(column: JsonColumn): JsonValue | undefined {
    if (!this.documents.has(column)) {
      const text = this.record[column];
      this.documents.set(column, text === null ? undefined : parseJson(text));
    }
    return this.documents.get(column);
  }
}

/**
 * JSON with numbers as the database reads them (see `decimalValue`). JSON.parse is exact whenever
 * no number has sixteen digits in a row, and much faster; otherwise numbers are parsed one by one.
 */
function parseJson(text: string): JsonValue {
  if (!/\d{16}/.test(text)) return JSON.parse(text) as JsonValue;
  return parseLossless(text, null, decimalValue) as JsonValue;
}
