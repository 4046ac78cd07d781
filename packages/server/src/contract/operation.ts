/**
 * The Operation message as providers send it: validation and normalisation to canonical
 * proto3 JSON, and rendering back out. Only fields the proto defines are accepted or emitted
 * (Google's Python client rejects any other), defaults are omitted, every Any carries `@type`.
 */
import { invalidField } from './errors.js';
import { isJsonObject, stringifyJson } from './json.js';

/** The updatable fields of an Operation, in proto field order. */
export const RESULT_FIELDS = ['metadata', 'done', 'error', 'response'] as const;
export type OperationField = (typeof RESULT_FIELDS)[number];

/**
 * An operation from a request, validated. A field is `undefined` when the request did not
 * populate it; `metadata`, `error` and `response` hold canonical JSON text.
 */
export interface OperationInput {
  name?: string;
  metadata?: string;
  done?: boolean;
  error?: string;
  response?: string;
}

const OPERATION_FIELDS: Record<string, keyof OperationInput> = {
  name: 'name',
  metadata: 'metadata',
  done: 'done',
  error: 'error',
  response: 'response',
};

const STATUS_FIELDS = new Set(['code', 'message', 'details']);

/** Well-known types whose JSON is `{"@type": …, "value": …}` (proto3 JSON mapping). */
export const VALUE_WRAPPED_TYPES = new Set(
  [
    'Any',
    'Duration',
    'Timestamp',
    'FieldMask',
    'Struct',
    'Value',
    'ListValue',
    'DoubleValue',
    'FloatValue',
    'Int64Value',
    'UInt64Value',
    'Int32Value',
    'UInt32Value',
    'BoolValue',
    'StringValue',
    'BytesValue',
  ].map((name) => `google.protobuf.${name}`),
);

const TYPE_URL = /^[^\s/]+(\/[^\s/]+)*\/([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)$/;

/** Validates a `google.protobuf.Any` in JSON form and returns it as canonical text. */
export function readAny(value: unknown, field: string): string {
  if (!isJsonObject(value)) throw invalidField(field, 'must be a JSON object (a google.protobuf.Any)');
  const typeUrl = value['@type'];
  if (typeof typeUrl !== 'string' || typeUrl === '') {
    throw invalidField(
      `${field}.@type`,
      'is required: every Any names its type, such as "type.googleapis.com/pkg.Msg"',
    );
  }
  const match = TYPE_URL.exec(typeUrl);
  if (!match) throw invalidField(`${field}.@type`, `"${typeUrl}" is not a type URL ("{host}/{package}.{Message}")`);
  const typeName = match[2]!;
  const keys = Object.keys(value);
  if (VALUE_WRAPPED_TYPES.has(typeName) && (keys.length !== 2 || !('value' in value))) {
    throw invalidField(field, `${typeName} has special JSON: it must be {"@type": …, "value": …}`);
  }
  if (typeName === 'google.protobuf.Empty' && keys.length !== 1) {
    throw invalidField(field, 'google.protobuf.Empty has no fields');
  }
  return stringifyJson(value);
}

/** Validates a `google.rpc.Status` used as an operation's error and returns canonical text. */
export function readStatus(value: unknown, field: string): string {
  if (!isJsonObject(value)) throw invalidField(field, 'must be a JSON object (a google.rpc.Status)');
  for (const key of Object.keys(value)) {
    if (!STATUS_FIELDS.has(key))
      throw invalidField(`${field}.${key}`, 'is not a field of google.rpc.Status', 'UNKNOWN_FIELD');
  }
  const code = readInt32(value.code, `${field}.code`);
  // An error with OK (0) would read as success, and codes outside google.rpc.Code confuse clients.
  if (code === undefined || code < 1 || code > 16) {
    throw invalidField(`${field}.code`, 'must be a google.rpc.Code from 1 (CANCELLED) to 16 (UNAUTHENTICATED)');
  }
  const status: { code: number; message?: string; details?: unknown[] } = { code };
  if (value.message !== undefined && value.message !== null) {
    if (typeof value.message !== 'string') throw invalidField(`${field}.message`, 'must be a string');
    if (value.message !== '') status.message = value.message;
  }
  if (value.details !== undefined && value.details !== null) {
    if (!Array.isArray(value.details)) throw invalidField(`${field}.details`, 'must be an array of Any');
    for (const [i, detail] of value.details.entries()) readAny(detail, `${field}.details[${i}]`);
    if (value.details.length > 0) status.details = value.details;
  }
  return stringifyJson(status);
}

/** proto3 JSON accepts an int32 as a number or a decimal string. */
function readInt32(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
    throw invalidField(field, 'must be a 32-bit integer');
  }
  return n;
}

/**
 * Validates an Operation from a request body. `null` for a field means "not set", as in proto3
 * JSON. Consistency of done/error/response is checked on the resulting state, not here.
 */
export function readOperation(value: unknown, field = 'operation'): OperationInput {
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value)) throw invalidField(field, 'must be a JSON object (a google.longrunning.Operation)');
  const input: OperationInput = {};
  for (const [key, fieldValue] of Object.entries(value)) {
    const name = OPERATION_FIELDS[key];
    if (!name) throw invalidField(`${field}.${key}`, 'is not a field of google.longrunning.Operation', 'UNKNOWN_FIELD');
    if (fieldValue === null) continue;
    const path = `${field}.${key}`;
    switch (name) {
      case 'name':
        if (typeof fieldValue !== 'string') throw invalidField(path, 'must be a string');
        if (fieldValue !== '') input.name = fieldValue;
        break;
      case 'done':
        if (typeof fieldValue !== 'boolean') throw invalidField(path, 'must be true or false');
        input.done = fieldValue;
        break;
      case 'error':
        input.error = readStatus(fieldValue, path);
        break;
      default:
        input[name] = readAny(fieldValue, path);
    }
  }
  return input;
}

/** The result rules of the Operation message, checked on a whole state. */
export function checkResult(state: { done: boolean; error: string | null; response: string | null }): void {
  if (state.error !== null && state.response !== null) {
    throw invalidField('operation', 'error and response are a oneof: an operation has at most one of them');
  }
  if (!state.done && (state.error !== null || state.response !== null)) {
    throw invalidField('operation.done', 'an operation has an error or a response only once it is done');
  }
}

/** The fields of a stored operation that make up its Operation message. */
export interface OperationState {
  name: string;
  done: boolean;
  metadata: string | null;
  error: string | null;
  response: string | null;
}

/** The Operation as proto3 JSON, in field order, from the stored canonical texts. */
export function renderOperation(op: OperationState): string {
  let json = `{"name":${JSON.stringify(op.name)}`;
  if (op.metadata !== null) json += `,"metadata":${op.metadata}`;
  if (op.done) json += ',"done":true';
  if (op.error !== null) json += `,"error":${op.error}`;
  if (op.response !== null) json += `,"response":${op.response}`;
  return `${json}}`;
}
