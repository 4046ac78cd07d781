/**
 * Every error longrun returns, in one table: the project's reason (ErrorInfo.reason), the
 * google.rpc.Code it carries, and the HTTP status where it differs from code.proto's mapping.
 * Transports render an `ApiError`; nothing else decides a code.
 */
import { type Any, type BadRequest, Code, type ErrorInfo, httpStatusOf, type Status } from '@longrun/client';

/** `ErrorInfo.domain` of every error longrun raises. */
export const ERROR_DOMAIN = 'longrun';

interface ReasonSpec {
  code: Code;
  /** Only where the HTTP status is not the code's own (code.proto). */
  httpStatus?: number;
}

export const REASONS = {
  // Resource state.
  OPERATION_NOT_FOUND: { code: Code.NOT_FOUND },
  OPERATION_ALREADY_EXISTS: { code: Code.ALREADY_EXISTS },
  OPERATION_DONE: { code: Code.FAILED_PRECONDITION },
  // An Any that cannot cross to gRPC's binary form: its type is not registered, or its JSON does
  // not fit the registered type. The data is kept; REST still reads it.
  TYPE_NOT_REGISTERED: { code: Code.FAILED_PRECONDITION },
  TYPE_MISMATCH: { code: Code.FAILED_PRECONDITION },
  // Request shape.
  INVALID_NAME: { code: Code.INVALID_ARGUMENT },
  INVALID_ARGUMENT: { code: Code.INVALID_ARGUMENT },
  UNKNOWN_FIELD: { code: Code.INVALID_ARGUMENT },
  MALFORMED_JSON: { code: Code.INVALID_ARGUMENT },
  UNSUPPORTED_MEDIA_TYPE: { code: Code.INVALID_ARGUMENT, httpStatus: 415 },
  REQUEST_TOO_LARGE: { code: Code.INVALID_ARGUMENT, httpStatus: 413 },
  INVALID_UPDATE_MASK: { code: Code.INVALID_ARGUMENT },
  INVALID_PAGE_SIZE: { code: Code.INVALID_ARGUMENT },
  INVALID_PAGE_TOKEN: { code: Code.INVALID_ARGUMENT },
  INVALID_FILTER: { code: Code.INVALID_ARGUMENT },
  INVALID_DURATION: { code: Code.INVALID_ARGUMENT },
  UNKNOWN_QUERY_PARAMETER: { code: Code.INVALID_ARGUMENT },
  INVALID_SYSTEM_PARAMETER: { code: Code.INVALID_ARGUMENT },
  INVALID_FIELD_SELECTOR: { code: Code.INVALID_ARGUMENT },
  JSONP_NOT_SUPPORTED: { code: Code.INVALID_ARGUMENT },
  // Routing.
  PATH_NOT_FOUND: { code: Code.NOT_FOUND },
  METHOD_NOT_ALLOWED: { code: Code.UNIMPLEMENTED, httpStatus: 405 },
  NOT_SUPPORTED: { code: Code.UNIMPLEMENTED },
  // Access and limits.
  UNAUTHENTICATED: { code: Code.UNAUTHENTICATED },
  PERMISSION_DENIED: { code: Code.PERMISSION_DENIED },
  RATE_LIMITED: { code: Code.RESOURCE_EXHAUSTED },
  TOO_MANY_WAITERS: { code: Code.RESOURCE_EXHAUSTED },
  OPERATION_TOO_LARGE: { code: Code.INVALID_ARGUMENT },
  // Watch streams and webhooks (docs/watch-and-webhooks.md).
  TOO_MANY_STREAMS: { code: Code.RESOURCE_EXHAUSTED },
  SLOW_CONSUMER: { code: Code.RESOURCE_EXHAUSTED },
  INVALID_EVENT_ID: { code: Code.INVALID_ARGUMENT },
  EVENT_ID_EXPIRED: { code: Code.OUT_OF_RANGE },
  WEBHOOK_NOT_FOUND: { code: Code.NOT_FOUND },
  WEBHOOK_ALREADY_EXISTS: { code: Code.ALREADY_EXISTS },
  DELIVERY_NOT_FOUND: { code: Code.NOT_FOUND },
  // The server itself.
  STORE_UNAVAILABLE: { code: Code.UNAVAILABLE },
  SHUTTING_DOWN: { code: Code.UNAVAILABLE },
  INTERNAL: { code: Code.INTERNAL },
} as const satisfies Record<string, ReasonSpec>;

export type Reason = keyof typeof REASONS;

export interface FieldViolation {
  field: string;
  description: string;
}

export interface ApiErrorOptions {
  /** ErrorInfo.metadata: every dynamic part of the message, under stable keys (AIP-193). */
  metadata?: Record<string, string>;
  /** A BadRequest detail, for errors in a named field of the request. */
  fieldViolations?: FieldViolation[];
  /** Extra headers a transport should send (for example `Allow`). */
  headers?: Record<string, string>;
  /** When the caller may retry: a RetryInfo detail, and `Retry-After` over HTTP. */
  retryDelayMs?: number;
  /** A PreconditionFailure detail, for FAILED_PRECONDITION errors about a named thing. */
  preconditionViolations?: { type: string; subject: string; description: string }[];
}

/** An error with a contract meaning. Anything thrown that is not an `ApiError` is INTERNAL. */
export class ApiError extends Error {
  readonly reason: Reason;
  readonly code: Code;
  readonly httpStatus: number;
  readonly metadata: Record<string, string> | undefined;
  readonly fieldViolations: FieldViolation[] | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly retryDelayMs: number | undefined;
  readonly preconditionViolations: ApiErrorOptions['preconditionViolations'];

  constructor(reason: Reason, message: string, options: ApiErrorOptions = {}) {
    super(message);
    this.name = 'ApiError';
    const spec: ReasonSpec = REASONS[reason];
    this.reason = reason;
    this.code = spec.code;
    this.httpStatus = spec.httpStatus ?? httpStatusOf[spec.code];
    this.metadata = options.metadata;
    this.fieldViolations = options.fieldViolations;
    this.retryDelayMs = options.retryDelayMs;
    this.preconditionViolations = options.preconditionViolations;
    this.headers =
      options.retryDelayMs === undefined
        ? options.headers
        : { ...options.headers, 'retry-after': String(Math.max(1, Math.ceil(options.retryDelayMs / 1000))) };
  }

  /** The error as a `google.rpc.Status`: ErrorInfo first, then BadRequest when a field is at fault. */
  toStatus(): Status {
    const errorInfo: ErrorInfo = {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: this.reason,
      domain: ERROR_DOMAIN,
    };
    if (this.metadata && Object.keys(this.metadata).length > 0) errorInfo.metadata = this.metadata;
    const details: Any[] = [errorInfo];
    if (this.retryDelayMs !== undefined) {
      details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${this.retryDelayMs / 1000}s` });
    }
    if (this.preconditionViolations?.length) {
      details.push({
        '@type': 'type.googleapis.com/google.rpc.PreconditionFailure',
        violations: this.preconditionViolations,
      });
    }
    if (this.fieldViolations?.length) {
      const badRequest: BadRequest = {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: this.fieldViolations,
      };
      details.push(badRequest);
    }
    return { code: this.code, message: this.message, details };
  }
}

/** INVALID_ARGUMENT for one field of the request, with the BadRequest violation that names it. */
export function invalidField(field: string, description: string, reason: Reason = 'INVALID_ARGUMENT'): ApiError {
  return new ApiError(reason, `Invalid ${field}: ${description}`, {
    metadata: { field },
    fieldViolations: [{ field, description }],
  });
}
