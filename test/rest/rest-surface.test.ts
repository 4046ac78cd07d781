/**
 * The REST surface beyond what Google's clients exercise: every malformed input gets the
 * AIP-193 envelope with the right code (never a 500), system parameters behave as Google's, and
 * a refused request writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_ANY, errorInfo, startTestServer, type TestServer } from '../helpers.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: 64 * 1024, waitMaxMs: 1000, cancelGracePeriodMs: 300 });
  await server.createOperation('projects/r', 'a', { metadata: { '@type': 'type.googleapis.com/r.M', n: 1 } });
});
afterAll(() => server.stop());

function expectError(response: { status: number; json: any }, status: number, code: string, reason: string) {
  expect(response.status).toBe(status);
  expect(response.json.error).toMatchObject({ code: status, status: code });
  expect(errorInfo(response.json)).toMatchObject({ reason, domain: 'longrun' });
}

describe('routing', () => {
  it('serves any version prefix', async () => {
    for (const version of ['v1', 'v1alpha1', 'v2', 'v3beta2']) {
      expect((await server.call('GET', `/${version}/projects/r/operations/a`)).status).toBe(200);
    }
  });

  it('lists with the parent, with the collection in the name, and with ?name=', async () => {
    const expected = ['projects/r/operations/a'];
    const names = (r: { json: any }) => r.json.operations.map((op: any) => op.name);
    expect(names(await server.call('GET', '/v1/projects/r/operations'))).toEqual(expected);
    expect(names(await server.call('GET', '/v1/operations?name=projects/r'))).toEqual(expected);
    expect(names(await server.call('GET', '/v1/operations?name=projects%2Fr%2Foperations'))).toEqual(expected);
  });

  it('answers unknown paths with NOT_FOUND and wrong methods with 405', async () => {
    expectError(await server.call('GET', '/v1/projects/r'), 404, 'NOT_FOUND', 'PATH_NOT_FOUND');
    expectError(await server.call('GET', '/nothing'), 404, 'NOT_FOUND', 'PATH_NOT_FOUND');
    expectError(await server.call('GET', '/v1/projects/r/operations/a:explode'), 404, 'NOT_FOUND', 'PATH_NOT_FOUND');
    const put = await server.call('PUT', '/v1/projects/r/operations/a', {});
    expectError(put, 405, 'UNIMPLEMENTED', 'METHOD_NOT_ALLOWED');
    expect(put.headers.get('allow')).toBe('GET, PATCH, DELETE');
    expectError(
      await server.call('GET', '/v1/projects/r/operations/a:cancel'),
      405,
      'UNIMPLEMENTED',
      'METHOD_NOT_ALLOWED',
    );
    expectError(await server.call('DELETE', '/v1/projects/r/operations'), 405, 'UNIMPLEMENTED', 'METHOD_NOT_ALLOWED');
  });

  it('refuses names that do not parse, and bad percent-encoding', async () => {
    expectError(await server.call('GET', '/v1/projects/r/operations/a%20b'), 400, 'INVALID_ARGUMENT', 'INVALID_NAME');
    expectError(await server.call('GET', '/v1/projects/r/operations/a%ZZ'), 400, 'INVALID_ARGUMENT', 'INVALID_NAME');
    expectError(await server.call('GET', '/v1/projects/r/operations/a%2Fb'), 400, 'INVALID_ARGUMENT', 'INVALID_NAME');
    expectError(await server.call('GET', '/v1/projects/operations/x'), 404, 'NOT_FOUND', 'PATH_NOT_FOUND');
    expectError(await server.call('GET', `/v1/operations/${'x'.repeat(300)}`), 400, 'INVALID_ARGUMENT', 'INVALID_NAME');
    expectError(
      await server.call('GET', '/v1/projects/r/operations?filter=%E0%A4%A'),
      400,
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
    );
  });
});

describe('system parameters', () => {
  it('adds the legacy errors array for $.xgafv=1 and refuses other values', async () => {
    const v1 = await server.call('GET', '/v1/projects/r/operations/missing?$.xgafv=1');
    expect(v1.json.error.errors).toEqual([{ message: v1.json.error.message, domain: 'global', reason: 'notFound' }]);
    const encoded = await server.call('GET', '/v1/projects/r/operations/missing?%24.xgafv=1');
    expect(encoded.json.error.errors).toHaveLength(1);
    const v2 = await server.call('GET', '/v1/projects/r/operations/missing?$.xgafv=2');
    expect(v2.json.error.errors).toBeUndefined();
    expectError(
      await server.call('GET', '/v1/projects/r/operations/a?$.xgafv=3'),
      400,
      'INVALID_ARGUMENT',
      'INVALID_SYSTEM_PARAMETER',
    );
  });

  it('accepts the parameters Google clients send, and refuses unknown ones', async () => {
    const accepted = [
      'alt=json',
      '$alt=json%3Benum-encoding%3Dint',
      'prettyPrint=false',
      '$prettyPrint=0',
      'key=k',
      'access_token=t',
      'oauth_token=t',
      'quotaUser=u',
      'upload_protocol=raw',
      'uploadType=media',
    ];
    for (const query of accepted)
      expect((await server.call('GET', `/v1/projects/r/operations/a?${query}`)).status, query).toBe(200);
    expectError(
      await server.call('GET', '/v1/projects/r/operations/a?alt=proto'),
      400,
      'INVALID_ARGUMENT',
      'INVALID_SYSTEM_PARAMETER',
    );
    expectError(
      await server.call('GET', '/v1/projects/r/operations/a?verbose=1'),
      400,
      'INVALID_ARGUMENT',
      'UNKNOWN_QUERY_PARAMETER',
    );
    expectError(
      await server.call('GET', '/v1/projects/r/operations/a?pageSize=1'),
      400,
      'INVALID_ARGUMENT',
      'UNKNOWN_QUERY_PARAMETER',
    );
    expectError(
      await server.call('GET', '/v1/projects/r/operations/a?callback=steal'),
      400,
      'INVALID_ARGUMENT',
      'JSONP_NOT_SUPPORTED',
    );
  });

  it('pretty-prints on request', async () => {
    const pretty = await server.call('GET', '/v1/projects/r/operations/a?prettyPrint=true');
    expect(pretty.text).toContain('\n  "name": "projects/r/operations/a"');
    expect((await server.call('GET', '/v1/projects/r/operations/a')).text).not.toContain('\n');
  });

  it('returns partial responses for fields and X-Goog-FieldMask', async () => {
    expect((await server.call('GET', '/v1/projects/r/operations/a?fields=name,done')).json).toEqual({
      name: 'projects/r/operations/a',
    });
    expect((await server.call('GET', '/v1/projects/r/operations/a?fields=metadata/n')).json).toEqual({
      metadata: { n: 1 },
    });
    expect((await server.call('GET', '/v1/projects/r/operations/a?fields=metadata(%40type)')).json).toEqual({
      metadata: { '@type': 'type.googleapis.com/r.M' },
    });
    const list = await server.call('GET', '/v1/projects/r/operations?fields=operations(name),nextPageToken');
    expect(list.json).toEqual({ operations: [{ name: 'projects/r/operations/a' }] });
    const header = await server.call('GET', '/v1/projects/r/operations/a', undefined, { 'x-goog-fieldmask': 'name' });
    expect(header.json).toEqual({ name: 'projects/r/operations/a' });
    expectError(
      await server.call('GET', '/v1/projects/r/operations/a?fields=nope'),
      400,
      'INVALID_ARGUMENT',
      'INVALID_FIELD_SELECTOR',
    );
    expectError(
      await server.call('GET', '/v1/projects/r/operations/a?fields=name(x)'),
      400,
      'INVALID_ARGUMENT',
      'INVALID_FIELD_SELECTOR',
    );
    expectError(
      await server.call('GET', '/v1/projects/r/operations/a?fields=name,,'),
      400,
      'INVALID_ARGUMENT',
      'INVALID_FIELD_SELECTOR',
    );
  });
});

describe('bad bodies', () => {
  it('refuses malformed JSON, non-objects, unknown fields and wrong types, writing nothing', async () => {
    const cases: [unknown, string][] = [
      ['{"operationId": "x1", ', 'MALFORMED_JSON'],
      ['[1,2]', 'MALFORMED_JSON'],
      [{ operationId: 'x1', extra: true }, 'UNKNOWN_FIELD'],
      [{ operationId: 'x1', operation: { state: 'RUNNING' } }, 'UNKNOWN_FIELD'],
      [{ operationId: 'x1', operation: { done: 'yes' } }, 'INVALID_ARGUMENT'],
      [{ operationId: 'x1', operation: { metadata: { progress: 1 } } }, 'INVALID_ARGUMENT'],
      [{ operationId: 'x1', operation: { metadata: { '@type': 'no-slash' } } }, 'INVALID_ARGUMENT'],
      [
        {
          operationId: 'x1',
          operation: { metadata: { '@type': 'type.googleapis.com/google.protobuf.Duration', seconds: 1 } },
        },
        'INVALID_ARGUMENT',
      ],
      [{ operationId: 'x1', operation: { response: EMPTY_ANY } }, 'INVALID_ARGUMENT'],
      [{ operationId: 'x1', operation: { done: true, response: EMPTY_ANY, error: { code: 2 } } }, 'INVALID_ARGUMENT'],
      [{ operationId: 'x1', operation: { done: true, error: { code: 0 } } }, 'INVALID_ARGUMENT'],
      [{ operationId: 'x1', operation: { done: true, error: { code: 5, reason: 'x' } } }, 'UNKNOWN_FIELD'],
      [
        { operationId: 'x1', operation: { done: true, error: { code: 5, details: [{ reason: 'x' }] } } },
        'INVALID_ARGUMENT',
      ],
      [{ operationId: 'x1', operation: { name: 'projects/other/operations/x1' } }, 'INVALID_ARGUMENT'],
      [{ operationId: 'bad id!' }, 'INVALID_NAME'],
      [{ operationId: 7 }, 'INVALID_ARGUMENT'],
    ];
    for (const [body, reason] of cases) {
      const response = await server.call('POST', '/v1/projects/r/operations', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(errorInfo(response.json).reason, JSON.stringify(body)).toBe(reason);
    }
    expect((await server.call('GET', '/v1/projects/r/operations/x1')).status).toBe(404);
  });

  it('refuses a body that is not JSON, and one over the size limit with 413', async () => {
    const text = await server.call('POST', '/v1/projects/r/operations', 'operationId=x2', {
      'content-type': 'text/plain',
    });
    expectError(text, 415, 'INVALID_ARGUMENT', 'UNSUPPORTED_MEDIA_TYPE');
    const big = {
      operationId: 'x2',
      operation: { metadata: { '@type': 'type.googleapis.com/r.M', blob: 'x'.repeat(70_000) } },
    };
    expectError(
      await server.call('POST', '/v1/projects/r/operations', big),
      413,
      'INVALID_ARGUMENT',
      'REQUEST_TOO_LARGE',
    );
    expect((await server.call('GET', '/v1/projects/r/operations/x2')).status).toBe(404);
  });

  it('accepts a cancel with no body, an empty JSON body, or {}, and refuses fields', async () => {
    await server.createOperation('projects/r', 'c1');
    expect((await server.call('POST', '/v1/projects/r/operations/c1:cancel')).json).toEqual({});
    expect(
      (await server.call('POST', '/v1/projects/r/operations/c1:cancel', '', { 'content-type': 'application/json' }))
        .json,
    ).toEqual({});
    expect((await server.call('POST', '/v1/projects/r/operations/c1:cancel', {})).json).toEqual({});
    const named = await server.call('POST', '/v1/projects/r/operations/c1:cancel', {
      name: 'projects/r/operations/c1',
    });
    expectError(named, 400, 'INVALID_ARGUMENT', 'UNKNOWN_FIELD');
  });
});

describe('create and patch rules', () => {
  it('keeps numbers beyond double precision exactly', async () => {
    const body =
      '{"operationId":"big","operation":{"metadata":{"@type":"type.googleapis.com/r.M","count":18446744073709551615,"ratio":0.1}}}';
    const created = await server.call('POST', '/v1/projects/r/operations', body);
    expect(created.text).toContain('"count":18446744073709551615');
    expect((await server.call('GET', '/v1/projects/r/operations/big')).text).toContain(
      '"count":18446744073709551615,"ratio":0.1',
    );
  });

  it('recognises a retried create whatever the order of its keys', async () => {
    const first = await server.call('POST', '/v1/projects/r/operations', {
      operationId: 'ordered',
      operation: { metadata: { '@type': 'type.googleapis.com/r.M', a: 1, b: { c: 2, d: 3 } } },
    });
    const retry = await server.call('POST', '/v1/projects/r/operations', {
      operation: { metadata: { b: { d: 3, c: 2 }, a: 1, '@type': 'type.googleapis.com/r.M' } },
      operationId: 'ordered',
    });
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual(first.json);
  });

  it('accepts snake_case field names as proto3 JSON parsers must', async () => {
    const created = await server.call('POST', '/v1/projects/r/operations', { operation_id: 'snake' });
    expect(created.json.name).toBe('projects/r/operations/snake');
    const patched = await server.call('PATCH', '/v1/projects/r/operations/snake', {
      operation: { done: true, response: EMPTY_ANY },
      update_mask: 'done,response',
    });
    expect(patched.json.done).toBe(true);
  });

  it('applies an omitted mask to the populated fields and * to all of them', async () => {
    await server.createOperation('projects/r', 'm1', { metadata: { '@type': 'type.googleapis.com/r.M', n: 1 } });
    const noMask = await server.call('PATCH', '/v1/projects/r/operations/m1', {
      operation: { done: true, response: EMPTY_ANY },
    });
    expect(noMask.json).toEqual({
      name: 'projects/r/operations/m1',
      metadata: { '@type': 'type.googleapis.com/r.M', n: 1 },
      done: true,
      response: EMPTY_ANY,
    });
    await server.createOperation('projects/r', 'm2', { metadata: { '@type': 'type.googleapis.com/r.M', n: 1 } });
    const star = await server.call('PATCH', '/v1/projects/r/operations/m2?updateMask=*', {
      operation: { done: true, response: EMPTY_ANY },
    });
    expect(star.json).toEqual({ name: 'projects/r/operations/m2', done: true, response: EMPTY_ANY });
  });

  it('answers a repeated completing patch with the operation, and refuses a different one', async () => {
    await server.createOperation('projects/r', 'twice');
    const patch = { operation: { done: true, error: { code: 13, message: 'disk full' } } };
    const first = await server.call('PATCH', '/v1/projects/r/operations/twice', patch);
    const again = await server.call('PATCH', '/v1/projects/r/operations/twice', patch);
    expect(again.json).toEqual(first.json);
    const other = await server.call('PATCH', '/v1/projects/r/operations/twice', {
      operation: { done: true, response: EMPTY_ANY },
    });
    expectError(other, 400, 'FAILED_PRECONDITION', 'OPERATION_DONE');
  });

  it('refuses a mask given both in the query and the body, and a path inside metadata', async () => {
    await server.createOperation('projects/r', 'mask');
    const both = await server.call('PATCH', '/v1/projects/r/operations/mask?updateMask=done', {
      operation: { done: true },
      updateMask: 'done',
    });
    expectError(both, 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    const inside = await server.call('PATCH', '/v1/projects/r/operations/mask', {
      operation: {},
      updateMask: 'metadata.progress',
    });
    expectError(inside, 400, 'INVALID_ARGUMENT', 'INVALID_UPDATE_MASK');
  });
});

describe('cancel', () => {
  it('ends the operation CANCELLED when the grace period runs out, and a waiter sees it', async () => {
    await server.createOperation('projects/r', 'slow');
    const started = Date.now();
    const waiting = server.call('POST', '/v1/projects/r/operations/slow:wait', { timeout: '10s' });
    await server.call('POST', '/v1/projects/r/operations/slow:cancel');
    const waited = await waiting;
    expect(waited.json).toEqual({
      name: 'projects/r/operations/slow',
      done: true,
      error: { code: 1, message: 'The operation was cancelled.' },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('lets the provider acknowledge first, and cancelling a done operation changes nothing', async () => {
    await server.createOperation('projects/r', 'coop');
    await server.call('POST', '/v1/projects/r/operations/coop:cancel');
    const seen = await server.call('PATCH', '/v1/projects/r/operations/coop', {
      operation: { metadata: { '@type': 'type.googleapis.com/r.M', stopping: true } },
    });
    expect(seen.headers.get('x-longrun-cancel-requested')).not.toBeNull();
    const acknowledged = { done: true, error: { code: 1, message: 'stopped by the provider' } };
    await server.call('PATCH', '/v1/projects/r/operations/coop', { operation: acknowledged });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = await server.call('GET', '/v1/projects/r/operations/coop');
    expect(after.json.error).toEqual(acknowledged.error);
    expect((await server.call('POST', '/v1/projects/r/operations/coop:cancel')).json).toEqual({});
    expect((await server.call('GET', '/v1/projects/r/operations/coop')).json).toEqual(after.json);
  });
});

describe('wait', () => {
  it('takes the timeout from the query, caps it at the server maximum, and refuses a bad one', async () => {
    await server.createOperation('projects/r', 'w1');
    const started = Date.now();
    const capped = await server.call('POST', '/v1/projects/r/operations/w1:wait?timeout=30s');
    expect(capped.json).toEqual({ name: 'projects/r/operations/w1' });
    expect(Date.now() - started).toBeLessThan(5000);
    expectError(
      await server.call('POST', '/v1/projects/r/operations/w1:wait', { timeout: '-1s' }),
      400,
      'INVALID_ARGUMENT',
      'INVALID_DURATION',
    );
    expectError(
      await server.call('POST', '/v1/projects/r/operations/w1:wait', { timeout: 5 }),
      400,
      'INVALID_ARGUMENT',
      'INVALID_DURATION',
    );
    expectError(
      await server.call('POST', '/v1/projects/r/operations/missing:wait'),
      404,
      'NOT_FOUND',
      'OPERATION_NOT_FOUND',
    );
  });

  it('wakes many waiters at once when the operation completes', async () => {
    await server.createOperation('projects/r', 'many');
    const waiters = Array.from({ length: 200 }, () =>
      server.call('POST', '/v1/projects/r/operations/many:wait', { timeout: '10s' }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.call('PATCH', '/v1/projects/r/operations/many', { operation: { done: true, response: EMPTY_ANY } });
    for (const waited of await Promise.all(waiters)) expect(waited.json.done).toBe(true);
  });

  it('answers with the last known state when the store goes away during a wait', async () => {
    const other = await startTestServer();
    await other.createOperation('', 'outage');
    const waiting = other.call('POST', '/v1/operations/outage:wait', { timeout: '0.3s' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await other.store.close();
    const waited = await waiting;
    expect(waited.status).toBe(200);
    expect(waited.json).toEqual({ name: 'operations/outage' });
    const get = await other.call('GET', '/v1/operations/outage');
    expect(get.status).toBe(503);
    expect(errorInfo(get.json).reason).toBe('STORE_UNAVAILABLE');
    await other.stop();
  });

  it('answers NOT_FOUND when the operation is deleted while waiting', async () => {
    await server.createOperation('projects/r', 'gone');
    const waiting = server.call('POST', '/v1/projects/r/operations/gone:wait', { timeout: '10s' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.call('DELETE', '/v1/projects/r/operations/gone');
    expectError(await waiting, 404, 'NOT_FOUND', 'OPERATION_NOT_FOUND');
  });
});

describe('list', () => {
  it('coerces large page sizes, lists across collections with -, and accepts return_partial_success', async () => {
    await server.createOperation('projects/r/instances/i1', 'x');
    await server.createOperation('projects/r/instances/i2', 'y');
    const across = await server.call(
      'GET',
      '/v1/projects/r/instances/-/operations?pageSize=5000&returnPartialSuccess=true',
    );
    expect(across.json.operations.map((op: any) => op.name)).toEqual([
      'projects/r/instances/i2/operations/y',
      'projects/r/instances/i1/operations/x',
    ]);
    expect(across.json.unreachable).toBeUndefined();
    expectError(
      await server.call('GET', '/v1/projects/r/operations?pageSize=ten'),
      400,
      'INVALID_ARGUMENT',
      'INVALID_PAGE_SIZE',
    );
    expectError(
      await server.call('GET', '/v1/projects/r/operations?pageSize=1&pageSize=2'),
      400,
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
    );
    expectError(await server.call('POST', '/v1/projects/-/operations', {}), 400, 'INVALID_ARGUMENT', 'INVALID_NAME');
  });

  it('returns {} for an empty list', async () => {
    expect((await server.call('GET', '/v1/projects/empty/operations')).text).toBe('{}');
  });
});
