import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../server/src/server.js';
import { Code } from './code.js';
import { ApiError } from './errors.js';
import { OperationsClient } from './operations-client.js';
import { operationResult } from './result.js';
import type { Any, ListOperationsRequest, Operation } from './types.js';

const progress = (percent: number): Any => ({ '@type': 'type.googleapis.com/test.Progress', percent });
const answer = (value: string): Any => ({ '@type': 'type.googleapis.com/test.Answer', value });

let server: RunningServer;
let client: OperationsClient;
let parentCount = 0;
/** A parent of its own for each test, so lists see only that test's operations. */
const freshParent = () => `projects/p${++parentCount}`;

beforeAll(async () => {
  server = await startServer({ port: 0, store: ':memory:', cancelGracePeriodMs: 300, logLevel: 'silent' });
  client = new OperationsClient({ endpoint: server.url });
});

afterAll(async () => {
  client.close();
  await server.close();
});

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('provider methods', () => {
  it('creates with an id, answers an exact retry with the same operation, and refuses a different body', async () => {
    const parent = freshParent();
    const created = await client.create({ parent, operationId: 'job-1', operation: { metadata: progress(0) } });
    expect(created.operation).toEqual({ name: `${parent}/operations/job-1`, metadata: progress(0) });
    expect(created.cancelRequestTime).toBeUndefined();

    const retried = await client.create({ parent, operationId: 'job-1', operation: { metadata: progress(0) } });
    expect(retried.operation).toEqual(created.operation);

    const conflict = await rejection(client.create({ parent, operationId: 'job-1' }));
    expect(conflict).toMatchObject({ code: Code.ALREADY_EXISTS, status: 'ALREADY_EXISTS', httpStatus: 409 });
    expect(conflict.reason).toBe('OPERATION_ALREADY_EXISTS');
    expect(conflict.domain).toBe('longrun');
    expect(conflict.metadata).toEqual({ name: `${parent}/operations/job-1` });
  });

  it('creates without an id (the server names it) and at the top level', async () => {
    const { operation } = await client.create({ parent: freshParent() });
    expect(operation.name).toMatch(/^projects\/p\d+\/operations\/[0-9a-f-]{36}$/);
    const top = await client.create({ parent: '', operationId: `top-${Date.now()}` });
    expect(top.operation.name).toMatch(/^operations\/top-\d+$/);
  });

  it('accepts an operation id with slashes', async () => {
    const parent = freshParent();
    const { operation } = await client.create({ parent, operationId: 'build/abc.1' });
    expect(operation.name).toBe(`${parent}/operations/build/abc.1`);
    expect(await client.get(operation.name!)).toEqual(operation);
  });

  it('reports progress, then completes; a done operation refuses changes', async () => {
    const { operation } = await client.create({ parent: freshParent() });
    const name = operation.name!;
    expect((await client.reportProgress(name, progress(50))).operation).toEqual({ name, metadata: progress(50) });
    const done = await client.complete(name, answer('42'));
    expect(done.operation).toEqual({ name, metadata: progress(50), done: true, response: answer('42') });
    // The same completion again changes nothing, so it is answered, not refused.
    expect((await client.complete(name, answer('42'))).operation).toEqual(done.operation);
    const refused = await rejection(client.reportProgress(name, progress(60)));
    expect(refused).toMatchObject({ code: Code.FAILED_PRECONDITION, httpStatus: 400, reason: 'OPERATION_DONE' });
  });

  it('fails with a status, keeping its details', async () => {
    const { operation } = await client.create({ parent: freshParent() });
    const detail = { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'DISK_FULL', domain: 'test' };
    const failed = await client.fail(operation.name!, {
      code: Code.RESOURCE_EXHAUSTED,
      message: 'disk full',
      details: [detail],
    });
    expect(failed.operation.error).toEqual({ code: Code.RESOURCE_EXHAUSTED, message: 'disk full', details: [detail] });
  });

  it('patches with and without an update mask', async () => {
    const { operation } = await client.create({ parent: freshParent(), operation: { metadata: progress(1) } });
    const name = operation.name!;
    const patched = await client.patch({ name, operation: { metadata: progress(2) } });
    expect(patched.operation).toEqual({ name, metadata: progress(2) });
    const masked = await client.patch({ name, operation: { done: true }, updateMask: 'done' });
    expect(masked.operation).toEqual({ name, metadata: progress(2), done: true });
  });

  it('learns of a cancel request from get and patch responses', async () => {
    const { operation } = await client.create({ parent: freshParent() });
    const name = operation.name!;
    expect((await client.getState(name)).cancelRequestTime).toBeUndefined();
    const before = Date.now();
    await client.cancel(name);
    const state = await client.getState(name);
    expect(state.cancelRequestTime).toBeInstanceOf(Date);
    expect(state.cancelRequestTime!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect((await client.reportProgress(name, progress(10))).cancelRequestTime).toEqual(state.cancelRequestTime);
    // The provider acknowledges by ending the operation CANCELLED.
    const acknowledged = await client.fail(name, { code: Code.CANCELLED, message: 'stopped' });
    expect(acknowledged.operation).toMatchObject({ done: true, error: { code: Code.CANCELLED } });
  });
});

describe('consumer methods', () => {
  it('gets an operation, and decodes a 404', async () => {
    const { operation } = await client.create({ parent: freshParent(), operation: { metadata: progress(5) } });
    expect(await client.get(operation.name!)).toEqual(operation);
    const missing = await rejection(client.get('projects/none/operations/missing'));
    expect(missing).toMatchObject({
      code: Code.NOT_FOUND,
      status: 'NOT_FOUND',
      httpStatus: 404,
      reason: 'OPERATION_NOT_FOUND',
      message: 'Operation "projects/none/operations/missing" not found',
    });
  });

  it('decodes a 400 with its BadRequest detail', async () => {
    const error = await rejection(client.list({ name: freshParent(), pageSize: -1 }));
    expect(error).toMatchObject({ code: Code.INVALID_ARGUMENT, httpStatus: 400, reason: 'INVALID_PAGE_SIZE' });
    expect(error.details).toContainEqual({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: 'page_size', description: 'must be a non-negative integer' }],
    });
  });

  describe('paging', () => {
    const parent = freshParent();
    const names: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 5; i++) names.push((await client.create({ parent, operationId: `op-${i}` })).operation.name!);
      names.reverse(); // Newest first.
    });

    it('lists one page', async () => {
      const page = await client.list({ name: parent, pageSize: 2 });
      expect(page.operations?.map((op) => op.name)).toEqual(names.slice(0, 2));
      expect(page.nextPageToken).toEqual(expect.any(String));
    });

    it('follows listNext to the end, where it gives null', async () => {
      const seen: string[] = [];
      let pages = 0;
      let request: ListOperationsRequest | null = { name: parent, pageSize: 2 };
      while (request) {
        const page = await client.list(request);
        pages++;
        seen.push(...(page.operations ?? []).map((op) => op.name!));
        request = client.listNext(request, page);
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(names);
    });

    it('iterates over every page, with the collection form of the name too', async () => {
      const viaParent: string[] = [];
      for await (const operation of client.listAll({ name: parent, pageSize: 2 })) viaParent.push(operation.name!);
      expect(viaParent).toEqual(names);
      const viaCollection: string[] = [];
      for await (const operation of client.listAll({ name: `${parent}/operations`, pageSize: 3 })) {
        viaCollection.push(operation.name!);
      }
      expect(viaCollection).toEqual(names);
    });

    it('ends at once on an empty parent', async () => {
      expect(await client.list({ name: freshParent() })).toEqual({});
      expect(client.listNext({ name: 'x' }, {})).toBeNull();
    });
  });

  it('deletes an operation', async () => {
    const { operation } = await client.create({ parent: freshParent() });
    await client.delete(operation.name!);
    expect((await rejection(client.get(operation.name!))).code).toBe(Code.NOT_FOUND);
    expect((await rejection(client.delete(operation.name!))).code).toBe(Code.NOT_FOUND);
  });

  it('cancels: the operation ends CANCELLED once the grace period passes without the provider', async () => {
    const { operation } = await client.create({ parent: freshParent() });
    await client.cancel(operation.name!);
    await client.cancel(operation.name!); // Idempotent.
    const error = await rejection(client.waitUntilDone(operation.name!, { timeoutMs: 10_000 }));
    expect(error).toMatchObject({ code: Code.CANCELLED, status: 'CANCELLED', httpStatus: undefined });
  });

  describe('wait', () => {
    it('answers at the timeout with the operation not done', async () => {
      const { operation } = await client.create({ parent: freshParent() });
      expect(await client.wait(operation.name!, { timeoutMs: 100 })).toEqual(operation);
    });

    it('answers as soon as another caller completes the operation', async () => {
      const { operation } = await client.create({ parent: freshParent() });
      const waiting = client.wait(operation.name!, { timeoutMs: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.complete(operation.name!, answer('now'));
      const started = Date.now();
      expect(await waiting).toMatchObject({ done: true, response: answer('now') });
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
});

describe('polling', () => {
  it('prefers the server :wait, so completion is seen long before the first delay would end', async () => {
    const urls: string[] = [];
    const observed = new OperationsClient({
      endpoint: server.url,
      fetch: (input, init) => {
        urls.push(`${init?.method} ${String(input)}`);
        return fetch(input, init);
      },
    });
    const { operation } = await client.create({ parent: freshParent() });
    setTimeout(() => client.complete(operation.name!, answer('fast')), 200);
    const started = Date.now();
    const response = await observed.waitUntilDone(operation.name!, { initialDelayMs: 15_000, jitter: 0 });
    expect(response).toEqual(answer('fast'));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(urls).toEqual([`POST ${server.url}/v1/${operation.name}:wait`]);
    observed.close();
  });

  it('fires the progress callback when the metadata changes, through to the last', async () => {
    const { operation } = await client.create({ parent: freshParent() });
    const name = operation.name!;
    const provider = (async () => {
      for (const percent of [10, 60, 90]) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await client.reportProgress(name, progress(percent));
      }
      await client.complete(name, answer('ok'));
    })();
    const seen: unknown[] = [];
    const done = await client.pollUntilDone(name, {
      initialDelayMs: 20,
      maxDelayMs: 50,
      onProgress: (metadata, op) => {
        expect(op.metadata).toEqual(metadata);
        seen.push(metadata?.percent);
      },
    });
    await provider;
    expect(done).toMatchObject({ done: true, response: answer('ok'), metadata: progress(90) });
    expect(seen.at(-1)).toBe(90);
    expect(seen).toEqual([...new Set(seen)].sort((a, b) => Number(a) - Number(b))); // Each change once, in order.
  });

  it('stops when its signal aborts, with the signal reason', async () => {
    const { operation } = await client.create({ parent: freshParent() });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await client.pollUntilDone(operation.name!, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBe(controller.signal.reason);
    expect((error as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up with DEADLINE_EXCEEDED after the total timeout', async () => {
    const { operation } = await client.create({ parent: freshParent() });
    const error = await rejection(client.pollUntilDone(operation.name!, { timeoutMs: 300, initialDelayMs: 100 }));
    expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
  });
});

describe('rate limits', () => {
  it('waits out a RESOURCE_EXHAUSTED answer for its Retry-After, then succeeds', async () => {
    const limited = await startServer({ port: 0, store: ':memory:', rateLimit: 1, rateBurst: 1, logLevel: 'silent' });
    const limitedClient = new OperationsClient({ endpoint: limited.url });
    try {
      const { operation } = await limitedClient.create({ parent: 'projects/p', operationId: 'limited' });
      const started = Date.now();
      expect(await limitedClient.get(operation.name!)).toEqual(operation);
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      const once = await rejection(limitedClient.get(operation.name!, { retry: { maxAttempts: 1 } }));
      expect(once).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, httpStatus: 429, retryAfterMs: 1000 });
    } finally {
      limitedClient.close();
      await limited.close();
    }
  });
});

describe('results', () => {
  it('decodes a response, an error, and a done operation with neither', async () => {
    const parent = freshParent();
    const ok = (await client.create({ parent, operationId: 'ok', operation: { done: true, response: answer('a') } }))
      .operation;
    expect(await client.waitUntilDone(ok.name!)).toEqual(answer('a'));

    const detail: Any = { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'QUOTA', domain: 'test' };
    const failed = (
      await client.create({
        parent,
        operationId: 'failed',
        operation: { done: true, error: { code: Code.PERMISSION_DENIED, message: 'no', details: [detail] } },
      })
    ).operation;
    const error = await rejection(client.waitUntilDone(failed.name!));
    expect(error).toMatchObject({ code: Code.PERMISSION_DENIED, status: 'PERMISSION_DENIED', message: 'no' });
    expect(error.reason).toBe('QUOTA');
    expect(error.toStatus()).toEqual(failed.error);

    const empty = (await client.create({ parent, operationId: 'empty', operation: { done: true } })).operation;
    expect(await client.waitUntilDone(empty.name!)).toBeUndefined();
  });

  it('refuses to decode an operation that is not done', () => {
    const running: Operation = { name: 'operations/x' };
    expect(() => operationResult(running)).toThrow(TypeError);
  });
});

describe('close', () => {
  it('ends calls in flight and refuses new ones', async () => {
    const closing = new OperationsClient({ endpoint: server.url });
    const { operation } = await closing.create({ parent: freshParent() });
    const waiting = closing.wait(operation.name!, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    closing.close();
    expect(await waiting).toMatchObject({ name: 'AbortError' });
    await expect(closing.get(operation.name!)).rejects.toMatchObject({ name: 'AbortError' });
  });
});
