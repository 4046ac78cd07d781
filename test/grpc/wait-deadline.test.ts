/**
 * WaitOperation over gRPC with a plain @grpc/grpc-js client: the call's deadline bounds the wait
 * (the answer is the latest state, before the deadline), a completion ends it early, and a call
 * the client cancels releases its waiter. The pieces are assembled by hand, as server.ts does,
 * so the test can count the waiters in the event hub.
 */
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PageTokens } from '../../packages/server/src/contract/page-token.js';
import { EventHub } from '../../packages/server/src/events/event-hub.js';
import { OperationSchema, Operations } from '../../packages/server/src/grpc/gen/google/longrunning/operations_pb.js';
import { OperationsProvider } from '../../packages/server/src/grpc/gen/longrun/v1/provider_pb.js';
import { type RunningGrpcServer, startGrpcServer } from '../../packages/server/src/grpc/grpc-server.js';
import { TypeRegistry } from '../../packages/server/src/grpc/type-registry.js';
import { OperationsService } from '../../packages/server/src/service/operations-service.js';
import { SqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import { GRPC_PATHS, grpcClient, unary } from './grpc-helpers.js';

describe.each(GRPC_PATHS)('WaitOperation over gRPC ($path)', ({ fastPath }) => {
  const store = new SqliteStore(':memory:');
  const events = new EventHub();
  const service = new OperationsService(store, events, {
    cancelGracePeriodMs: 30_000,
    waitMaxMs: 10_000,
    pageTokens: new PageTokens(randomBytes(32)),
  });
  let server: RunningGrpcServer;
  let client: grpc.Client;

  beforeAll(async () => {
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, service, types: new TypeRegistry(), fastPath });
    client = grpcClient(`127.0.0.1:${server.port}`);
    // Connect first, so the deadline test measures the wait, not the connection set-up.
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + 5000, (error) => (error ? reject(error) : resolve())),
    );
  });

  afterAll(async () => {
    client.close();
    service.close();
    await server.close();
    await store.close();
  });

  const deadlineIn = (ms: number) => ({ deadline: new Date(Date.now() + ms) });

  it('answers the latest state just before the call’s deadline, not DEADLINE_EXCEEDED', async () => {
    await service.create({ parent: '', operationId: 'wait-deadline' });
    const started = Date.now();
    const { response } = unary(
      client,
      Operations.method.waitOperation,
      { name: 'operations/wait-deadline', timeout: { seconds: 30n } },
      deadlineIn(5000),
    );
    // Answered (a tenth of the time left, here 500 ms, before the deadline) rather than failing.
    const { message } = await response;
    expect(message.name).toBe('operations/wait-deadline');
    expect(message.done).toBe(false);
    // It waited for the deadline, not for the request's 30 s, nor returned at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
  });

  it('uses the request’s timeout when it is shorter than the deadline', async () => {
    await service.create({ parent: '', operationId: 'wait-timeout' });
    const started = Date.now();
    const { message } = await unary(
      client,
      Operations.method.waitOperation,
      { name: 'operations/wait-timeout', timeout: { nanos: 200_000_000 } },
      deadlineIn(20_000),
    ).response;
    expect(message.done).toBe(false);
    // The request's 200 ms, not the call's 20 s deadline.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('returns as soon as a provider completes the operation', async () => {
    await service.create({ parent: '', operationId: 'wait-done' });
    const started = Date.now();
    const waiting = unary(client, Operations.method.waitOperation, { name: 'operations/wait-done' }, deadlineIn(5000));
    setTimeout(() => {
      void unary(client, OperationsProvider.method.updateOperation, {
        operation: create(OperationSchema, {
          name: 'operations/wait-done',
          done: true,
          result: { case: 'error', value: { code: 10, message: 'aborted by the provider' } },
        }),
      }).response;
    }, 150);
    const { message } = await waiting.response;
    expect(message.done).toBe(true);
    expect(message.result.case).toBe('error');
    // Woken by the completion, long before the wait's own timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('releases the waiter when the client cancels the call', async () => {
    await service.create({ parent: '', operationId: 'wait-cancelled' });
    const before = events.listenerCount;
    const { call, response } = unary(
      client,
      Operations.method.waitOperation,
      { name: 'operations/wait-cancelled', timeout: { seconds: 60n } },
      deadlineIn(60_000),
    );
    await until(() => events.listenerCount === before + 1);
    call.cancel();
    const error = await response.catch((e) => e);
    expect(error.code).toBe(1); // CANCELLED, client side
    await until(() => events.listenerCount === before);
    expect(events.listenerCount).toBe(before);
  });

  it('rejects a negative timeout with INVALID_ARGUMENT, as REST does', async () => {
    await service.create({ parent: '', operationId: 'wait-negative' });
    const error = await unary(client, Operations.method.waitOperation, {
      name: 'operations/wait-negative',
      timeout: { seconds: -1n },
    }).response.catch((e) => e);
    expect(error.code).toBe(3);
  });
});

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
