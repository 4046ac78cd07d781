/**
 * Checks a parsed filter against the fields of an operation and types its literals. Declared
 * fields have one type and read every literal as that type; paths inside `metadata` and
 * `response` hold any JSON, so there the literal's own form decides what it compares with
 * (docs/filtering.md, "Typing rules").
 */
import type { JsonRestriction, Node, NumberTest, PresentTest, StringTest, Test, Tree } from './ast.js';
import { filterError } from './filter-error.js';
import type { Literal, SyntaxRestriction } from './parser.js';
import {
  type Comparator,
  decimalValue,
  instantKey,
  looksLikeTimestamp,
  parseDuration,
  parseTimestamp,
  snakeCase,
  spellings,
} from './values.js';

/**
 * Most segments in a field path, the first included. It keeps the SQL of a path within one join
 * (SQLite joins at most 64 tables; each segment inside the JSON takes two).
 */
export const MAX_PATH_LENGTH = 32;

const FIELD_LIST =
  'name, done, error, error.code, error.message, metadata, metadata.@type, metadata.<path>, ' +
  'response, response.@type, response.<path>, create_time, update_time, done_time, cancel_requested';

const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

export function check(tree: Tree<SyntaxRestriction>, source: string): Node {
  switch (tree.kind) {
    case 'and':
    case 'or':
      return { kind: tree.kind, operands: tree.operands.map((operand) => check(operand, source)) };
    case 'not':
      return { kind: 'not', operand: check(tree.operand, source) };
    default:
      return new RestrictionChecker(source, tree).check();
  }
}

class RestrictionChecker {
  private readonly fieldName: string;

  constructor(
    private readonly source: string,
    private readonly syntax: SyntaxRestriction,
  ) {
    this.fieldName = syntax.member.map((segment) => segment.name).join('.');
  }

  check(): Node {
    const root = this.syntax.member[0]!;
    // Top-level names also match in lowerCamelCase (createTime), as JSON clients spell them.
    const rootName = snakeCase(root.name);
    switch (rootName) {
      case 'name':
        this.expectLength(1, 'a string');
        return { kind: 'column', column: 'name', test: this.stringTest() };
      case 'done':
      case 'cancel_requested':
        this.expectLength(1, 'a bool');
        return { kind: 'flag', flag: rootName, value: this.boolValue() };
      case 'create_time':
      case 'update_time':
      case 'done_time':
        this.expectLength(1, 'a timestamp');
        return { kind: 'column', column: rootName, test: this.timeTest() };
      case 'error':
        return this.status();
      case 'metadata':
      case 'response':
        return this.anyMessage(rootName);
      default:
        throw this.error(root.offset, `unknown field '${root.name}'; the fields are ${FIELD_LIST}`);
    }
  }

  /** `error` is a google.rpc.Status; its fields are proto3 primitives, read as their default when omitted. */
  private status(): Node {
    const field = this.syntax.member[1];
    if (!field) return this.messagePresence('error');
    switch (snakeCase(field.name)) {
      case 'code':
        this.expectLength(2, 'an integer');
        return { kind: 'json', column: 'error', path: [['code']], protoDefault: 0n, test: this.integerTest() };
      case 'message':
        this.expectLength(2, 'a string');
        return { kind: 'json', column: 'error', path: [['message']], protoDefault: '', test: this.stringTest() };
      default:
        throw this.error(field.offset, `unknown field '${this.fieldName}'; error has code and message`);
    }
  }

  /** `metadata` and `response`: google.protobuf.Any, so any JSON below the declared `@type`. */
  private anyMessage(column: 'metadata' | 'response'): Node {
    const path = this.syntax.member.slice(1).map((segment) => segment.name);
    if (path.length === 0) return this.messagePresence(column);
    if (path[0] === '@type') {
      this.expectLength(2, 'a string');
      return { kind: 'json', column, path: [['@type']], test: this.stringTest() };
    }
    return this.dynamic(column, path);
  }

  /** Fails unless the field path has exactly `length` segments: a field of a scalar type has no fields. */
  private expectLength(length: number, type: string): void {
    const extra = this.syntax.member[length];
    if (!extra) return;
    const field = this.syntax.member.slice(0, length).map((segment) => segment.name);
    throw this.error(
      extra.offset,
      `unknown field '${this.fieldName}'; ${field.join('.')} is ${type} and has no fields`,
    );
  }

  /** `error`, `metadata` and `response` themselves are messages: only `:` applies. */
  private messagePresence(column: 'error' | 'metadata' | 'response'): Node {
    if (this.isPresence()) return { kind: 'column', column, test: { kind: 'present' } };
    if (column !== 'error' && this.syntax.comparator === ':') {
      // `metadata:key` is `metadata.key:*`.
      return this.json(column, [this.syntax.arg.text], { kind: 'present' });
    }
    const allowed = column === 'error' ? 'error:*' : `${column}:* and ${column}:key`;
    throw this.error(this.syntax.comparatorOffset, `${column} is a message; only ${allowed} apply to it`);
  }

