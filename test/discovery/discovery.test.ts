/**
 * The discovery document (`GET /$discovery/rest?version=v1`): its shape, and Google's discovery
 * clients built from it against a live server, Python's (Debian's python3-googleapi, through
 * python_client.py) and Node's (googleapis' `discoverAPI`).
 */
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { GaxiosError } from 'gaxios';
import { google } from 'googleapis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_ANY, errorInfo, startTestServer, type TestServer } from '../helpers.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'python_client.py');

// Like the PostgreSQL suites: skip here, saying why; fail under CI, where the test command's setup
// has run the script.
const pythonClient = spawnSync(PYTHON, ['-c', 'import googleapiclient']).status === 0;
const MISSING = `${PYTHON} cannot import googleapiclient: run scripts/ensure-python-client.sh (Debian's python3-googleapi)`;
if (!pythonClient) {
  if (process.env['CI'] === 'true') throw new Error(`${MISSING}; CI=true, so the Python client test must run`);
  console.warn(`Python discovery client test skipped: ${MISSING}`);
}

let server: TestServer;

beforeAll(async () => {
  // A cancel ends the operation at once, so the clients see it CANCELLED.
  server = await startTestServer({ store: ':memory:', cancelGracePeriodMs: 0 });
});
afterAll(() => server.stop());

async function discovery(version: string): Promise<{ status: number; json: any }> {
  return server.call('GET', `/$discovery/rest?version=${version}`);
}

/** Every method of the document, with its resource path (`parents.operations.get`). */
function methodsOf(resources: Record<string, any>, prefix = ''): [string, any][] {
  return Object.entries(resources).flatMap(([key, resource]) => [
    ...Object.entries<any>(resource.methods ?? {}).map(([name, method]): [string, any] => [
      `${prefix}${key}.${name}`,
      method,
    ]),
    ...methodsOf(resource.resources ?? {}, `${prefix}${key}.`),
  ]);
}

describe('the discovery document', () => {
  it('describes the top-level and nested operations on the server itself', async () => {
    const { status, json: doc } = await discovery('v1');
    expect(status).toBe(200);
    expect(doc).toMatchObject({
      kind: 'discovery#restDescription',
      discoveryVersion: 'v1',
      id: 'longrun:v1',
      name: 'longrun',
      version: 'v1',
      protocol: 'rest',
      rootUrl: `${server.url}/`,
      servicePath: '',
      fullyEncodeReservedExpansion: true,
    });
    // Python insists on Google credentials when the document has OAuth scopes; there is no batch endpoint.
    expect(doc).not.toHaveProperty('auth');
    expect(doc).not.toHaveProperty('batchPath');
    expect(doc.parameters['$.xgafv']).toEqual({
      description: 'V1 error format.',
      enum: ['1', '2'],
      enumDescriptions: ['v1 error format', 'v2 error format'],
      location: 'query',
      type: 'string',
    });
    expect(Object.keys(doc.parameters)).toEqual(
      expect.arrayContaining(['alt', 'fields', 'key', 'access_token', 'oauth_token', 'prettyPrint', 'quotaUser']),
    );
    expect(doc.parameters).not.toHaveProperty('callback');
    expect(Object.keys(doc.schemas).sort()).toEqual([
      'CancelOperationRequest',
      'CreateOperationRequest',
      'Empty',
      'ListOperationsResponse',
      'Operation',
      'Status',
      'UpdateOperationRequest',
      'WaitOperationRequest',
    ]);

    const methods = Object.fromEntries(methodsOf(doc.resources));
    const verbs = ['cancel', 'create', 'delete', 'get', 'list', 'patch', 'wait'];
    expect(Object.keys(methods).sort()).toEqual([
      ...verbs.map((verb) => `operations.${verb}`),
      ...verbs.map((verb) => `parents.operations.${verb}`),
    ]);
    expect(methods['operations.get']).toMatchObject({
      id: 'longrun.operations.get',
      httpMethod: 'GET',
      path: 'v1/{+name}',
      flatPath: 'v1/operations/{operationsId}',
      parameterOrder: ['name'],
      parameters: { name: { location: 'path', pattern: '^operations/.+$', required: true, type: 'string' } },
      response: { $ref: 'Operation' },
    });
    expect(methods['operations.list']).toMatchObject({
      path: 'v1/{+name}',
      parameters: { name: { pattern: '^operations$' }, pageSize: { type: 'integer', format: 'int32' } },
      response: { $ref: 'ListOperationsResponse' },
    });
    expect(methods['operations.create']).toMatchObject({
      httpMethod: 'POST',
      path: 'v1/operations',
      parameterOrder: [],
    });
    expect(methods['parents.operations.create']).toMatchObject({
      id: 'longrun.parents.operations.create',
      httpMethod: 'POST',
      path: 'v1/{+parent}/operations',
      parameterOrder: ['parent'],
      request: { $ref: 'CreateOperationRequest' },
    });
    expect(methods['parents.operations.patch']).toMatchObject({
      httpMethod: 'PATCH',
      path: 'v1/{+name}',
      request: { $ref: 'UpdateOperationRequest' },
    });
    expect(methods['parents.operations.cancel']).toMatchObject({ path: 'v1/{+name}:cancel' });
    expect(methods['parents.operations.wait']).toMatchObject({ path: 'v1/{+name}:wait' });
  });

  it('is consistent: path variables are required path parameters, in parameterOrder, and every $ref resolves', async () => {
    const { json: doc } = await discovery('v1');
    const refs = JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g);
    for (const [, ref] of refs) expect(doc.schemas, ref).toHaveProperty(ref!);
    for (const [key, method] of methodsOf(doc.resources)) {
      const variables = [...method.path.matchAll(/\{\+?(\w+)\}/g)].map((match) => match[1]);
      expect(method.parameterOrder, key).toEqual(variables);
      for (const variable of variables) {
        expect(method.parameters[variable], key).toMatchObject({ location: 'path', required: true });
      }
      expect(method.id, key).toBe(`longrun.${key}`);
    }
  });

  it('uses the version asked for in every path, and refuses one the server does not route', async () => {
    const { json: doc } = await discovery('v2beta1');
    expect(doc.id).toBe('longrun:v2beta1');
    for (const [, method] of methodsOf(doc.resources)) expect(method.path).toMatch(/^v2beta1\//);
    const bad = await discovery('latest');
    expect(bad.status).toBe(400);
    expect(bad.json.error.status).toBe('INVALID_ARGUMENT');
    expect(errorInfo(bad.json).metadata).toEqual({ version: 'latest' });
  });
});

