/**
 * The SQLite dialect: JSON1's json_each and json_tree (SQLite 3.53 via better-sqlite3). Text
 * compares in the BINARY collation, byte by byte over UTF-8, which is code point order. Where a
 * rule needs a string's shape (an int64, a timestamp, a duration), GLOB checks it; GLOB stops at
 * U+0000, so each shape test first rules that character out, as the JavaScript patterns do.
 */
import { join, operator, param, type Sql, type SqlDialect, type Typed } from './sql.js';

const NO_NUL = (text: string) => `instr(${text}, char(0)) = 0`;

/** `YYYY-MM-DDTHH:MM:SS`, then anything, then `Z` (the middle is checked separately). */
const TIMESTAMP_GLOB = `'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'`;

export const sqliteDialect: SqlDialect = {
  placeholder: () => '?',

  isTrue: (column) => `${column} <> 0`,

  compareText: (left, op, right) => [left, ` ${operator(op)} `, right],

  matchesWildcard: (text, parts) => {
    // In a GLOB pattern, [x] matches x itself: that is how *, ? and [ stay literal.
    const pattern = parts.map((part) => part.replace(/[*?[]/g, (char) => `[${char}]`)).join('*');
    return ['(instr(', text, ', char(0)) = 0 AND ', text, ' GLOB ', param(pattern), ')'];
  },

  jsonValues(column, path) {
    const from: string[] = [];
    const where: Sql[] = [];
    let json: string = column;
    path.forEach((keys, i) => {
      // m: the members of an object whose key is one of the spellings. v: such a member, or, when it
      // is an array, its elements at any depth: the rows json_tree reaches from the member through
      // array indexes alone, whose full key therefore adds no '.' to the member's.
      const member = `m${i}`;
      const value = `v${i}`;
      from.push(`json_each(${json}) AS ${member}`, `json_tree(${json}, ${member}.fullkey) AS ${value}`);
      where.push(
        [`${member}.key IN (`, join(keys.map(param), ', '), ')'],
        `${value}.type <> 'array'`,
        `instr(substr(${value}.fullkey, length(${member}.fullkey) + 1), '.') = 0`,
      );
      // Only objects have members; anything else would not even parse as JSON text.
      json = `(CASE WHEN ${value}.type = 'object' THEN ${value}.value END)`;
    });
    return { from: from.join(', '), where, candidate: `v${path.length - 1}` };
  },

  jsonNotNull: (candidate) => `${candidate}.type <> 'null'`,

  jsonIsBool: (candidate, value) => `${candidate}.type = '${value}'`,

  jsonText: (candidate) => ({ guard: `${candidate}.type = 'text'`, value: `${candidate}.atom` }),

  jsonNumber(candidate) {
    const atom = `${candidate}.atom`;
    // A canonical int64 string survives the round trip through INTEGER unchanged.
    const int64Text = `CAST(CAST(${atom} AS INTEGER) AS TEXT) = ${atom}`;
    return {
      guard: `(${candidate}.type IN ('integer', 'real') OR (${candidate}.type = 'text' AND ${int64Text}))`,
      value: `(CASE WHEN ${candidate}.type = 'text' THEN CAST(${atom} AS INTEGER) ELSE ${atom} END)`,
    };
  },

  jsonTimestampKey(candidate) {
    const atom = `${candidate}.atom`;
    const fraction = `substr(${atom}, 21, max(length(${atom}) - 21, 0))`;
    const shape = [
      NO_NUL(atom),
      `${atom} GLOB ${TIMESTAMP_GLOB}`,
      `(length(${atom}) = 20 OR (length(${atom}) BETWEEN 22 AND 30 AND substr(${atom}, 20, 1) = '.' AND ${fraction} NOT GLOB '*[^0-9]*'))`,
    ];
    return {
      guard: `(${candidate}.type = 'text' AND ${shape.join(' AND ')})`,
      value: `(substr(${atom}, 1, 19) || substr(${fraction} || '000000000', 1, 9))`,
    };
  },

  jsonDuration(candidate): Typed<readonly [Sql, Sql]> {
    const atom = `${candidate}.atom`;
    // The digits and the dot: the atom without its sign and its 's'. The length check proves that
    // exactly one 's', and at most one '-', came off.
    const digits = `rtrim(ltrim(${atom}, '-'), 's')`;
    const dot = `instr(${digits} || '.', '.')`;
    const negative = `(${atom} GLOB '-*')`;
    const shape = [
      NO_NUL(atom),
      `${atom} GLOB '*s'`,
      `length(${atom}) = length(${digits}) + 1 + ${negative}`,
      `${digits} GLOB '[0-9]*'`,
      `${digits} NOT GLOB '*[^0-9.]*'`,
      `${digits} NOT GLOB '*.*.*'`,
      `${digits} NOT GLOB '*.'`,
      `${dot} <= 13`,
      `length(${digits}) - ${dot} <= 9`,
    ];
    const sign = `(CASE WHEN ${negative} THEN -1 ELSE 1 END)`;
    const nanos = `CAST(substr(substr(${digits}, ${dot} + 1) || '000000000', 1, 9) AS INTEGER)`;
    return {
      guard: `(${candidate}.type = 'text' AND ${shape.join(' AND ')})`,
      value: [`(${sign} * CAST(${digits} AS INTEGER))`, `(${sign} * ${nanos})`],
    };
  },
};
