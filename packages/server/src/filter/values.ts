/**
 * How values compare: the rules the checker, the evaluator and every SQL dialect share. The
 * evaluator applies them in JavaScript; a dialect must express exactly the same rules in SQL, so
 * each rule here names what the SQL side mirrors.
 */

/** A comparator after `:` has been resolved (to `=` or to a presence test). */
export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * A JSON value as the filter sees it. An integer that fits 64 bits is a `bigint`, every other
 * number a double: what SQLite's JSON functions give, so both sides compare the same values.
 */
export type JsonValue = null | boolean | number | bigint | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** Whether an ordering (negative, zero or positive: left against right) satisfies `op`. */
export function holds(op: Comparator, order: number): boolean {
  switch (op) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_TEXT = /^-?\d+$/;

/**
 * A decimal number (JSON or filter literal) as SQLite holds it: an integer that fits 64 bits
 * exactly, anything else as the nearest double.
 */
export function decimalValue(text: string): number | bigint {
  if (INTEGER_TEXT.test(text)) {
    const value = BigInt(text);
    if (value >= INT64_MIN && value <= INT64_MAX) return value;
  }
  return Number(text);
}

/**
 * The value of a string holding a canonical 64-bit integer ("-12", not "012", "+12" or "-0"):
 * proto3 JSON writes int64 fields that way. SQL mirrors it as `CAST(CAST(s AS INTEGER) AS TEXT) = s`.
 */
export function int64StringValue(text: string): bigint | undefined {
  if (!INTEGER_TEXT.test(text) || text.length > 20) return undefined;
  const value = BigInt(text);
  return value >= INT64_MIN && value <= INT64_MAX && String(value) === text ? value : undefined;
}

/** Exact comparison of doubles and 64-bit integers in any mix (JavaScript compares them exactly). */
export function compareNumbers(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Text

/**
 * Code point order: what SQL engines give for UTF-8 text compared byte by byte (SQLite's BINARY,
 * PostgreSQL's "C"). JavaScript's `<` compares UTF-16 units, which puts U+10000 and above before
 * U+E000..U+FFFF; a surrogate therefore ranks above every other unit here.
 */
export function compareText(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return unitRank(x) - unitRank(y);
  }
  return a.length - b.length;
}

function unitRank(unit: number): number {
  return unit >= 0xd800 && unit <= 0xdfff ? unit + 0x10000 : unit;
}

/**
 * Whether `text` matches a wildcard pattern given as the pieces between its `*`s (one piece: plain
 * equality). SQL engines end a string at U+0000 when matching patterns, so a string holding one
 * matches no pattern here either; filters themselves cannot contain U+0000.
 */
export function matchesWildcard(text: string, parts: readonly string[]): boolean {
  const first = parts[0] ?? '';
  if (parts.length === 1) return text === first;
  const last = parts[parts.length - 1] ?? '';
  if (text.includes('\0') || text.length < first.length + last.length) return false;
  if (!text.startsWith(first) || !text.endsWith(last)) return false;
  // Leftmost matches of the middle pieces, in order, between the fixed prefix and suffix.
  const end = text.length - last.length;
  let at = first.length;
  for (const part of parts.slice(1, -1)) {
    const found = text.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/** An instant: whole seconds since the epoch and nanoseconds within the second. */
export interface Instant {
  readonly seconds: number;
  readonly nanos: number;
}

const TIMESTAMP_LITERAL =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
/** The range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const MIN_SECONDS = -62135596800;
const MAX_SECONDS = 253402300799;

/** Whether a literal is written as an RFC 3339 timestamp (valid or not). */
export function looksLikeTimestamp(text: string): boolean {
  return TIMESTAMP_LITERAL.test(text);
}

/** An RFC 3339 timestamp with any offset and up to nine fractional digits; undefined if invalid. */
export function parseTimestamp(text: string): Instant | undefined {
  const match = TIMESTAMP_LITERAL.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = match[7] ?? '';
  const offsetHours = Number(match[9] ?? 0);
  const offsetMinutes = Number(match[10] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  if (fraction.length > 9) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // setUTCFullYear, unlike Date.UTC, keeps years below 100
  date.setUTCHours(hour, minute, second, 0);
  const offset = (match[8] === '-' ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60);
  const seconds = date.getTime() / 1000 - offset;
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return undefined;
  return { seconds, nanos: Number(fraction.padEnd(9, '0')) };
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return leap ? 29 : 28;
}

/**
 * The sort key of an instant: `YYYY-MM-DDTHH:MM:SS` in UTC followed by nine fractional digits.
 * Keys compare as text in the order of their instants.
 */
export function instantKey(instant: Instant): string {
  const whole = new Date(instant.seconds * 1000).toISOString().slice(0, 19);
  return whole + String(instant.nanos).padStart(9, '0');
}

/** A timestamp as proto3 JSON writes it: UTC, `Z`, zero to nine fractional digits. */
const STORED_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?Z$/;

/**
 * The sort key (see `instantKey`) of a stored string in proto3 JSON timestamp form, or undefined
 * for any other string. The form is checked, not the calendar: the key is the text itself with its
 * fraction padded, which is why only UTC (`Z`) strings qualify.
 */
export function timestampKey(text: string): string | undefined {
  const match = STORED_TIMESTAMP.exec(text);
  return match ? text.slice(0, 19) + (match[1] ?? '').padEnd(9, '0') : undefined;
}

// ---------------------------------------------------------------------------------------------
// Durations

/** A duration: seconds and nanoseconds, both carrying the sign (as in google.protobuf.Duration). */
export interface Duration {
  readonly seconds: number;
  readonly nanos: number;
}

/** Proto3 JSON's duration form, with up to twelve integer digits (the proto range is 11). */
const DURATION = /^(-?)(\d{1,12})(?:\.(\d{1,9}))?s$/;

/** A duration such as `20s`, `-1.5s` or `0.000000001s` (stored or literal); undefined otherwise. */
export function parseDuration(text: string): Duration | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const sign = match[1] === '-' ? -1 : 1;
  const seconds = Number(match[2]);
  const nanos = Number((match[3] ?? '').padEnd(9, '0'));
  // `|| 0` turns -0 into 0: "-0s" is zero.
  return { seconds: sign * seconds || 0, nanos: sign * nanos || 0 };
}

/** With the sign on both parts, (seconds, nanos) in lexicographic order is the order of durations. */
export function compareDurations(a: Duration, b: Duration): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.nanos - b.nanos;
}

// ---------------------------------------------------------------------------------------------
// Keys

/**
 * The JSON keys a path segment matches: as written, in lowerCamelCase (protobuf's JSON name:
 * `start_time` → `startTime`) and, for a lowerCamelCase segment, in snake_case (`startTime` →
 * `start_time`). Only ASCII letters change case, as in protobuf.
 */
export function spellings(segment: string): string[] {
  return [...new Set([segment, lowerCamel(segment), snakeCase(segment)])];
}

function lowerCamel(name: string): string {
  return name.replace(/_+([a-z]?)/g, (_, letter: string) => letter.toUpperCase());
}

/** `startTime` → `start_time`; a name that does not start with a lower-case letter stays as it is. */
export function snakeCase(name: string): string {
  return /^[a-z]/.test(name) ? name.replace(/[A-Z]/g, (letter) => '_' + letter.toLowerCase()) : name;
}
