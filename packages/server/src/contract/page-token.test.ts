import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { PAGE_TOKEN_TTL_MS, PageTokens } from './page-token.js';

const tokens = new PageTokens(Buffer.from('secret'));
const cursor = { parent: 'projects/p', filter: 'done = true', beforeSeq: 42 };

function reason(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof ApiError ? error.reason : 'not an ApiError';
  }
  return undefined;
}

describe('PageTokens', () => {
  it('round-trips a cursor, and tokens are opaque and URL-safe', () => {
    const token = tokens.mint(cursor);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('projects/p');
    expect(tokens.read(token, 'projects/p', 'done = true')).toBe(42);
    expect(tokens.mint(cursor)).not.toBe(token);
  });

  it('binds a token to its parent and filter', () => {
    const token = tokens.mint(cursor);
    expect(reason(() => tokens.read(token, 'projects/q', 'done = true'))).toBe('INVALID_PAGE_TOKEN');
    expect(reason(() => tokens.read(token, 'projects/p', ''))).toBe('INVALID_PAGE_TOKEN');
  });

  it('refuses tampered, foreign, garbage and expired tokens', () => {
    const token = tokens.mint(cursor);
    const bytes = Buffer.from(token, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    expect(reason(() => tokens.read(bytes.toString('base64url'), 'projects/p', 'done = true'))).toBe(
      'INVALID_PAGE_TOKEN',
    );
    expect(reason(() => new PageTokens(Buffer.from('other')).read(token, 'projects/p', 'done = true'))).toBe(
      'INVALID_PAGE_TOKEN',
    );
    for (const garbage of ['', 'x', '!!!', 'A'.repeat(1000)]) {
      expect(reason(() => tokens.read(garbage, 'projects/p', 'done = true'))).toBe('INVALID_PAGE_TOKEN');
    }
    const old = tokens.mint(cursor, Date.now() - PAGE_TOKEN_TTL_MS - 1000);
    expect(reason(() => tokens.read(old, 'projects/p', 'done = true'))).toBe('INVALID_PAGE_TOKEN');
  });
});
