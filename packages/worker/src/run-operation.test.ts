import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, Code, OperationsClient } from '@longrun/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../server/src/server.js';
import { runOperation } from './run-operation.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const VALUE = 'type.googleapis.com/google.protobuf.Value';

/** Resolves when `signal` aborts. */
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

describe('runOperation', () => {
  let server: RunningServer;
  let client: OperationsClient;
  let parents = 0;
  const freshParent = () => `projects/w${++parents}`;

  beforeAll(async () => {
    // A long grace period: an operation that ends CANCELLED within a test was ended by the worker.
    server = await startServer({ port: 0, store: ':memory:', cancelGracePeriodMs: 60_000, logLevel: 'silent' });
    client = new OperationsClient({ endpoint: server.url });
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('runs a handler to the end: progress coalesced, the result recorded', async () => {
    const patches: string[] = [];
    const observed = new OperationsClient({
      endpoint: server.url,
      fetch: (input, init) => {
        if (init?.method === 'PATCH') patches.push(String(init.body));
        return fetch(input, init);
      },
    });
    const parent = freshParent();
    let name = '';
    const operation = await runOperation(
      parent,
      async (context) => {
        name = context.name;
        expect(context.operation).toEqual({ name, metadata: { '@type': VALUE, value: { percent: 0 } } });
        for (let percent = 1; percent <= 50; percent++) {
          context.progress({ percent });
          await sleep(5);
        }
        return { rows: 42 };
      },
      { client: observed, metadata: { percent: 0 }, progressIntervalMs: 10_000 },
    );
    observed.close();
    expect(name).toMatch(new RegExp(`^${parent}/operations/[0-9a-f-]{36}$`));
    expect(operation).toEqual({
      name,
      metadata: { '@type': VALUE, value: { percent: 50 } },
      done: true,
      response: { '@type': VALUE, value: { rows: 42 } },
    });
    expect(await client.get(name)).toEqual(operation);
    // Fifty reports within one interval: the first at once, the latest with the result.
    expect(patches).toHaveLength(2);
    expect(JSON.parse(patches[0]!).operation.metadata.value).toEqual({ percent: 1 });
  });

  it('shows progress to a consumer while it runs', async () => {
    const operationId = `seen-${Date.now()}`;
    const parent = freshParent();
    const seen: unknown[] = [];
    const consumer = (async () => {
      await sleep(100);
      return client.waitUntilDone(`${parent}/operations/${operationId}`, {
        initialDelayMs: 50,
        maxDelayMs: 100,
        onProgress: (metadata) => seen.push(metadata?.value),
      });
    })();
    await runOperation(
      parent,
      async ({ progress }) => {
        for (const step of [1, 2, 3]) {
          progress({ step });
          await sleep(400);
        }
        return { '@type': 'type.googleapis.com/test.Done' };
      },
      { client, operationId, progressIntervalMs: 100 },
    );
    expect(await consumer).toEqual({ '@type': 'type.googleapis.com/test.Done' });
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)).toEqual({ step: 3 });
  });

  it('keeps an Any result as it is, and records undefined as Empty', async () => {
    const report = { '@type': 'type.googleapis.com/test.Report', ok: true };
    expect((await runOperation(freshParent(), () => report, { client })).response).toEqual(report);
    expect((await runOperation(freshParent(), async () => {}, { client })).response).toEqual({
      '@type': 'type.googleapis.com/google.protobuf.Empty',
    });
  });

  it('records a thrown error: a canonical code is kept, anything else is UNKNOWN', async () => {
    const notFound = await runOperation(
      freshParent(),
      () => {
        throw new ApiError({ code: Code.NOT_FOUND, message: 'no such input' });
      },
      { client },
    );
    expect(notFound.error).toEqual({ code: Code.NOT_FOUND, message: 'no such input' });
    const unknown = await runOperation(
      freshParent(),
      async () => {
        throw new TypeError('bad input');
      },
      { client },
    );
    expect(unknown.error).toEqual({ code: Code.UNKNOWN, message: 'bad input' });
  });

  it('fails the operation when the server refuses the result, rather than leave it running', async () => {
    const operation = await runOperation(freshParent(), () => ({ '@type': 'NotATypeUrl' }), { client });
    expect(operation.done).toBe(true);
    expect(operation.error?.code).toBe(Code.INVALID_ARGUMENT);
    expect(operation.error?.message).toContain('@type');
  });

  it('ends CANCELLED when a consumer cancels: the handler sees the signal within a second or so', async () => {
    const parent = freshParent();
    let name = '';
    let cancelledAt = 0;
    let sawSignalAt = 0;
    const running = runOperation(
      parent,
      async ({ name: operationName, signal }) => {
        name = operationName;
        await aborted(signal);
        sawSignalAt = Date.now();
        signal.throwIfAborted();
      },
      { client },
    );
    await sleep(300);
    cancelledAt = Date.now();
    await client.cancel(name);
    const operation = await running;
    expect(sawSignalAt - cancelledAt).toBeLessThan(3000);
    expect(operation).toEqual({
      name,
      done: true,
      error: { code: Code.CANCELLED, message: 'The operation was cancelled.' },
    });
  });

  it('ends CANCELLED when the handler returns normally after the signal', async () => {
    let name = '';
    const running = runOperation(
      freshParent(),
      async ({ name: operationName, signal }) => {
        name = operationName;
        await aborted(signal);
        return { partial: true };
      },
      { client, cancelPollIntervalMs: 100 },
    );
    await sleep(200);
    await client.cancel(name);
    expect((await running).error?.code).toBe(Code.CANCELLED);
  });

  it('resumes an operation by name from its last metadata, and returns a done one untouched', async () => {
    const parent = freshParent();
    const checkpoint = { '@type': 'type.googleapis.com/test.Checkpoint', next: 7 };
    const { operation } = await client.create({ parent, operationId: 'resumed', operation: { metadata: checkpoint } });
    const resumed = await runOperation(
      parent,
      ({ operation: found }) => ({ resumedFrom: (found.metadata as typeof checkpoint).next }),
      { client, name: operation.name! },
    );
    expect(resumed).toMatchObject({ done: true, response: { '@type': VALUE, value: { resumedFrom: 7 } } });

    let ran = false;
    const again = await runOperation(parent, () => (ran = true), { client, name: operation.name! });
    expect(again).toEqual(resumed);
    expect(ran).toBe(false);
    await expect(runOperation('projects/other', () => 1, { client, name: operation.name! })).rejects.toThrow(TypeError);
  });
});