describe.skipIf(!pythonClient && process.env['CI'] !== 'true')("Google's Python discovery client", () => {
  let results: any;

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, server.url], { timeout: 60_000 });
    results = JSON.parse(stdout);
  }, 90_000);

  const PROGRESS = { '@type': 'type.googleapis.com/demo.Progress', percent: 50 };

  it.each([
    ['top', 'operations', 'operations/py-top'],
    ['nested', 'projects/py/operations', 'projects/py/operations/py-nested'],
  ])('runs every method on a %s-level operation', (scope, collection, name) => {
    const run = results[scope];
    expect(run.create).toEqual({ name, metadata: EMPTY_ANY });
    expect(run.patch).toEqual({ name, metadata: PROGRESS });
    expect(run.get).toEqual(run.patch);
    // Five operations two to a page, newest first, followed with list_next to the end.
    expect(run.pages).toEqual([
      [`${collection}/more-3`, `${collection}/more-2`],
      [`${collection}/more-1`, `${collection}/more-0`],
      [name],
    ]);
    expect(run.filtered.operations.map((operation: any) => operation.name)).toEqual(run.pages.flat().slice(0, 4));
    expect(run.wait).toEqual(run.patch);
    expect(run.cancel).toEqual({});
    expect(run.cancelled).toEqual({
      name,
      metadata: PROGRESS,
      done: true,
      error: { code: 1, message: 'The operation was cancelled.' },
    });
    expect(run.delete).toEqual({});
    expect(run.deleted.status).toBe(404);
  });

  it('raises HttpError with the AIP-193 body, in both $.xgafv formats', () => {
    expect(results.notFound.status).toBe(404);
    const body = results.notFound.body;
    expect(body.error).toMatchObject({
      code: 404,
      status: 'NOT_FOUND',
      message: 'Operation "operations/missing" not found',
    });
    expect(errorInfo(body)).toEqual({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'OPERATION_NOT_FOUND',
      domain: 'longrun',
      metadata: { name: 'operations/missing' },
    });
    expect(body.error).not.toHaveProperty('errors');
    expect(results.notFoundV1.status).toBe(404);
    expect(results.notFoundV1.body.error.errors).toEqual([
      { message: 'Operation "operations/missing" not found', domain: 'global', reason: 'notFound' },
    ]);
  });

  it('creates an operation already done, and what it returns is what the server holds', async () => {
    expect(results.finished).toEqual({ name: 'operations/py-done', done: true, response: EMPTY_ANY });
    expect((await server.call('GET', '/v1/operations/py-done')).json).toEqual(results.finished);
  });

  it("checks names against the document's patterns before sending", () => {
    expect(results.refused.nestedNameOnTopLevel).toMatch(/does not match the pattern "\^operations\/\.\+\$"/);
    expect(results.refused.collectionAsParent).toMatch(/"parent" value "projects\/py\/operations" does not match/);
  });
});

describe("Google's Node discovery client (googleapis discoverAPI)", () => {
  it('builds from the document and runs create, list, get and an error', async () => {
    const api: any = await google.discoverAPI(`${server.url}/$discovery/rest?version=v1`);
    const created = await api.parents.operations.create({ parent: 'projects/node', requestBody: { operationId: 'n' } });
    expect(created.data).toEqual({ name: 'projects/node/operations/n' });
    const listed = await api.parents.operations.list({ name: 'projects/node/operations', pageSize: 10 });
    expect(listed.data).toEqual({ operations: [created.data] });
    const got = await api.parents.operations.get({ name: 'projects/node/operations/n' });
    expect(got.data).toEqual(created.data);
    const failed = await api.operations.get({ name: 'operations/nope' }).catch((error: GaxiosError) => error);
    expect(failed.response.status).toBe(404);
    expect(errorInfo(failed.response.data).reason).toBe('OPERATION_NOT_FOUND');
  });
});
