/**
 * Which driver errors mean "the database cannot serve now" (UNAVAILABLE, retryable) rather than
 * "this request is wrong" or a bug (INTERNAL).
 */
import { ApiError } from '../../contract/errors.js';

// SQLSTATE classes and codes: 08 connection exception, 53 insufficient resources (too many
// connections, disk full), 57P01-57P05 shutdown / cannot connect now / idle timeouts, 57014 query
// cancelled (statement_timeout), 40001/40P01 serialization failure / deadlock, 55P03 lock not
// available, 25006 read-only transaction (a failover left us on a standby), 58030 I/O error.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-5]$|57014$|40001$|40P01$|55P03$|25006$|58030$)/;

// Socket errors from Node, while connecting or on an open connection.
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// The pg driver's own messages for a connection that died, timed out or is gone.
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|is not queryable|Cannot use a pool after calling end|terminating connection/i;

/** True when `error` says the database is unreachable or cannot serve now. */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
  if (error instanceof AggregateError && error.errors.some(isUnavailable)) return true;
  return UNAVAILABLE_MESSAGE.test(error.message);
}

/** The error to raise for a driver error: STORE_UNAVAILABLE when the database cannot serve, else as is. */
export function translate(error: unknown): unknown {
  if (error instanceof ApiError) return error;
  if (isUnavailable(error)) {
    return new ApiError('STORE_UNAVAILABLE', 'The operation store is unavailable; try again');
  }
  return error;
}
