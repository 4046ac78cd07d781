/**
 * Conformance with Google's own Node client: google-gax 5.0.8's OperationsClient over insecure
 * gRPC (get, list with auto-pagination, cancel, delete, error codes with ErrorInfo), and its
 * long-running poller (`operation.promise()`) on operations a provider completes over gRPC.
 */
import {
  create,
  fromBinary,
  fromJson,
  type JsonObject,
  type MessageInitShape,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import * as gax from 'google-gax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationSchema } from '../../packages/server/src/grpc/gen/google/longrunning/operations_pb.js';
import { OperationsProvider } from '../../packages/server/src/grpc/gen/longrun/v1/provider_pb.js';
import { TypeRegistry } from '../../packages/server/src/grpc/gen/longrun/v1/type_registry_pb.js';
import {
  exampleDescriptorSet,
  exampleTypes,
  GRPC_PATHS,
  type GrpcTestServer,
  gaxOperationsClient,
  grpcClient,
  startGrpcTestServer,
  unary,
} from './grpc-helpers.js';

const STRUCT_URL = 'type.googleapis.com/google.protobuf.Struct';

/** A Struct packed in an Any, as a provider's generated code would send it. */
function struct(value: JsonObject) {
  return { typeUrl: STRUCT_URL, value: toBinary(StructSchema, fromJson(StructSchema, value)) };
}

/** Decoders as a generated GAPIC client has them: bytes of an Any to the message. */
const structDecoder = (bytes: Uint8Array | unknown) =>
  toJson(StructSchema, fromBinary(StructSchema, bytes as Uint8Array));

describe.each(GRPC_PATHS)('google-gax OperationsClient over gRPC ($path)', ({ fastPath }) => {
  let server: GrpcTestServer;
  let client: any;
  let provider: ReturnType<typeof grpcClient>;

  beforeAll(async () => {
    server = await startGrpcTestServer({ cancelGracePeriodMs: 0 }, { fastPath });
    client = gaxOperationsClient(server.grpcPort);
    provider = grpcClient(server.target);
  });

  afterAll(async () => {
    provider.close();
    await client.close();
    await server.stop();
  });

  function createOverGrpc(
    parent: string,
    operationId: string,
    operation: MessageInitShape<typeof OperationSchema> = {},
  ) {
    return unary(provider, OperationsProvider.method.createOperation, {
      parent,
      operationId,
      operation: create(OperationSchema, operation),
    }).response.then((r) => r.message);
  }

  function updateOverGrpc(operation: MessageInitShape<typeof OperationSchema>, paths?: string[]) {
    return unary(provider, OperationsProvider.method.updateOperation, {
      operation: create(OperationSchema, operation),
      ...(paths ? { updateMask: { paths } } : {}),
    }).response.then((r) => r.message);
  }

  it('gets an operation created over REST, metadata as a binary Any', async () => {
    await server.rest('POST', '/v1/projects/p1/operations', {
      operationId: 'get-1',
      operation: { metadata: { '@type': STRUCT_URL, value: { step: 'copying', percent: 40 } } },
    });
    const [operation] = await client.getOperation({ name: 'projects/p1/operations/get-1' });
    expect(operation.name).toBe('projects/p1/operations/get-1');
    expect(operation.done).toBe(false);
    expect(operation.metadata?.type_url).toBe(STRUCT_URL);
    expect(structDecoder(operation.metadata!.value)).toEqual({ step: 'copying', percent: 40 });
  });

  it('lists every operation of a parent with auto-pagination, newest first', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `list-${String(i).padStart(2, '0')}`);
    for (const id of ids) await createOverGrpc('projects/list', id);
    const names: string[] = [];
    for await (const operation of client.listOperationsAsync({ name: 'projects/list', filter: '', pageSize: 5 })) {
      names.push(operation.name!);
    }
    expect(names).toEqual(ids.map((id) => `projects/list/operations/${id}`).reverse());
    // The collection convention of ListOperationsRequest.name, and a filter: the same answer as REST.
    const filter = 'name = "projects/list/operations/list-03" OR name = "projects/list/operations/list-17"';
    const [page] = await client.listOperations({ name: 'projects/list/operations', filter, pageSize: 100 });
    const overRest = await server.rest('GET', `/v1/projects/list/operations?filter=${encodeURIComponent(filter)}`);
    expect(overRest.status).toBe(200);
    expect(page.map((o: { name: string }) => o.name)).toEqual(
      overRest.json.operations.map((o: { name: string }) => o.name),
    );
    expect(page).toHaveLength(2);
  });

  it('cancels: the operation ends CANCELLED (code 1) when the grace period is zero', async () => {
    await createOverGrpc('projects/p1', 'cancel-1');
    await client.cancelOperation({ name: 'projects/p1/operations/cancel-1' });
    const [operation] = await client.getOperation({ name: 'projects/p1/operations/cancel-1' });
    expect(operation.done).toBe(true);
    expect(operation.error?.code).toBe(1);
    // Idempotent.
    await client.cancelOperation({ name: 'projects/p1/operations/cancel-1' });
  });

  it('deletes: a later get is NOT_FOUND (5) with ErrorInfo', async () => {
    await createOverGrpc('projects/p1', 'delete-1');
    await client.deleteOperation({ name: 'projects/p1/operations/delete-1' });
    const error = await client.getOperation({ name: 'projects/p1/operations/delete-1' }).catch((e: any) => e);
    expect(error.code).toBe(5);
    expect(error.details).toBe('Operation "projects/p1/operations/delete-1" not found');
    expect(error.reason).toBe('OPERATION_NOT_FOUND');
    expect(error.domain).toBe('longrun');
    expect(error.errorInfoMetadata).toEqual({ name: 'projects/p1/operations/delete-1' });
    const again = await client.deleteOperation({ name: 'projects/p1/operations/delete-1' }).catch((e: any) => e);
    expect(again.code).toBe(5);
  });

  it('answers INVALID_ARGUMENT (3) for a malformed name, with a BadRequest detail', async () => {
    const error = await client.getOperation({ name: 'projects/p1/operations/bad id' }).catch((e: any) => e);
    expect(error.code).toBe(3);
    expect(error.reason).toBe('INVALID_NAME');
    const badRequest = error.statusDetails.find(
      (d: { constructor: { name: string } }) => d.constructor.name === 'BadRequest',
    );
    expect(badRequest.fieldViolations[0].field).toBe('name');
    const pageSize = await client
      .listOperations({ name: 'projects/p1', filter: '', pageSize: -1 })
      .catch((e: any) => e);
    expect(pageSize.code).toBe(3);
    expect(pageSize.reason).toBe('INVALID_PAGE_SIZE');
  });

  it('answers ALREADY_EXISTS (6) and FAILED_PRECONDITION (9) through the provider service', async () => {
    await createOverGrpc('projects/p1', 'exists-1', { metadata: struct({ a: 1 }) });
    // The exact same create again is a retry: it answers the operation.
    const retried = await createOverGrpc('projects/p1', 'exists-1', { metadata: struct({ a: 1 }) });
    expect(retried.name).toBe('projects/p1/operations/exists-1');
    const conflict = await createOverGrpc('projects/p1', 'exists-1', { metadata: struct({ a: 2 }) }).catch(
      (e: any) => e,
    );
    expect(conflict.code).toBe(6);
    await updateOverGrpc({
      name: 'projects/p1/operations/exists-1',
      done: true,
      result: { case: 'response', value: struct({ ok: true }) },
    });
    const done = await updateOverGrpc({ name: 'projects/p1/operations/exists-1', metadata: struct({ a: 3 }) }).catch(
      (e) => e,
    );
    expect(done.code).toBe(9);
    const noName = await updateOverGrpc({ metadata: struct({ a: 3 }) }).catch((e: any) => e);
    expect(noName.code).toBe(3);
  });

  it('gax’s poller resolves with the decoded response once a provider completes the operation', async () => {
    const created = await createOverGrpc('projects/p1', 'poll-ok', { metadata: struct({ percent: 0 }) });
    // What a generated client holds after its create call: the Operation as gax decoded it.
    const [initial] = await client.getOperation({ name: created.name });
    const descriptor = new gax.LongrunningDescriptor(client, structDecoder as never, structDecoder as never);
    const operation = gax.operation(initial, descriptor, gax.createBackoffSettings(20, 1.5, 100, 0, 0, 0, 5000));
    const progress: unknown[] = [];
    operation.on('progress', (metadata) => progress.push(metadata));
    setTimeout(async () => {
      await updateOverGrpc({ name: created.name, metadata: struct({ percent: 50 }) });
      setTimeout(async () => {
        await updateOverGrpc({
          name: created.name,
          metadata: struct({ percent: 100 }),
          done: true,
          result: { case: 'response', value: struct({ rows: 1200, table: 'events' }) },
        });
      }, 100);
    }, 100);
    const [response, metadata, raw] = (await operation.promise()) as unknown as [unknown, unknown, { done: boolean }];
    expect(response).toEqual({ rows: 1200, table: 'events' });
    expect(metadata).toEqual({ percent: 100 });
    expect(raw.done).toBe(true);
    expect(progress).toContainEqual({ percent: 50 });
  });

  it('gax’s poller rejects with the error of a failed operation', async () => {
    const created = await createOverGrpc('projects/p1', 'poll-fail');
    const [initial] = await client.getOperation({ name: created.name });
    const descriptor = new gax.LongrunningDescriptor(client, structDecoder as never, structDecoder as never);
    const operation = gax.operation(initial, descriptor, gax.createBackoffSettings(20, 1.5, 100, 0, 0, 0, 5000));
    setTimeout(() => {
      void updateOverGrpc({
        name: created.name,
        done: true,
        result: { case: 'error', value: { code: 8, message: 'Quota exhausted for table events' } },
      });
    }, 100);
    const error: any = await operation.promise().catch((e: any) => e);
    expect(error).toBeInstanceOf(gax.GoogleError);
    expect(error.code).toBe(8);
    expect(error.message).toBe('Quota exhausted for table events');
  });

  it('gax’s poller decodes a provider’s own types, registered at run time', async () => {
    const types = exampleTypes();
    const responseType = types.getMessage('example.v1.ExportResponse')!;
    const metadataType = types.getMessage('example.v1.ExportMetadata')!;
    await unary(provider, TypeRegistry.method.registerTypes, { fileDescriptorSet: exampleDescriptorSet() }).response;
    // A provider writing proto3 JSON over REST; the consumer reads binary over gRPC.
    await server.rest('POST', '/v1/projects/p1/operations', {
      operationId: 'poll-typed',
      operation: { metadata: { '@type': 'type.googleapis.com/example.v1.ExportMetadata', progressPercent: 10 } },
    });
    const [created] = await client.getOperation({ name: 'projects/p1/operations/poll-typed' });
    const descriptor = new gax.LongrunningDescriptor(
      client,
      ((bytes: Uint8Array) => fromBinary(responseType, bytes)) as never,
      ((bytes: Uint8Array) => fromBinary(metadataType, bytes)) as never,
    );
    const operation = gax.operation(created, descriptor, gax.createBackoffSettings(20, 1.5, 100, 0, 0, 0, 5000));
    setTimeout(() => {
      void server.rest('PATCH', '/v1/projects/p1/operations/poll-typed', {
        operation: {
          done: true,
          response: {
            '@type': 'type.googleapis.com/example.v1.ExportResponse',
            uri: 'gs://bucket/export',
            rowCount: '9007199254740993',
            tables: ['a', 'b'],
          },
        },
      });
    }, 100);
    const [response] = (await operation.promise()) as unknown as [{ uri: string; rowCount: bigint; tables: string[] }];
    expect(response.uri).toBe('gs://bucket/export');
    expect(response.rowCount).toBe(9007199254740993n);
    expect(response.tables).toEqual(['a', 'b']);
  });
});
