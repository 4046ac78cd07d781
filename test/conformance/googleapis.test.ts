/**
 * Conformance through Google's own generated REST clients (the googleapis npm package), pointed
 * at a live longrun server with `rootUrl`: the requests are exactly what those clients send.
 */
import type { GaxiosError } from 'gaxios';
import { google } from 'googleapis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_ANY, errorInfo, startTestServer, type TestServer } from '../helpers.js';

let server: TestServer;
let rootUrl: string;

beforeAll(async () => {
  server = await startTestServer({ cancelGracePeriodMs: 60_000 });
  rootUrl = `${server.url}/`;
});
afterAll(() => server.stop());

/** The response of a call that must fail, for asserting on the error. */
async function failure(call: Promise<unknown>): Promise<GaxiosError['response'] & { data: any }> {
  try {
    await call;
  } catch (error) {
    const response = (error as GaxiosError).response;
    if (response) return response as never;
    throw error;
  }
  throw new Error('the call succeeded');
}

const META = {
  '@type': 'type.googleapis.com/google.devtools.containeranalysis.v1alpha1.OperationMetadata',
  createTime: '2026-01-01T00:00:00Z',
};

describe('containeranalysis v1alpha1 projects.operations (provider create and patch)', () => {
  const ca = () => google.containeranalysis({ version: 'v1alpha1', rootUrl });

  it('creates an operation with a chosen id, and an exact retry returns it', async () => {
    const body = { operationId: 'build-1', operation: { metadata: META } };
    const created = await ca().projects.operations.create({ parent: 'projects/ca', requestBody: body });
    expect(created.status).toBe(200);
    expect(created.data).toEqual({ name: 'projects/ca/operations/build-1', metadata: META });
    const retried = await ca().projects.operations.create({ parent: 'projects/ca', requestBody: body });
    expect(retried.data).toEqual(created.data);
  });

  it('refuses a different create under an existing id with ALREADY_EXISTS', async () => {
    await ca().projects.operations.create({ parent: 'projects/ca', requestBody: { operationId: 'dup' } });
    const response = await failure(
      ca().projects.operations.create({
        parent: 'projects/ca',
        requestBody: { operationId: 'dup', operation: { metadata: META } },
      }),
    );
    expect(response.status).toBe(409);
    expect(response.data.error.status).toBe('ALREADY_EXISTS');
    expect(errorInfo(response.data)).toMatchObject({ reason: 'OPERATION_ALREADY_EXISTS', domain: 'longrun' });
  });

  it('assigns an id when the create names none', async () => {
    const created = await ca().projects.operations.create({ parent: 'projects/ca', requestBody: {} });
    expect(created.data.name).toMatch(/^projects\/ca\/operations\/[0-9a-f-]{36}$/);
    expect(created.data.done).toBeUndefined();
  });

  it('patches progress, then done with a response; done is terminal', async () => {
    const name = 'projects/ca/operations/patched';
    await ca().projects.operations.create({ parent: 'projects/ca', requestBody: { operationId: 'patched' } });
    const progress = await ca().projects.operations.patch({
      name,
      requestBody: { operation: { metadata: { ...META, progress: 50 } }, updateMask: 'metadata' },
    });
    expect(progress.data).toEqual({ name, metadata: { ...META, progress: 50 } });
    const response = { '@type': 'type.googleapis.com/grafeas.v1.Note', name: 'projects/ca/notes/n1' };
    const done = await ca().projects.operations.patch({
      name,
      requestBody: { operation: { done: true, response }, updateMask: 'done,response' },
    });
    expect(done.data).toEqual({ name, metadata: { ...META, progress: 50 }, done: true, response });
    const refused = await failure(
      ca().projects.operations.patch({ name, requestBody: { operation: { metadata: META }, updateMask: 'metadata' } }),
    );
    expect(refused.status).toBe(400);
    expect(refused.data.error.status).toBe('FAILED_PRECONDITION');
    expect(errorInfo(refused.data).reason).toBe('OPERATION_DONE');
  });

  it('rejects an unknown update_mask path with a BadRequest naming the field', async () => {
    await ca().projects.operations.create({ parent: 'projects/ca', requestBody: { operationId: 'masked' } });
    const response = await failure(
      ca().projects.operations.patch({
        name: 'projects/ca/operations/masked',
        requestBody: { operation: { done: true }, updateMask: 'done,state' },
      }),
    );
    expect(response.status).toBe(400);
    expect(response.data.error.status).toBe('INVALID_ARGUMENT');
    const badRequest = response.data.error.details.find((d: any) => d['@type'].endsWith('BadRequest'));
    expect(badRequest.fieldViolations[0].field).toBe('update_mask');
  });

  it('patching a missing operation is NOT_FOUND', async () => {
    const response = await failure(
      ca().projects.operations.patch({
        name: 'projects/ca/operations/none',
        requestBody: { operation: { done: true } },
      }),
    );
    expect(response.status).toBe(404);
    expect(response.data.error.status).toBe('NOT_FOUND');
  });
});

