import { describe, expect, it } from 'vitest';
import { ApiError } from '../contract/errors.js';
import { AccessControl, ANONYMOUS, digestSecret } from './access.js';

function control(resources: string, role: 'viewer' | 'provider' | 'admin' = 'admin') {
  return new AccessControl({
    principals: [{ name: 'p', secrets: [digestSecret('secret-1')], grants: [{ role, resources }] }],
  });
}

describe('AccessControl', () => {
  it('matches patterns segment by segment', () => {
    const access = control('projects/*/instances/i/**');
    const p = access.authenticate('secret-1');
    expect(access.allows(p, 'get', 'projects/a/instances/i/operations/x')).toBe(true);
    expect(access.allows(p, 'get', 'projects/a/instances/j/operations/x')).toBe(false);
    expect(access.allows(p, 'list', 'projects/-/instances/i/operations/-')).toBe(true);
    expect(access.allows(p, 'list', 'projects/a/instances/-/operations/-')).toBe(false);
    expect(access.allows(p, 'get', 'projects/a/b/instances/i/operations/x')).toBe(false);
  });

  it('gives each role its permissions', () => {
    const viewer = control('**', 'viewer');
    const p = viewer.authenticate('secret-1');
    expect(viewer.allows(p, 'wait', 'operations/x')).toBe(true);
    expect(viewer.allows(p, 'patch', 'operations/x')).toBe(false);
    const provider = control('**', 'provider');
    expect(provider.allows(provider.authenticate('secret-1'), 'patch', 'operations/x')).toBe(true);
    expect(provider.allows(provider.authenticate('secret-1'), 'delete', 'operations/x')).toBe(false);
  });

  it('is off with no principals, and then everyone is an admin', () => {
    const access = new AccessControl(undefined);
    expect(access.enabled).toBe(false);
    expect(access.authenticate(undefined)).toBe(ANONYMOUS);
    expect(access.allows(ANONYMOUS, 'delete', 'projects/x/operations/y')).toBe(true);
  });

  it('refuses missing and unknown secrets', () => {
    const access = control('**');
    expect(() => access.authenticate(undefined)).toThrow(ApiError);
    expect(() => access.authenticate('secret-2')).toThrow(ApiError);
  });

  it.each([
    [{ principals: [{ name: '', secrets: [], grants: [] }] }, /name is required/],
    [{ principals: [{ name: 'a', secrets: ['plain'], grants: [] }] }, /sha256/],
    [
      { principals: [{ name: 'a', secrets: [digestSecret('x')], grants: [{ role: 'owner', resources: '**' }] }] },
      /role/,
    ],
    [
      { principals: [{ name: 'a', secrets: [digestSecret('x')], grants: [{ role: 'admin', resources: '**/x' }] }] },
      /may only end/,
    ],
    [
      { principals: [{ name: 'a', secrets: [digestSecret('x')], grants: [{ role: 'admin', resources: 'pro*' }] }] },
      /not a resource pattern/,
    ],
  ])('refuses a bad configuration (%#)', (config, message) => {
    expect(() => new AccessControl(config as never)).toThrow(message);
  });
});