  /** A path inside `metadata` or `response`, of any JSON type. */
  private dynamic(column: 'metadata' | 'response', path: string[]): Node {
    if (this.isPresence()) return this.json(column, path, { kind: 'present' });
    if (this.syntax.comparator === ':') {
      // AIP-160's has operator: `m:k` asks for a key (`m.k:*`), `r:x` for an element or value equal to x.
      const key = this.json(column, [...path, this.syntax.arg.text], { kind: 'present' });
      return { kind: 'or', operands: [key, this.json(column, path, this.literalTest())] };
    }
    return this.json(column, path, this.literalTest());
  }

  private json(column: 'metadata' | 'response', path: string[], test: Test): JsonRestriction {
    if (path.length + 1 > MAX_PATH_LENGTH) {
      throw this.error(this.syntax.member[0]!.offset, `a field path has at most ${MAX_PATH_LENGTH} segments`);
    }
    return { kind: 'json', column, path: path.map(spellings), test };
  }

  /** An untyped path's test: the literal's form decides its type. */
  private literalTest(): Test {
    const { arg } = this.syntax;
    const op = this.comparator();
    if (!arg.quoted && (arg.text === 'true' || arg.text === 'false')) return { kind: 'bool', value: this.boolValue() };
    if (!arg.quoted && NUMBER.test(arg.text)) {
      const value = decimalValue(arg.text);
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw this.error(arg.offset, `the number ${arg.text} is out of range`);
      }
      return { kind: 'number', op, value };
    }
    if (looksLikeTimestamp(arg.text)) {
      const instant = parseTimestamp(arg.text);
      if (!instant) throw this.error(arg.offset, `'${arg.text}' is not a valid RFC 3339 timestamp`);
      return { kind: 'timestamp', op, key: instantKey(instant) };
    }
    const duration = parseDuration(arg.text);
    if (duration) return { kind: 'duration', op, value: duration };
    return stringTest(op, arg);
  }

  /** A declared string; `x:*` asks for a non-empty one. */
  private stringTest(): StringTest {
    return this.isPresence()
      ? { kind: 'string', op: '!=', parts: [''] }
      : stringTest(this.comparator(), this.syntax.arg);
  }

  /** A declared integer; `x:*` asks for a non-zero one. */
  private integerTest(): NumberTest {
    if (this.isPresence()) return { kind: 'number', op: '!=', value: 0n };
    const { text } = this.syntax.arg;
    const value = NUMBER.test(text) ? decimalValue(text) : undefined;
    if (value === undefined || (typeof value === 'number' && !Number.isInteger(value))) {
      throw this.typeError('an integer', 'a whole number such as 5');
    }
    return { kind: 'number', op: this.comparator(), value };
  }

  /** A time column (integer milliseconds); `x:*` asks whether it is set. */
  private timeTest(): PresentTest | NumberTest {
    if (this.isPresence()) return { kind: 'present' };
    const instant = parseTimestamp(this.syntax.arg.text);
    if (!instant) throw this.typeError('a timestamp', 'an RFC 3339 timestamp such as "2021-03-28T14:50:00Z"');
    // Times are stored in whole milliseconds. Any value strictly between two of them gives every
    // comparison the answer the exact instant gives, and ms + 0.5 is exact in a double.
    const millis = instant.seconds * 1000 + Math.floor(instant.nanos / 1e6);
    return { kind: 'number', op: this.comparator(), value: instant.nanos % 1e6 === 0 ? millis : millis + 0.5 };
  }

  /**
   * Which bool the restriction asks for: a literal with `=` or `:` asks for itself, with `!=` for its
   * opposite (a bool that is not true is false), and `x:*` for true.
   */
  private boolValue(): boolean {
    if (this.isPresence()) return true;
    const op = this.comparator();
    if (op !== '=' && op !== '!=') {
      throw this.error(
        this.syntax.comparatorOffset,
        `${this.fieldName} is compared with a bool; only =, != and : apply`,
      );
    }
    const { text } = this.syntax.arg;
    if (text !== 'true' && text !== 'false') throw this.typeError('a bool', 'true or false');
    return (text === 'true') === (op === '=');
  }

  /** `x:*`: an unquoted star after the has operator. */
  private isPresence(): boolean {
    return this.syntax.comparator === ':' && !this.syntax.arg.quoted && this.syntax.arg.text === '*';
  }

  /** On a value, `:` is equality (`done:true`). */
  private comparator(): Comparator {
    return this.syntax.comparator === ':' ? '=' : this.syntax.comparator;
  }

  private typeError(type: string, expected: string) {
    const { arg } = this.syntax;
    return this.error(arg.offset, `${this.fieldName} is ${type}: expected ${expected}, found '${arg.text}'`);
  }

  private error(offset: number, message: string) {
    return filterError(this.source, offset, message);
  }
}

/** Wildcards apply to `=` and `!=`; the ordering comparators compare with the text as written. */
function stringTest(op: Comparator, arg: Literal): StringTest {
  return { kind: 'string', op, parts: op === '=' || op === '!=' ? arg.parts : [arg.text] };
}
