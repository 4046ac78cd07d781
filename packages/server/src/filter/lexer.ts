/**
 * The filter's tokens. TEXT is a run of anything that is not whitespace, a quote or punctuation of
 * the grammar, so `type.googleapis.com/x.Y`, `20s`, `1.5e3` and `abc*` arrive as TEXT and DOT
 * tokens that the parser reassembles from the source; `-` inside a run is text (`op-1`, `1e-5`),
 * at its start a token of its own (negation, or the sign of a number).
 */

import { filterError } from './filter-error.js';
import type { Comparator } from './values.js';

export type TokenKind = 'text' | 'string' | '(' | ')' | '.' | ',' | '-' | ':' | Comparator | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** UTF-16 offsets into the filter. */
  readonly start: number;
  readonly end: number;
  /** Whether whitespace precedes the token: a path continues only across adjacent dots. */
  readonly spaced: boolean;
  /** TEXT as written; a STRING's decoded value. */
  readonly value: string;
  /** A STRING's decoded value split at its unescaped `*` wildcards; TEXT's split at every `*`. */
  readonly parts: readonly string[];
}

const PUNCTUATION = new Set(['(', ')', '.', ',', ':', '=', '<', '>', '!', '"', "'", '\\']);
const WHITESPACE = /\s/;
// U+0000 ends strings in SQL engines, and unpaired surrogates have no UTF-8 form.
const FORBIDDEN = /\0|\p{Cs}/u;

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
  '*': '*',
  '?': '?',
  '`': '`',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};
/** Hex digits after `\x`, `\u` and `\U`. */
const HEX_ESCAPES: Record<string, number> = { x: 2, u: 4, U: 8 };

export function lex(source: string): Token[] {
  const forbidden = FORBIDDEN.exec(source);
  if (forbidden) {
    const name = forbidden[0] === '\0' ? 'U+0000' : 'an unpaired surrogate';
    throw filterError(source, forbidden.index, `${name} is not allowed in a filter`);
  }
  const tokens: Token[] = [];
  let i = 0;
  let spaced = false;
  const push = (kind: TokenKind, start: number, value = source.slice(start, i), parts = [value]) => {
    tokens.push({ kind, start, end: i, spaced, value, parts });
    spaced = false;
  };

  while (i < source.length) {
    const start = i;
    const char = source.charAt(i);
    if (WHITESPACE.test(char)) {
      i++;
      spaced = true;
    } else if (char === '"' || char === "'") {
      const parts = lexString(source, start);
      i = parts.end;
      push('string', start, parts.pieces.join('*'), parts.pieces);
    } else if (char === '<' || char === '>' || char === '!') {
      i += source.charAt(i + 1) === '=' ? 2 : 1;
      const kind = source.slice(start, i);
      if (kind === '!') throw filterError(source, start, "'!' must be followed by '=' (use NOT or - to negate)");
      push(kind as Comparator, start);
    } else if (char === '\\') {
      throw filterError(source, start, 'a backslash escape is only allowed inside a quoted string');
    } else if (PUNCTUATION.has(char) || char === '-') {
      i++;
      push(char as TokenKind, start);
    } else {
      while (i < source.length && isTextChar(source.charAt(i))) i++;
      push('text', start, source.slice(start, i), source.slice(start, i).split('*'));
    }
  }
  push('end', i, '');
  return tokens;
}

function isTextChar(char: string): boolean {
  return !PUNCTUATION.has(char) && !WHITESPACE.test(char);
}

/** A quoted string from its opening quote: the pieces between unescaped `*`s, and where it ends. */
function lexString(source: string, start: number): { pieces: string[]; end: number } {
  const quote = source.charAt(start);
  const pieces: string[] = [];
  let piece = '';
  let i = start + 1;
  for (;;) {
    if (i >= source.length) throw filterError(source, start, `unterminated string: no closing ${quote}`);
    const char = source.charAt(i);
    if (char === quote) break;
    if (char === '*') {
      pieces.push(piece);
      piece = '';
      i++;
    } else if (char === '\\') {
      const decoded = decodeEscape(source, i);
      piece += decoded.value;
      i = decoded.end;
    } else {
      piece += char;
      i++;
    }
  }
  pieces.push(piece);
  return { pieces, end: i + 1 };
}

/** The escape sequence at `at` (its backslash): the text it stands for, and where it ends. */
function decodeEscape(source: string, at: number): { value: string; end: number } {
  const letter = source.charAt(at + 1);
  if (letter === '') throw filterError(source, at, 'unterminated string: it ends inside an escape');
  const simple = SIMPLE_ESCAPES[letter];
  if (simple !== undefined) return { value: simple, end: at + 2 };
  const digits = HEX_ESCAPES[letter];
  if (digits === undefined) throw filterError(source, at, `unknown escape sequence \\${letter}`);
  const hex = source.slice(at + 2, at + 2 + digits);
  if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) {
    throw filterError(source, at, `\\${letter} must be followed by ${digits} hexadecimal digits`);
  }
  const code = Number.parseInt(hex, 16);
  const end = at + 2 + digits;
  if (code === 0) throw filterError(source, at, 'U+0000 is not allowed in a filter');
  if (code >= 0xd800 && code <= 0xdbff && letter === 'u') {
    // A high surrogate must be followed by the low one: \uD83D\uDE00 is one character.
    const low = /^\\u(d[c-f][0-9a-f]{2})/i.exec(source.slice(end));
    if (low?.[1]) return { value: String.fromCharCode(code, Number.parseInt(low[1], 16)), end: end + 6 };
  }
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
    throw filterError(source, at, `\\${letter}${hex} is not a Unicode character (or is half a surrogate pair)`);
  }
  return { value: String.fromCodePoint(code), end };
}
