import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { checkOperationId, parentPattern, parseListName, parseOperationName, parseParent } from './names.js';

describe('parseOperationName', () => {
  it.each([
    ['operations/abc', '', 'abc'],
    ['operations/some/unique/name', '', 'some/unique/name'],
    ['projects/p/operations/x', 'projects/p', 'x'],
    ['projects/p/instances/i/operations/x', 'projects/p/instances/i', 'x'],
    ['projects/p/instances/i/databases/d/operations/_auto0', 'projects/p/instances/i/databases/d', '_auto0'],
    ['projects/operations/operations/x', 'projects/operations', 'x'],
    ['projects/p/operations/a/operations/b', 'projects/p', 'a/operations/b'],
    ['projects/p.q~r-s/operations/A_b.c~d-e', 'projects/p.q~r-s', 'A_b.c~d-e'],
  ])('%s → parent %j, id %j', (name, parent, id) => {
    expect(parseOperationName(name)).toEqual({ name, parent, id });
  });

  it.each([
    '',
    'operations',
    'operations/',
    'projects/p/operations',
    'projects/p',
    'projects/operations/x',
    'projects/p/instances/operations/x',
    'projects//operations/x',
    'projects/p/operations/a b',
    'projects/p/operations/a:cancel',
    'projects/p/operations/a%2Fb',
    'projects/-/operations/x',
    `operations/${'x'.repeat(257)}`,
    `projects/${'p'.repeat(1020)}/operations/x`,
  ])('refuses %j with INVALID_ARGUMENT', (name) => {
    expect(() => parseOperationName(name)).toThrowError(ApiError);
    try {
      parseOperationName(name);
    } catch (error) {
      expect((error as ApiError).code).toBe(3);
      expect((error as ApiError).fieldViolations?.[0]?.field).toBe('name');
    }
  });
});

describe('parents and list names', () => {
  it('accepts both conventions of ListOperationsRequest.name', () => {
    expect(parseListName('projects/p')).toBe('projects/p');
    expect(parseListName('projects/p/operations')).toBe('projects/p');
    expect(parseListName('operations')).toBe('');
    expect(parseListName('')).toBe('');
    expect(parseListName('projects/p/instances/-/operations')).toBe('projects/p/instances/-');
  });

  it('allows "-" only in a list, and only for a resource id', () => {
    expect(() => parseParent('projects/-')).toThrowError(ApiError);
    expect(() => parseListName('-/p')).toThrowError(ApiError);
    expect(() => parseListName('projects/p/operations/x')).toThrowError(ApiError);
  });

  it('matches wildcard parents one segment at a time', () => {
    const pattern = parentPattern('projects/-/instances/-');
    expect(pattern.test('projects/a/instances/b')).toBe(true);
    expect(pattern.test('projects/a/b/instances/c')).toBe(false);
    expect(pattern.test('projects/a/instances/b/databases/c')).toBe(false);
    expect(parentPattern('projects/a.b').test('projects/aXb')).toBe(false);
  });

  it('validates chosen ids', () => {
    expect(checkOperationId('build/my-proj/abc123')).toBe('build/my-proj/abc123');
    expect(() => checkOperationId('a//b')).toThrowError(ApiError);
    expect(() => checkOperationId('')).toThrowError(ApiError);
    expect(() => checkOperationId('ünïcode')).toThrowError(ApiError);
  });
});