describe('runOperation across a server restart', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'longrun-worker-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('retries progress and the final result until the restarted server has them', async () => {
    const store = join(directory, 'longrun.db');
    let server = await startServer({ port: 0, store, logLevel: 'silent' });
    const port = Number(new URL(server.url).port);
    let stopped!: () => void;
    const serverStopped = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    let name = '';
    const running = runOperation(
      'projects/restart',
      async (context) => {
        name = context.name;
        context.progress({ step: 1 });
        await serverStopped;
        context.progress({ step: 2 }); // Fails while the server is down, and is kept.
        return { finished: true }; // So does the final patch: it is retried.
      },
      { client: { endpoint: server.url }, progressIntervalMs: 50, cancelPollIntervalMs: 100 },
    );
    await sleep(300);
    await server.close();
    stopped();
    await sleep(1000);
    server = await startServer({ port, store, logLevel: 'silent' });
    try {
      const operation = await running;
      expect(operation).toEqual({
        name,
        metadata: { '@type': VALUE, value: { step: 2 } },
        done: true,
        response: { '@type': VALUE, value: { finished: true } },
      });
      const client = new OperationsClient({ endpoint: server.url });
      expect(await client.get(name)).toEqual(operation);
      client.close();
    } finally {
      await server.close();
    }
  });
});