describe('vault v1 operations (top-level names)', () => {
  const vault = () => google.vault({ version: 'v1', rootUrl });

  it('gets, lists, cancels and deletes top-level operations', async () => {
    await server.createOperation('', 'vault-a', { metadata: { '@type': 'type.googleapis.com/v.M', step: 1 } });
    await server.createOperation('', 'vault-b');
    const got = await vault().operations.get({ name: 'operations/vault-a' });
    expect(got.data).toEqual({ name: 'operations/vault-a', metadata: { '@type': 'type.googleapis.com/v.M', step: 1 } });
    const listed = await vault().operations.list({ name: 'operations' });
    expect(listed.data.operations?.map((op) => op.name)).toEqual(['operations/vault-b', 'operations/vault-a']);
    expect(listed.data.nextPageToken).toBeUndefined();
    const cancelled = await vault().operations.cancel({ name: 'operations/vault-b' });
    expect(cancelled.data).toEqual({});
    const deleted = await vault().operations.delete({ name: 'operations/vault-a' });
    expect(deleted.data).toEqual({});
    const gone = await failure(vault().operations.get({ name: 'operations/vault-a' }));
    expect(gone.status).toBe(404);
  });
});

describe('cloudresourcemanager v1 operations.get', () => {
  it('gets an operation, and reports a missing one as NOT_FOUND in both error formats', async () => {
    const crm = google.cloudresourcemanager({ version: 'v1', rootUrl });
    await server.createOperation('', 'crm.1', { done: true, response: EMPTY_ANY });
    const got = await crm.operations.get({ name: 'operations/crm.1' });
    expect(got.data).toEqual({ name: 'operations/crm.1', done: true, response: EMPTY_ANY });

    const v2 = await failure(crm.operations.get({ name: 'operations/missing' }));
    expect(v2.data.error).toEqual({
      code: 404,
      message: 'Operation "operations/missing" not found',
      status: 'NOT_FOUND',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'OPERATION_NOT_FOUND',
          domain: 'longrun',
          metadata: { name: 'operations/missing' },
        },
      ],
    });
    expect(Object.keys(v2.data.error)).toEqual(['code', 'message', 'status', 'details']);
    const v1 = await failure(crm.operations.get({ name: 'operations/missing', '$.xgafv': '1' }));
    expect(Object.keys(v1.data.error)).toEqual(['code', 'message', 'errors', 'status', 'details']);
    expect(v1.data.error.errors).toEqual([
      { message: 'Operation "operations/missing" not found', domain: 'global', reason: 'notFound' },
    ]);
  });
});

describe('cloudbuild v1 operations.get and cancel (slashes inside the id)', () => {
  const cb = () => google.cloudbuild({ version: 'v1', rootUrl });

  it('gets and cancels, with a {} body and with no body at all', async () => {
    await server.createOperation('', 'build/my-proj/abc123');
    await server.createOperation('', 'build/my-proj/def456');
    const got = await cb().operations.get({ name: 'operations/build/my-proj/abc123' });
    expect(got.data.name).toBe('operations/build/my-proj/abc123');
    expect((await cb().operations.cancel({ name: 'operations/build/my-proj/abc123', requestBody: {} })).data).toEqual(
      {},
    );
    expect((await cb().operations.cancel({ name: 'operations/build/my-proj/def456' })).data).toEqual({});
    // The cancel is recorded at once, and the provider sees it on get.
    const response = await server.call('GET', '/v1/operations/build/my-proj/abc123');
    expect(response.headers.get('x-longrun-cancel-requested')).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Cancelling again is idempotent.
    expect((await cb().operations.cancel({ name: 'operations/build/my-proj/abc123', requestBody: {} })).data).toEqual(
      {},
    );
  });

  it('cancelling a missing operation is NOT_FOUND', async () => {
    const response = await failure(cb().operations.cancel({ name: 'operations/build/none', requestBody: {} }));
    expect(response.status).toBe(404);
  });
});

