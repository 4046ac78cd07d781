/**
 * Partial responses: the `fields` system parameter (or `X-Goog-FieldMask`). Selectors are
 * comma-separated paths, `a/b` or `a.b` for nested fields, `a(b,c)` for sub-selections, `*` for
 * everything at a level. A selector naming a field the message lacks is INVALID_ARGUMENT; inside
 * an Any (metadata, response, error details) any name is allowed, since the type is open.
 */
import { ApiError } from '../contract/errors.js';
import { isJsonObject } from '../contract/json.js';

/** A message's fields, each with the schema of its value; `'open'` accepts any field. */
export type Schema = { [field: string]: Schema | 'leaf' } | 'open';

const STATUS: Schema = { code: 'leaf', message: 'leaf', details: 'open' };
export const OPERATION_SCHEMA: Schema = {
  name: 'leaf',
  metadata: 'open',
  done: 'leaf',
  error: STATUS,
  response: 'open',
};
export const LIST_SCHEMA: Schema = { operations: OPERATION_SCHEMA, nextPageToken: 'leaf', unreachable: 'leaf' };
export const EMPTY_SCHEMA: Schema = {};

/** A parsed selection: for each selected field, its sub-selection, or `true` for all of it. */
type Selection = Map<string, Selection | true>;

function selectorError(fields: string, why: string): ApiError {
  return new ApiError('INVALID_FIELD_SELECTOR', `Invalid field selector "${fields}": ${why}`, {
    metadata: { fields },
    fieldViolations: [{ field: 'fields', description: why }],
  });
}

const NAME = /^(\*|@?[A-Za-z_][A-Za-z0-9_]*)/;

/** Two selections of one field: all of it wins over a part; parts add up. */
function merge(a: Selection | true | undefined, b: Selection | true): Selection | true {
  if (a === undefined) return b;
  if (a === true || b === true) return true;
  return new Map([...a, ...b]);
}

function parseSelection(text: string): Selection {
  let at = 0;
  const fail = (why: string): never => {
    throw selectorError(text, `${why} at position ${at + 1}`);
  };
  const parseList = (depth: number): Selection => {
    if (depth > 16) fail('nesting is too deep');
    const selection: Selection = new Map();
    for (;;) {
      // One path: names joined by `/` or `.`, then an optional sub-selection.
      const path: string[] = [];
      for (;;) {
        while (text[at] === ' ') at++;
        const match = NAME.exec(text.slice(at));
        if (!match) fail('expected a field name');
        path.push(match![0]);
        at += match![0].length;
        if (text[at] !== '/' && text[at] !== '.') break;
        at++;
      }
      let leaf: Selection | true = true;
      if (text[at] === '(') {
        at++;
        leaf = parseList(depth + 1);
        if (text[at] !== ')') fail('expected ")"');
        at++;
      }
      let level = selection;
      for (const [i, name] of path.entries()) {
        if (i === path.length - 1) {
          level.set(name, merge(level.get(name), leaf));
        } else {
          let next = level.get(name);
          if (next === true) break;
          if (!next) {
            next = new Map();
            level.set(name, next);
          }
          level = next;
        }
      }
      while (text[at] === ' ') at++;
      if (text[at] !== ',') return selection;
      at++;
    }
  };
  const selection = parseList(0);
  if (at !== text.length) fail('unexpected character');
  return selection;
}

function check(selection: Selection, schema: Schema, fields: string, path: string): void {
  if (schema === 'open') return;
  for (const [name, sub] of selection) {
    if (name === '*') continue;
    const fieldSchema = schema[name];
    if (fieldSchema === undefined) throw selectorError(fields, `"${path}${name}" is not a field of the response`);
    if (sub !== true) {
      if (fieldSchema === 'leaf') throw selectorError(fields, `"${path}${name}" has no fields to select`);
      check(sub, fieldSchema, fields, `${path}${name}/`);
    }
  }
}

function apply(value: unknown, selection: Selection): unknown {
  if (Array.isArray(value)) return value.map((item) => apply(item, selection));
  if (!isJsonObject(value)) return value;
  const all = selection.get('*');
  const out: Record<string, unknown> = {};
  for (const [key, fieldValue] of Object.entries(value)) {
    const sub = selection.get(key) ?? all;
    if (sub === undefined) continue;
    out[key] = sub === true ? fieldValue : apply(fieldValue, sub);
  }
  return out;
}

/** A validated selector, ready to apply to responses of the given schema. */
export function parseFieldSelector(fields: string, schema: Schema): (value: unknown) => unknown {
  const selection = parseSelection(fields);
  check(selection, schema, fields, '');
  return (value) => apply(value, selection);
}
