/**
 * JSON that keeps every number exactly. JSON.parse rounds integers beyond 2^53 (a uint64 in a
 * provider's metadata, say); that would silently change stored data. Texts that could hold such a
 * number take the lossless parser; the rest, nearly all, take JSON.parse.
 */
import { isSafeNumber, LosslessNumber, parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

// Fifteen significant digits always survive a double; a run of sixteen digits or dots might not.
const MAYBE_UNSAFE_NUMBER = /[0-9][0-9.]{15}/;

function parseNumber(text: string): number | LosslessNumber {
  return isSafeNumber(text) ? Number(text) : new LosslessNumber(text);
}

/** Parses JSON; numbers a double cannot hold come back as `LosslessNumber`. Throws SyntaxError. */
export function parseJson(text: string): unknown {
  if (!MAYBE_UNSAFE_NUMBER.test(text)) return JSON.parse(text);
  return losslessParse(text, null, parseNumber);
}

/** Serialises what `parseJson` returned, numbers included, exactly. */
export function stringifyJson(value: unknown, indent?: number): string {
  if (hasLosslessNumber(value)) return losslessStringify(value, undefined, indent) as string;
  return JSON.stringify(value, undefined, indent);
}

function hasLosslessNumber(value: unknown): boolean {
  if (value instanceof LosslessNumber) return true;
  if (Array.isArray(value)) return value.some(hasLosslessNumber);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasLosslessNumber);
  return false;
}

/** A plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof LosslessNumber);
}
