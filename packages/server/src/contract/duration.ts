/** `google.protobuf.Duration` in its JSON form: seconds with up to nine fractional digits, then `s`. */
import { invalidField } from './errors.js';

const DURATION = /^(\d{1,12})(?:\.(\d{1,9}))?s$/;

/** Milliseconds in a non-negative Duration such as `"30s"` or `"1.5s"`. */
export function parseDuration(text: unknown, field: string): number {
  if (typeof text !== 'string')
    throw invalidField(field, 'must be a Duration string such as "30s"', 'INVALID_DURATION');
  const match = DURATION.exec(text);
  if (!match) {
    throw invalidField(field, `"${text}" is not a non-negative Duration such as "30s" or "0.5s"`, 'INVALID_DURATION');
  }
  const fraction = (match[2] ?? '').padEnd(9, '0');
  return Number(match[1]) * 1000 + Math.ceil(Number(fraction) / 1e6);
}
