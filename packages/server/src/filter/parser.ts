/**
 * Recursive descent over the AIP-160 grammar:
 *
 *   expression  = sequence { "AND" sequence }
 *   sequence    = factor { factor }                      (implicit AND)
 *   factor      = term { "OR" term }                     (OR binds tighter than AND)
 *   term        = [ "NOT" | "-" ] simple
 *   simple      = restriction | "(" expression ")"
 *   restriction = member comparator arg
 *   member      = value { "." field }                    (no whitespace around the dots)
 *
 * A restriction without a comparator (a bare value, AIP-160's global search) and function calls are
 * rejected: longrun defines neither. An argument is one value: a quoted string, or TEXT with its
 * adjacent dots (and a leading `-`) taken verbatim from the source.
 */
import type { Tree } from './ast.js';
import { columnOf, filterError } from './filter-error.js';
import type { Token } from './lexer.js';
import type { Comparator } from './values.js';

export interface Segment {
  readonly name: string;
  readonly offset: number;
}

/** A literal as written: TEXT verbatim, or a quoted string decoded. */
export interface Literal {
  readonly quoted: boolean;
  readonly text: string;
  /** `text` split at its wildcard `*`s (escaped stars in strings are not wildcards). */
  readonly parts: readonly string[];
  readonly offset: number;
}

export interface SyntaxRestriction {
  readonly kind: 'restriction';
  readonly member: readonly Segment[];
  readonly comparator: Comparator | ':';
  readonly comparatorOffset: number;
  readonly arg: Literal;
}

const COMPARATORS = new Set(['=', '!=', '<', '<=', '>', '>=', ':']);

export function parse(source: string, tokens: readonly Token[], maxDepth: number): Tree<SyntaxRestriction> {
  return new Parser(source, tokens, maxDepth).filter();
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
    private readonly maxDepth: number,
  ) {}

  filter(): Tree<SyntaxRestriction> {
    const tree = this.expression('');
    const token = this.peek();
    if (token.kind === ')') throw this.error(token, "this ')' has no matching '('");
    if (token.kind !== 'end') {
      throw this.error(token, `expected AND, OR or the end of the filter, found ${this.describe(token)}`);
    }
    return tree;
  }

  private expression(context: string): Tree<SyntaxRestriction> {
    const operands = [this.sequence(context)];
    while (this.isKeyword(this.peek(), 'AND')) {
      this.next();
      operands.push(this.sequence(' after AND'));
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  private sequence(context: string): Tree<SyntaxRestriction> {
    const operands = [this.factor(context)];
    while (this.startsTerm(this.peek())) operands.push(this.factor(''));
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  private factor(context: string): Tree<SyntaxRestriction> {
    const operands = [this.term(context)];
    while (this.isKeyword(this.peek(), 'OR')) {
      this.next();
      operands.push(this.term(' after OR'));
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  private term(context: string): Tree<SyntaxRestriction> {
    const token = this.peek();
    if (this.isKeyword(token, 'NOT') || token.kind === '-') {
      this.next();
      return { kind: 'not', operand: this.simple(` after ${token.value}`) };
    }
    return this.simple(context);
  }

  private simple(context: string): Tree<SyntaxRestriction> {
    const open = this.peek();
    if (open.kind !== '(') return this.restriction(context);
    this.next();
    if (++this.depth > this.maxDepth) throw this.error(open, `more than ${this.maxDepth} nested parentheses`);
    const tree = this.expression(" after '('");
    const close = this.peek();
    if (close.kind !== ')') {
      const at = columnOf(this.source, open.start);
      throw this.error(close, `expected ')' to close the '(' at column ${at}, found ${this.describe(close)}`);
    }
    this.next();
    this.depth--;
    return tree;
  }

  private restriction(context: string): SyntaxRestriction {
    const first = this.peek();
    if (!this.isName(first) || this.isKeyword(first, 'AND', 'OR', 'NOT')) {
      throw this.error(first, `expected a restriction${context}, found ${this.describe(first)}`);
    }
    const member = [this.segment()];
    while (this.peek().kind === '.' && !this.peek().spaced) {
      this.next();
      const name = this.peek();
      if (!this.isName(name) || name.spaced) throw this.error(name, "expected a field name right after '.'");
      member.push(this.segment());
    }
    this.rejectCall();
    const comparator = this.peek();
    if (!COMPARATORS.has(comparator.kind)) {
      const field = member.map((segment) => segment.name).join('.');
      throw this.error(
        comparator,
        `expected a comparator (=, !=, <, <=, >, >= or :) after ${field}, found ${this.describe(comparator)}`,
      );
    }
    this.next();
    const arg = this.literal(comparator);
    return {
      kind: 'restriction',
      member,
      comparator: comparator.kind as Comparator | ':',
      comparatorOffset: comparator.start,
      arg,
    };
  }

  private segment(): Segment {
    const token = this.next();
    return { name: token.value, offset: token.start };
  }

  private literal(comparator: Token): Literal {
    const first = this.peek();
    if (first.kind === 'string') {
      this.next();
      return { quoted: true, text: first.value, parts: first.parts, offset: first.start };
    }
    const sign = first.kind === '-' && this.peek(1).kind === 'text' && !this.peek(1).spaced;
    const lead = sign ? this.peek(1) : first;
    if (lead.kind !== 'text' || (!sign && this.isKeyword(lead, 'AND', 'OR', 'NOT'))) {
      const found = this.describe(first);
      throw this.error(first, `expected a value after '${comparator.kind}', found ${found}`);
    }
    if (sign) this.next();
    let end = this.next().end;
    while (this.peek().kind === '.' && !this.peek().spaced) {
      this.next();
      const part = this.peek();
      if (part.kind !== 'text' || part.spaced) throw this.error(part, "expected more of the value right after '.'");
      end = this.next().end;
    }
    this.rejectCall();
    const text = this.source.slice(first.start, end);
    return { quoted: false, text, parts: text.split('*'), offset: first.start };
  }

  /** `name(` is AIP-160's function call; longrun defines no functions. */
  private rejectCall(): void {
    const token = this.peek();
    if (token.kind === '(' && !token.spaced) throw this.error(token, 'function calls are not supported');
  }

  private startsTerm(token: Token): boolean {
    const opens = token.kind === 'text' || token.kind === 'string' || token.kind === '(' || token.kind === '-';
    return opens && !this.isKeyword(token, 'AND', 'OR');
  }

  private isName(token: Token): boolean {
    return token.kind === 'text' || token.kind === 'string';
  }

  /** Keywords are case-sensitive TEXT: `and` and "AND" are plain values. */
  private isKeyword(token: Token, ...keywords: string[]): boolean {
    return token.kind === 'text' && keywords.includes(token.value);
  }

  private describe(token: Token): string {
    if (token.kind === 'end') return 'the end of the filter';
    const chars = Array.from(this.source.slice(token.start, token.end));
    return `'${chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : chars.join('')}'`;
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private error(token: Token, message: string) {
    return filterError(this.source, token.start, message);
  }
}
