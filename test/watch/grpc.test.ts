/** Watch streams over gRPC (longrun.v1.OperationsWatch): the SSE stream's events and ids, as messages. */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterEach, describe, expect, it } from 'vitest';
import { OperationEvent_Type, OperationsWatch } from '../../packages/server/src/grpc/gen/longrun/v1/watch_pb.js';
import { EMPTY_ANY, type TestServer } from '../helpers.js';
import { startPushTestServer } from './backend.js';
import { watch } from './sse-client.js';

const progress = (value: string) => ({ '@type': 'type.googleapis.com/google.protobuf.StringValue', value });

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function client(s: TestServer) {
  return createClient(OperationsWatch, createGrpcTransport({ baseUrl: s.grpcUrl! }));
}

/** Collects a stream's messages until `count` arrived (then cancels the call) or it ends. */
async function collect(stream: AsyncIterable<any>, count: number, abort?: AbortController) {
  const got: any[] = [];
  try {
    for await (const message of stream) {
      got.push(message);
      if (got.length >= count) {
        abort?.abort();
        break;
      }
    }
  } catch (error) {
    if (!(error instanceof ConnectError && error.code === Code.Canceled)) throw error;
  }
  return got;
}

describe('WatchOperations over gRPC', () => {
  it('streams one operation with the same events and ids as the SSE stream', async () => {
    server = await startPushTestServer({ grpcPort: 0, cancelGracePeriodMs: 60_000 });
    const s = server;
    await s.createOperation('projects/g', 'op', { metadata: progress('0%') });
    const sse = await watch(`${s.url}/v1/projects/g/operations/op:watch`);
    const abort = new AbortController();
    const messages = collect(
      client(s).watchOperations({ name: 'projects/g/operations/op' }, { signal: abort.signal }),
      4,
      abort,
    );
    await sse.waitForEvents(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await s.call('PATCH', '/v1/projects/g/operations/op', {
      operation: { metadata: progress('50%') },
      updateMask: 'metadata',
    });
    await s.call('POST', '/v1/projects/g/operations/op:cancel');
    await s.call('PATCH', '/v1/projects/g/operations/op', { operation: { done: true, response: EMPTY_ANY } });
    const got = await messages;
    await sse.waitForEvents(4);
    expect(got.map((m) => m.type)).toEqual([
      OperationEvent_Type.SNAPSHOT,
      OperationEvent_Type.PROGRESS,
      OperationEvent_Type.CANCEL_REQUESTED,
      OperationEvent_Type.DONE,
    ]);
    expect(got.map((m) => m.eventId)).toEqual(sse.events.map((e) => e.id));
    expect(got[0].operation.name).toBe('projects/g/operations/op');
    expect(got[3].operation.done).toBe(true);
    expect(got[3].operation.result.case).toBe('response');
    expect(got[1].eventTime.seconds).toBeGreaterThan(0n);
    sse.close();
  });

  it('streams a collection with a filter, resumes after an id, and refuses what REST refuses', async () => {
    server = await startPushTestServer({ grpcPort: 0 });
    const s = server;
    const watcher = client(s);
    const abort = new AbortController();
    const first = collect(
      watcher.watchOperations({ parent: 'projects/c', filter: 'done = true' }, { signal: abort.signal }),
      3,
      abort,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const id of ['a', 'b']) {
      await s.createOperation('projects/c', id);
      await s.call('PATCH', `/v1/projects/c/operations/${id}`, { operation: { done: true, response: EMPTY_ANY } });
    }
    const got = await first;
    expect(got.map((m) => m.type)).toEqual([
      OperationEvent_Type.READY,
      OperationEvent_Type.DONE,
      OperationEvent_Type.DONE,
    ]);
    expect(got.slice(1).map((m) => m.operation.name)).toEqual(['projects/c/operations/a', 'projects/c/operations/b']);

    const again = new AbortController();
    const resumed = await collect(
      watcher.watchOperations({ parent: 'projects/c', afterEventId: got[0].eventId }, { signal: again.signal }),
      4,
      again,
    );
    expect(resumed.map((m) => m.type)).toEqual([
      OperationEvent_Type.CREATED,
      OperationEvent_Type.DONE,
      OperationEvent_Type.CREATED,
      OperationEvent_Type.DONE,
    ]);

    const failure = async (request: object) => {
      try {
        await collect(watcher.watchOperations(request), 1);
      } catch (error) {
        return ConnectError.from(error);
      }
      throw new Error('no error');
    };
    expect((await failure({ name: 'projects/c/operations/none' })).code).toBe(Code.NotFound);
    expect((await failure({ parent: 'projects/c', afterEventId: 'x' })).code).toBe(Code.InvalidArgument);
    expect((await failure({ parent: 'projects/c', afterEventId: '99999' })).code).toBe(Code.InvalidArgument);
    expect((await failure({ name: 'projects/c/operations/a', parent: 'projects/c' })).code).toBe(Code.InvalidArgument);
    expect((await failure({ name: 'projects/c/operations/a', filter: 'done = true' })).code).toBe(Code.InvalidArgument);
  });

  it('ends the stream with UNAVAILABLE when the server shuts down, promptly', async () => {
    server = await startPushTestServer({ grpcPort: 0 });
    const s = server;
    const ended = collect(client(s).watchOperations({ parent: 'projects/s' }), 100).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await s.stop();
    server = undefined;
    const error = await ended;
    expect(error?.code).toBe(Code.Unavailable);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
