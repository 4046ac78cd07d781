/**
 * google-gax's REST fallback OperationsClient, the one generated Google clients use for
 * long-running operations when they run over HTTP/1.1 JSON. Its GetOperation sends the whole
 * name percent-encoded into one path segment (`GET /v1/operations/operations%2Fabc`).
 */
import { PassThroughClient } from 'google-auth-library';
import { fallback } from 'google-gax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_ANY, startTestServer, type TestServer } from '../helpers.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** The client's methods, as called here with plain request objects (gax accepts them). */
interface Operations {
  getOperation(request: { name: string }): Promise<[{ name: string; done?: boolean }]>;
  listOperations(request: { name: string; filter: string }): Promise<[{ name: string }[]]>;
  cancelOperation(request: { name: string }): Promise<unknown>;
  deleteOperation(request: { name: string }): Promise<unknown>;
}

function client(): Operations {
  const port = Number(new URL(server.url).port);
  return fallback
    .lro({ fallback: true, authClient: new PassThroughClient() } as never)
    .operationsClient({ servicePath: '127.0.0.1', port, protocol: 'http' } as never) as unknown as Operations;
}

describe('google-gax REST fallback OperationsClient', () => {
  it('gets an operation by its full name', async () => {
    await server.createOperation('', 'gax-1', { done: true, response: EMPTY_ANY });
    await server.createOperation('projects/g', 'nested');
    const [top] = await client().getOperation({ name: 'operations/gax-1' });
    expect(top.name).toBe('operations/gax-1');
    expect(top.done).toBe(true);
    const [nested] = await client().getOperation({ name: 'projects/g/operations/nested' });
    expect(nested.name).toBe('projects/g/operations/nested');
    expect(nested.done).toBe(false);
  });

  it('lists, cancels and deletes', async () => {
    await server.createOperation('', 'gax-2');
    const [operations] = await client().listOperations({ name: 'operations', filter: '' });
    expect(operations.map((op) => op.name)).toContain('operations/gax-2');
    await client().cancelOperation({ name: 'operations/gax-2' });
    const state = await server.call('GET', '/v1/operations/gax-2');
    expect(state.headers.get('x-longrun-cancel-requested')).not.toBeNull();
    await client().deleteOperation({ name: 'operations/gax-2' });
    expect((await server.call('GET', '/v1/operations/gax-2')).status).toBe(404);
  });

  it('reports a missing operation with the AIP-193 body', async () => {
    // The fallback client surfaces HTTP errors as its transport's (gaxios) error, the body as its message.
    const error = await client()
      .getOperation({ name: 'operations/absent' })
      .then(
        () => undefined,
        (e: unknown) => e as { status: number; message: string },
      );
    expect(error?.status).toBe(404);
    expect(JSON.parse(error!.message)).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });
});
