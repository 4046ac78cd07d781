/**
 * The access matrix over REST: every role, every method, inside and outside its scope. Allowed
 * calls are never 401/403; refused ones are 403 whether or not the operation exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestSecret, type Permission, ROLE_PERMISSIONS, type Role } from '../../packages/server/src/auth/access.js';
import { EMPTY_ANY, errorInfo, startTestServer, type TestServer } from '../helpers.js';

const TOKENS: Record<Role | 'root', string> = {
  viewer: 'viewer-token-0123456789',
  provider: 'provider-token-0123456789',
  admin: 'admin-token-0123456789',
  root: 'root-token-0123456789',
};

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    auth: {
      principals: [
        ...(['viewer', 'provider', 'admin'] as const).map((role) => ({
          name: role,
          secrets: [digestSecret(TOKENS[role])],
          grants: [{ role, resources: 'projects/acme/**' }],
        })),
        { name: 'root', secrets: [digestSecret(TOKENS.root)], grants: [{ role: 'admin', resources: '**' }] },
      ],
    },
  });
});
afterAll(() => server.stop());

const as = (token: string) => ({ authorization: `Bearer ${token}` });

/** One request per method, against an operation in `project` that exists (or not). */
async function call(method: Permission, project: string, id: string, token: string) {
  const name = `projects/${project}/operations/${id}`;
  const headers = as(token);
  switch (method) {
    case 'get':
      return server.call('GET', `/v1/${name}`, undefined, headers);
    case 'list':
      return server.call('GET', `/v1/projects/${project}/operations`, undefined, headers);
    case 'wait':
      return server.call('POST', `/v1/${name}:wait`, { timeout: '0s' }, headers);
    case 'create':
      return server.call('POST', `/v1/projects/${project}/operations`, { operationId: `${id}-new` }, headers);
    case 'patch':
      return server.call('PATCH', `/v1/${name}`, { operation: { metadata: EMPTY_ANY } }, headers);
    case 'cancel':
      return server.call('POST', `/v1/${name}:cancel`, undefined, headers);
    case 'delete':
      return server.call('DELETE', `/v1/${name}`, undefined, headers);
    default:
      throw new Error(`no request for ${method}`);
  }
}

const METHODS: Permission[] = ['get', 'list', 'wait', 'create', 'patch', 'cancel', 'delete'];
const cases = (['viewer', 'provider', 'admin'] as const).flatMap((role) =>
  METHODS.flatMap((method) => [
    { role, method, project: 'acme', allowed: ROLE_PERMISSIONS[role].has(method) },
    { role, method, project: 'other', allowed: false },
  ]),
);

describe('REST access matrix', () => {
  it.each(cases)('$role $method in projects/$project: allowed $allowed', async ({ role, method, project, allowed }) => {
    const id = `${role}-${method}`;
    const exists = await server.call(
      'POST',
      `/v1/projects/${project}/operations`,
      { operationId: id },
      as(TOKENS.root),
    );
    expect(exists.status).toBe(200);
    const response = await call(method, project, id, TOKENS[role]);
    if (allowed) {
      expect(response.status, response.text).toBe(200);
    } else {
      expect(response.status, response.text).toBe(403);
      expect(response.json.error.status).toBe('PERMISSION_DENIED');
      expect(errorInfo(response.json).reason).toBe('PERMISSION_DENIED');
      // Refused before existence is looked at: a missing operation gives the same answer.
      const missing = await call(method, project, `${id}-missing`, TOKENS[role]);
      expect(missing.status).toBe(403);
    }
  });
});

describe('authentication', () => {
  it('requires credentials, refuses unknown ones, and accepts every form Google clients send', async () => {
    await server.call('POST', '/v1/projects/acme/operations', { operationId: 'auth' }, as(TOKENS.root));
    const none = await server.call('GET', '/v1/projects/acme/operations/auth');
    expect(none.status).toBe(401);
    expect(none.json.error.status).toBe('UNAUTHENTICATED');
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await server.call('GET', '/v1/projects/acme/operations/auth', undefined, as('wrong'))).status).toBe(401);
    const basic = await server.call('GET', '/v1/projects/acme/operations/auth', undefined, {
      authorization: 'Basic eDp5',
    });
    expect(basic.status).toBe(401);
    const key = TOKENS.viewer;
    expect(
      (await server.call('GET', '/v1/projects/acme/operations/auth', undefined, { 'x-goog-api-key': key })).status,
    ).toBe(200);
    expect((await server.call('GET', `/v1/projects/acme/operations/auth?key=${key}`)).status).toBe(200);
    expect((await server.call('GET', `/v1/projects/acme/operations/auth?access_token=${key}`)).status).toBe(200);
  });

  it('keeps page tokens inside the principal scope', async () => {
    for (let i = 0; i < 3; i++) {
      await server.call('POST', '/v1/projects/acme/operations', { operationId: `page-${i}` }, as(TOKENS.root));
    }
    const first = await server.call('GET', '/v1/projects/acme/operations?pageSize=1', undefined, as(TOKENS.viewer));
    const token = first.json.nextPageToken as string;
    expect(token).toBeTruthy();
    const elsewhere = await server.call(
      'GET',
      `/v1/projects/other/operations?pageToken=${token}`,
      undefined,
      as(TOKENS.viewer),
    );
    expect(elsewhere.status).toBe(403);
    const across = await server.call(
      'GET',
      `/v1/projects/-/operations?pageToken=${token}`,
      undefined,
      as(TOKENS.viewer),
    );
    expect(across.status).toBe(403);
    const rootAcross = await server.call('GET', '/v1/projects/-/operations', undefined, as(TOKENS.root));
    expect(rootAcross.status).toBe(200);
  });
});

describe('whoami', () => {
  it('tells the caller who it is and what it may do on a resource', async () => {
    const viewer = await server.call(
      'GET',
      '/auth/whoami?resource=projects/acme/operations/x',
      undefined,
      as(TOKENS.viewer),
    );
    expect(viewer.json).toEqual({
      principal: 'viewer',
      authEnabled: true,
      grants: [{ role: 'viewer', resources: 'projects/acme/**' }],
      resource: 'projects/acme/operations/x',
      permissions: ['get', 'list', 'wait', 'watch'],
    });
    const outside = await server.call(
      'GET',
      '/auth/whoami?resource=projects/other/operations/x',
      undefined,
      as(TOKENS.admin),
    );
    expect(outside.json.permissions).toEqual([]);
    expect((await server.call('GET', '/auth/whoami')).status).toBe(401);
  });
});
