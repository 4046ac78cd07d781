/**
 * `google.rpc.Code`: the canonical status codes, and their HTTP mapping as written in
 * `google/rpc/code.proto`. Client and server both read this one table.
 */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type Code = (typeof Code)[keyof typeof Code];
export type CodeName = keyof typeof Code;

const names = Object.keys(Code) as CodeName[];

/** The enum name of a code (`5` → `"NOT_FOUND"`); `undefined` for a number outside the enum. */
export function codeName(code: number): CodeName | undefined {
  return names[code];
}

/** The code of an enum name (`"NOT_FOUND"` → `5`). */
export function codeFromName(name: string): Code | undefined {
  return Object.hasOwn(Code, name) ? Code[name as CodeName] : undefined;
}

/** HTTP status for each code, from the comments in `google/rpc/code.proto`. */
export const httpStatusOf: Readonly<Record<Code, number>> = {
  0: 200,
  1: 499,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};

/**
 * The reverse mapping clients use when a body carries no `status` name, as google-gax and
 * gapic-showcase do it (several codes share an HTTP status, so this is not the inverse of the
 * table above).
 */
export function codeFromHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.INVALID_ARGUMENT;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.NOT_FOUND;
    case 409:
      return Code.ABORTED;
    case 416:
      return Code.OUT_OF_RANGE;
    case 429:
      return Code.RESOURCE_EXHAUSTED;
    case 499:
      return Code.CANCELLED;
    case 501:
      return Code.UNIMPLEMENTED;
    case 503:
      return Code.UNAVAILABLE;
    case 504:
      return Code.DEADLINE_EXCEEDED;
  }
  if (status >= 200 && status < 300) return Code.OK;
  if (status >= 400 && status < 500) return Code.FAILED_PRECONDITION;
  if (status >= 500 && status < 600) return Code.INTERNAL;
  return Code.UNKNOWN;
}
