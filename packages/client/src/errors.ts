/**
 * `ApiError`: a failed call or a failed operation, as a `google.rpc.Status` with its HTTP side.
 * Reads the AIP-193 error body in both `$.xgafv` formats, and bodies that are not JSON at all
 * (a proxy's HTML page), without failing.
 */
import { Code, type CodeName, codeFromHttpStatus, codeFromName, codeName } from './code.js';
import type { Any, ErrorInfo, Status } from './types.js';

const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';

/** An entry of the legacy `errors` array that `$.xgafv=1` adds to the error body. */
export interface LegacyError {
  message?: string;
  domain?: string;
  reason?: string;
  [field: string]: unknown;
}

export interface ApiErrorInit {
  code: number;
  message: string;
  /** The HTTP status of the response; absent when no response arrived or the error is an operation's. */
  httpStatus?: number;
  details?: Any[];
  errors?: LegacyError[];
  /** From a `Retry-After` header: how long the server asked the client to wait. */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * An error with a `google.rpc.Code`. The client throws it for every failed call (a network
 * failure is `UNAVAILABLE` with no `httpStatus`) and for an operation that ended with an error.
 *
 * @example
 * ```ts
 * try {
 *   await client.get('operations/missing');
 * } catch (error) {
 *   if (error instanceof ApiError && error.code === Code.NOT_FOUND) console.log(error.reason);
 * }
 * ```
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** The canonical code; a number outside `google.rpc.Code` reads as `UNKNOWN`. */
  readonly code: Code;
  /** The code's name, such as `"NOT_FOUND"`. */
  readonly status: CodeName;
  readonly httpStatus: number | undefined;
  /** The `google.rpc.Status` details, each an `Any` (`ErrorInfo`, `BadRequest`, …). */
  readonly details: Any[];
  /** The legacy `errors` array of a `$.xgafv=1` body. */
  readonly errors: LegacyError[] | undefined;
  readonly retryAfterMs: number | undefined;
  /** The `google.rpc.ErrorInfo` among the details, if any. */
  readonly errorInfo: ErrorInfo | undefined;

  constructor(init: ApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    const name = codeName(init.code);
    this.code = name === undefined ? Code.UNKNOWN : Code[name];
    this.status = name ?? 'UNKNOWN';
    this.httpStatus = init.httpStatus;
    this.details = init.details ?? [];
    this.errors = init.errors;
    this.retryAfterMs = init.retryAfterMs;
    this.errorInfo = this.details.find((detail): detail is ErrorInfo => detail['@type'] === ERROR_INFO_TYPE);
  }

  /** `ErrorInfo.reason`, such as `"OPERATION_NOT_FOUND"`. */
  get reason(): string | undefined {
    return this.errorInfo?.reason;
  }

  /** `ErrorInfo.domain`, such as `"longrun"`. */
  get domain(): string | undefined {
    return this.errorInfo?.domain;
  }

  /** `ErrorInfo.metadata`. */
  get metadata(): Record<string, string> | undefined {
    return this.errorInfo?.metadata;
  }

  /** The error of a done operation, as an `ApiError`. */
  static fromStatus(status: Status): ApiError {
    return new ApiError({
      code: status.code ?? Code.UNKNOWN,
      message: status.message ?? '',
      ...(status.details && { details: status.details }),
    });
  }

  /** The error as a `google.rpc.Status`, to store as an operation's error. */
  toStatus(): Status {
    const status: Status = { code: this.code, message: this.message };
    if (this.details.length > 0) status.details = this.details;
    return status;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `error` member of an error body; gax also accepts the body wrapped in an array. */
function errorMember(text: string): Record<string, unknown> | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(body)) body = body[0];
  return isObject(body) && isObject(body.error) ? body.error : undefined;
}

/**
 * The error an HTTP error response stands for. The code comes from the body's `status` name when
 * there is one (as gax reads it), otherwise from the HTTP status.
 */
export function errorFromResponse(
  httpStatus: number,
  statusText: string,
  text: string,
  retryAfterMs: number | undefined,
): ApiError {
  const error = errorMember(text);
  const named = typeof error?.status === 'string' ? codeFromName(error.status) : undefined;
  const fallbackMessage = `HTTP ${httpStatus}${statusText ? ` ${statusText}` : ''}`;
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return new ApiError({
    code: named ?? codeFromHttpStatus(httpStatus),
    message:
      typeof error?.message === 'string'
        ? error.message
        : snippet === ''
          ? fallbackMessage
          : `${fallbackMessage}: ${snippet}`,
    httpStatus,
    details: Array.isArray(error?.details) ? error.details.filter(isAny) : [],
    ...(Array.isArray(error?.errors) && { errors: error.errors.filter(isObject) }),
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });
}

function isAny(value: unknown): value is Any {
  return isObject(value) && typeof value['@type'] === 'string';
}

/** Milliseconds a `Retry-After` header asks for: delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Whether a call that failed with `error` may succeed if sent again: no response arrived
 * (`UNAVAILABLE` without an HTTP status), the server is `UNAVAILABLE`, or it is rate limiting
 * (`RESOURCE_EXHAUSTED`). The client retries only these, and only for idempotent calls.
 */
export function isRetryable(error: unknown): error is ApiError {
  return error instanceof ApiError && (error.code === Code.UNAVAILABLE || error.code === Code.RESOURCE_EXHAUSTED);
}
