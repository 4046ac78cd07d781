/**
 * How a handler's outcome becomes the operation's result: a returned value becomes the
 * `response` (an `Any`), a thrown error becomes the `error` (a `google.rpc.Status`).
 */
import { type Any, Code, type Status } from '@longrun/client';

const EMPTY_TYPE = 'type.googleapis.com/google.protobuf.Empty';
const VALUE_TYPE = 'type.googleapis.com/google.protobuf.Value';

/** The error of an operation that stopped because a consumer asked it to. */
export const CANCELLED_STATUS: Status = { code: Code.CANCELLED, message: 'The operation was cancelled.' };

function isAny(value: unknown): value is Any {
  return typeof value === 'object' && value !== null && typeof (value as { '@type'?: unknown })['@type'] === 'string';
}

/**
 * A value as a `google.protobuf.Any`: an object with an `@type` is taken as it is; `undefined`
 * is `google.protobuf.Empty`; any other JSON value is wrapped as a `google.protobuf.Value`,
 * `{"@type": "type.googleapis.com/google.protobuf.Value", "value": <the JSON>}`.
 *
 * @throws TypeError for a value JSON cannot hold (a function, a symbol).
 */
export function toAny(value: unknown): Any {
  if (value === undefined) return { '@type': EMPTY_TYPE };
  if (isAny(value)) return value;
  const json = JSON.stringify(value);
  if (json === undefined)
    throw new TypeError(`A ${typeof value} is not a JSON value; it cannot be a result or metadata`);
  return { '@type': VALUE_TYPE, value: JSON.parse(json) };
}

/**
 * An error as a `google.rpc.Status`. An error with a canonical `code` (1 to 16), such as an
 * `ApiError`, keeps it with its message and its `Any` details; anything else is `UNKNOWN` with
 * its message.
 */
export function toStatus(error: unknown): Status {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const message = typeof fields.message === 'string' ? fields.message : String(error);
  const { code, details } = fields;
  // A DOMException's numeric `code` is a legacy DOM code (8 is NOT_FOUND_ERR), not a google.rpc.Code.
  if (error instanceof DOMException || typeof code !== 'number' || !Number.isInteger(code) || code < 1 || code > 16) {
    return { code: Code.UNKNOWN, message };
  }
  const status: Status = { code, message };
  const anys = Array.isArray(details) ? details.filter(isAny) : [];
  if (anys.length > 0) status.details = anys;
  return status;
}
