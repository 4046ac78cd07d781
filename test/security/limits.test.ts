/** Configurable limits: each refusal is the contract's error, with RetryInfo where a retry helps. */
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_ANY, errorInfo, startTestServer, type TestServer } from '../helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('limits', () => {
  it('rate-limits a principal with 429, RetryInfo and Retry-After', async () => {
    server = await startTestServer({ rateLimit: 5, rateBurst: 5 });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await server.call('GET', '/v1/operations'));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const limited = answers.find((a) => a.status === 429)!;
    expect(limited.json.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(errorInfo(limited.json).reason).toBe('RATE_LIMITED');
    const retryInfo = limited.json.error.details.find(
      (d: any) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo',
    );
    expect(retryInfo.retryDelay).toMatch(/^\d+(\.\d+)?s$/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await server.call('GET', '/v1/operations')).status).toBe(200);
  });

  it('bounds the pending waits of a principal', async () => {
    server = await startTestServer({ maxWaitersPerPrincipal: 2 });
    await server.createOperation('', 'w');
    const waits = [1, 2].map(() => server!.call('POST', '/v1/operations/w:wait', { timeout: '5s' }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const third = await server.call('POST', '/v1/operations/w:wait', { timeout: '5s' });
    expect(third.status).toBe(429);
    expect(errorInfo(third.json).reason).toBe('TOO_MANY_WAITERS');
    await server.call('PATCH', '/v1/operations/w', { operation: { done: true, response: EMPTY_ANY } });
    for (const wait of await Promise.all(waits)) expect(wait.status).toBe(200);
    expect((await server.call('POST', '/v1/operations/w:wait')).status).toBe(200);
  });

  it('frees the slot of a waiter that disconnects, and the waiters gauge stops counting it', async () => {
    server = await startTestServer({ maxWaitersPerPrincipal: 1 });
    await server.createOperation('', 'left');
    const gauge = async () => /^longrun_waiters (\d+)$/m.exec((await server!.call('GET', '/metrics')).text)?.[1];
    const abort = new AbortController();
    const leaving = fetch(`${server.url}/v1/operations/left:wait`, {
      method: 'POST',
      body: '{"timeout":"60s"}',
      headers: { 'content-type': 'application/json' },
      signal: abort.signal,
    }).catch((error: Error) => error.name);
    await expect.poll(gauge).toBe('1');
    const refused = await server.call('POST', '/v1/operations/left:wait', { timeout: '0s' });
    expect(errorInfo(refused.json).reason).toBe('TOO_MANY_WAITERS');
    abort.abort();
    expect(await leaving).toBe('AbortError');
    await expect.poll(gauge).toBe('0');
    expect((await server.call('POST', '/v1/operations/left:wait', { timeout: '0s' })).status).toBe(200);
  });

  it('limits the size of metadata, names, filters and pages', async () => {
    server = await startTestServer({
      maxOperationFieldBytes: 1000,
      maxNameLength: 40,
      maxFilterLength: 20,
      maxPageSize: 2,
    });
    const big = {
      operationId: 'big',
      operation: { metadata: { '@type': 'type.googleapis.com/x.M', blob: 'x'.repeat(1000) } },
    };
    const tooBig = await server.call('POST', '/v1/operations', big);
    expect(tooBig.status).toBe(400);
    expect(errorInfo(tooBig.json).reason).toBe('OPERATION_TOO_LARGE');
    expect((await server.call('GET', '/v1/operations/big')).status).toBe(404);
    const longName = await server.call('GET', `/v1/projects/${'p'.repeat(40)}/operations/x`);
    expect(errorInfo(longName.json).reason).toBe('INVALID_NAME');
    const longFilter = await server.call(
      'GET',
      `/v1/operations?filter=${encodeURIComponent('name = "aaaaaaaaaaaaaaaaaaaa"')}`,
    );
    expect(errorInfo(longFilter.json).reason).toBe('INVALID_FILTER');
    for (const id of ['a', 'b', 'c']) await server.createOperation('', id);
    const page = await server.call('GET', '/v1/operations?pageSize=100');
    expect(page.json.operations).toHaveLength(2);
    expect(page.json.nextPageToken).toBeTruthy();
  });
});

describe('retention', () => {
  it('removes done operations past retention and ends overdue ones, counting both', async () => {
    server = await startTestServer({ retentionMs: 300, maxPendingAgeMs: 300 });
    await server.createOperation('projects/ret', 'done', { done: true, response: EMPTY_ANY });
    await server.createOperation('projects/ret', 'stuck');
    await new Promise((resolve) => setTimeout(resolve, 400));
    await server.createOperation('projects/ret', 'fresh', { done: true, response: EMPTY_ANY });
    expect(await server.service.sweep()).toEqual({ expired: 1, timedOut: 1 });
    expect((await server.call('GET', '/v1/projects/ret/operations/done')).status).toBe(404);
    expect((await server.call('GET', '/v1/projects/ret/operations/fresh')).status).toBe(200);
    expect((await server.call('GET', '/v1/projects/ret/operations/stuck')).json).toEqual({
      name: 'projects/ret/operations/stuck',
      done: true,
      error: { code: 4, message: 'The operation did not finish within the maximum age this server allows.' },
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    // The timed-out one is now done and past retention too; the server's own sweep counts it.
    expect(await server.service.sweep()).toEqual({ expired: 2, timedOut: 0 });
  });

  it('keeps everything when retention is 0', async () => {
    server = await startTestServer({ retentionMs: 0 });
    await server.createOperation('', 'kept', { done: true, response: EMPTY_ANY });
    expect(await server.service.sweep()).toEqual({ expired: 0, timedOut: 0 });
  });
});