describe('spanner v1 projects.instances.operations', () => {
  const spanner = () => google.spanner({ version: 'v1', rootUrl });
  const parent = 'projects/sp/instances/inst';

  beforeAll(async () => {
    for (let i = 0; i < 12; i++) await server.createOperation(parent, `op${String(i).padStart(2, '0')}`);
    await server.createOperation('projects/sp/instances/other', 'elsewhere');
  });

  it('lists every page to the end, newest first, nothing repeated or skipped', async () => {
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await spanner().projects.instances.operations.list({
        name: `${parent}/operations`,
        pageSize: 5,
        pageToken,
      });
      seen.push(...(page.data.operations ?? []).map((op) => op.name!));
      pageToken = page.data.nextPageToken ?? undefined;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(seen).toEqual(
      Array.from({ length: 12 }, (_, i) => `${parent}/operations/op${String(11 - i).padStart(2, '0')}`),
    );
  });

  it('keeps paging stable while operations are created and deleted', async () => {
    const first = await spanner().projects.instances.operations.list({ name: `${parent}/operations`, pageSize: 4 });
    await server.createOperation(parent, 'newcomer');
    await spanner().projects.instances.operations.delete({ name: `${parent}/operations/newcomer` });
    await server.createOperation(parent, 'late');
    const rest: string[] = [];
    let pageToken = first.data.nextPageToken ?? undefined;
    while (pageToken) {
      const page = await spanner().projects.instances.operations.list({
        name: `${parent}/operations`,
        pageSize: 4,
        pageToken,
      });
      rest.push(...(page.data.operations ?? []).map((op) => op.name!));
      pageToken = page.data.nextPageToken ?? undefined;
    }
    const all = [...(first.data.operations ?? []).map((op) => op.name!), ...rest];
    expect(all).toEqual(
      Array.from({ length: 12 }, (_, i) => `${parent}/operations/op${String(11 - i).padStart(2, '0')}`),
    );
    await spanner().projects.instances.operations.delete({ name: `${parent}/operations/late` });
  });

  it('refuses a page token reused for another list', async () => {
    const first = await spanner().projects.instances.operations.list({ name: `${parent}/operations`, pageSize: 2 });
    const response = await failure(
      spanner().projects.instances.operations.list({
        name: 'projects/sp/instances/other/operations',
        pageToken: first.data.nextPageToken!,
      }),
    );
    expect(response.status).toBe(400);
    expect(errorInfo(response.data).reason).toBe('INVALID_PAGE_TOKEN');
  });

  it('refuses a negative page size and a forged token', async () => {
    const negative = await failure(
      spanner().projects.instances.operations.list({ name: `${parent}/operations`, pageSize: -1 }),
    );
    expect(negative.status).toBe(400);
    expect(errorInfo(negative.data).reason).toBe('INVALID_PAGE_SIZE');
    const forged = await failure(
      spanner().projects.instances.operations.list({ name: `${parent}/operations`, pageToken: 'AAAAbm90LWEtdG9rZW4' }),
    );
    expect(errorInfo(forged.data).reason).toBe('INVALID_PAGE_TOKEN');
  });

  it('gets, cancels and deletes', async () => {
    const name = `${parent}/operations/op00`;
    expect((await spanner().projects.instances.operations.get({ name })).data.name).toBe(name);
    expect((await spanner().projects.instances.operations.cancel({ name })).data).toEqual({});
    expect((await spanner().projects.instances.operations.delete({ name })).data).toEqual({});
    expect((await failure(spanner().projects.instances.operations.get({ name }))).status).toBe(404);
    expect((await failure(spanner().projects.instances.operations.delete({ name }))).status).toBe(404);
    await server.createOperation(parent, 'op00');
  });
});

describe('run v2 projects.locations.operations.wait', () => {
  const run = () => google.run({ version: 'v2', rootUrl });
  const name = 'projects/rn/locations/us/operations/deploy';

  it('returns when a provider completes the operation', async () => {
    await server.createOperation('projects/rn/locations/us', 'deploy');
    const waiting = run().projects.locations.operations.wait({ name, requestBody: { timeout: '20s' } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.call('PATCH', `/v2/${name}`, { operation: { done: true, response: EMPTY_ANY } });
    const waited = await waiting;
    expect(waited.data).toEqual({ name, done: true, response: EMPTY_ANY });
  });

  it('returns the latest state when the timeout passes first', async () => {
    await server.createOperation('projects/rn/locations/us', 'slow');
    const waited = await run().projects.locations.operations.wait({
      name: 'projects/rn/locations/us/operations/slow',
      requestBody: { timeout: '0.2s' },
    });
    expect(waited.data).toEqual({ name: 'projects/rn/locations/us/operations/slow' });
  });
});
