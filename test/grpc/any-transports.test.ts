/**
 * `google.protobuf.Any` across transports: JSON written over REST is read as binary over gRPC
 * and the reverse, for built-in and registered types; a type nobody registered is kept byte for
 * byte, or (written as JSON) refused over gRPC with FAILED_PRECONDITION naming it, never
 * corrupted. Also: the error trailer, the cancel-requested header, and the Connect and gRPC-web
 * protocols from the same handlers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  create,
  createRegistry,
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonObject,
  toBinary,
} from '@bufbuild/protobuf';
import { base64Encode } from '@bufbuild/protobuf/wire';
import { type Any, AnySchema, FileDescriptorSetSchema, StructSchema, TimestampSchema } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationSchema, Operations } from '../../packages/server/src/grpc/gen/google/longrunning/operations_pb.js';
import { ErrorInfoSchema } from '../../packages/server/src/grpc/gen/google/rpc/error_details_pb.js';
import { StatusSchema } from '../../packages/server/src/grpc/gen/google/rpc/status_pb.js';
import { OperationsProvider } from '../../packages/server/src/grpc/gen/longrun/v1/provider_pb.js';
import { TypeRegistry } from '../../packages/server/src/grpc/gen/longrun/v1/type_registry_pb.js';
import { startServer } from '../../packages/server/src/server.js';
import {
  exampleDescriptorSet,
  exampleDescriptorSetFile,
  exampleTypes,
  GRPC_PATHS,
  type GrpcTestServer,
  grpcClient,
  startGrpcTestServer,
  unary,
} from './grpc-helpers.js';

const types = exampleTypes();
const ExportMetadata = types.getMessage('example.v1.ExportMetadata')!;
const ExportResponse = types.getMessage('example.v1.ExportResponse')!;
const URL_METADATA = 'type.googleapis.com/example.v1.ExportMetadata';
const URL_RESPONSE = 'type.googleapis.com/example.v1.ExportResponse';

/** A message of the provider's own types, packed as its generated code would. */
function pack(desc: DescMessage, json: JsonObject): Any {
  return create(AnySchema, {
    typeUrl: `type.googleapis.com/${desc.typeName}`,
    value: toBinary(desc, fromJson(desc, json, { registry: createRegistry(types) })),
  });
}

describe.each(GRPC_PATHS)('Any across transports ($path)', ({ fastPath }) => {
  let dir: string;
  let server: GrpcTestServer;
  let client: grpc.Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'longrun-any-'));
    // The example types come from a --descriptor-set file, as an operator would configure them.
    server = await startGrpcTestServer({ descriptorSets: [exampleDescriptorSetFile(dir)] }, { fastPath });
    client = grpcClient(server.target);
  });

  afterAll(async () => {
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (name: string) => unary(client, Operations.method.getOperation, { name }).response.then((r) => r.message);
  const createOverGrpc = (parent: string, operationId: string, operation: object) =>
    unary(client, OperationsProvider.method.createOperation, {
      parent,
      operationId,
      operation: create(OperationSchema, operation),
    }).response.then((r) => r.message);

  it('REST JSON → gRPC binary, for well-known, google.rpc and registered types', async () => {
    // Written as JSON text: bytesCopied is a JSON number beyond 2^53 (proto3 JSON prefers a
    // string), which must still arrive exactly.
    const body = JSON.stringify({
      operationId: 'rest-to-grpc',
      operation: {
        metadata: {
          '@type': URL_METADATA,
          progressPercent: 40,
          startTime: '2026-03-01T12:00:00.250Z',
          bytesCopied: 'BIG',
        },
        done: true,
        error: {
          code: 9,
          message: 'The table is locked',
          details: [
            { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'TABLE_LOCKED', domain: 'example.com' },
            { '@type': 'type.googleapis.com/google.protobuf.Timestamp', value: '2026-03-01T12:00:05Z' },
          ],
        },
      },
    }).replace('"BIG"', '18446744073709551615');
    const created = await server.rest('POST', '/v1/projects/any/operations', body);
    expect(created.status).toBe(200);
    const operation = await get('projects/any/operations/rest-to-grpc');
    expect(operation.metadata!.typeUrl).toBe(URL_METADATA);
    const metadata = fromBinary(ExportMetadata, operation.metadata!.value) as unknown as {
      progressPercent: number;
      startTime: { seconds: bigint; nanos: number };
      bytesCopied: bigint;
    };
    expect(metadata.progressPercent).toBe(40);
    expect(metadata.startTime.seconds).toBe(BigInt(Date.parse('2026-03-01T12:00:00Z') / 1000));
    expect(metadata.startTime.nanos).toBe(250_000_000);
    expect(metadata.bytesCopied).toBe(18446744073709551615n);
    expect(operation.result.case).toBe('error');
    const status = operation.result.value as { code: number; message: string; details: Any[] };
    expect(status.code).toBe(9);
    expect(status.message).toBe('The table is locked');
    expect(fromBinary(ErrorInfoSchema, status.details[0]!.value)).toMatchObject({
      reason: 'TABLE_LOCKED',
      domain: 'example.com',
    });
    expect(fromBinary(TimestampSchema, status.details[1]!.value).seconds).toBe(
      BigInt(Date.parse('2026-03-01T12:00:05Z') / 1000),
    );
  });

  it('gRPC binary → REST JSON for a registered type, and back to the same message over gRPC', async () => {
    const metadata = pack(ExportMetadata, {
      progressPercent: 75,
      startTime: '2026-03-01T12:00:00Z',
      bytesCopied: '123456789012345678',
    });
    const response = pack(ExportResponse, {
      uri: 'gs://b/o',
      rowCount: '-5',
      tables: ['t1'],
      tableSizes: { t1: '42' },
    });
    await createOverGrpc('projects/any', 'grpc-to-rest', {
      metadata,
      done: true,
      result: { case: 'response', value: response },
    });
    const overRest = await server.rest('GET', '/v1/projects/any/operations/grpc-to-rest');
    expect(overRest.json).toEqual({
      name: 'projects/any/operations/grpc-to-rest',
      metadata: {
        '@type': URL_METADATA,
        progressPercent: 75,
        startTime: '2026-03-01T12:00:00Z',
        bytesCopied: '123456789012345678',
      },
      done: true,
      response: { '@type': URL_RESPONSE, uri: 'gs://b/o', rowCount: '-5', tables: ['t1'], tableSizes: { t1: '42' } },
    });
    const operation = await get('projects/any/operations/grpc-to-rest');
    expect(Buffer.from(operation.metadata!.value)).toEqual(Buffer.from(metadata.value));
    expect(Buffer.from((operation.result.value as Any).value)).toEqual(Buffer.from(response.value));
  });

  it('keeps an Any of an unregistered type byte for byte: gRPC → store → gRPC', async () => {
    // Arbitrary bytes, including ones that are not valid protobuf.
    const bytes = new Uint8Array([0x0a, 0x03, 0x61, 0x62, 0x63, 0x10, 0x96, 0x01, 0xff, 0x00]);
    const metadata = { typeUrl: 'example.com/acme.v1.Secret', value: bytes };
    await createOverGrpc('projects/any', 'unknown-binary', { metadata });
    const overRest = await server.rest('GET', '/v1/projects/any/operations/unknown-binary');
    expect(overRest.json.metadata).toEqual({ '@type': 'example.com/acme.v1.Secret', '@value': base64Encode(bytes) });
    const operation = await get('projects/any/operations/unknown-binary');
    expect(operation.metadata!.typeUrl).toBe('example.com/acme.v1.Secret');
    expect(Buffer.from(operation.metadata!.value)).toEqual(Buffer.from(bytes));
  });

  it('keeps the bytes of a registered type when JSON would lose something (a field the schema lacks)', async () => {
    // ExportMetadata with field 99 (a newer provider's field): JSON would drop it, so the bytes are kept.
    const known = toBinary(ExportMetadata, create(ExportMetadata, { progressPercent: 5 } as never));
    const bytes = new Uint8Array([...known, 0xa0, 0x06, 0x01]); // field 99, varint 1
    await createOverGrpc('projects/any', 'newer-schema', { metadata: { typeUrl: URL_METADATA, value: bytes } });
    const overRest = await server.rest('GET', '/v1/projects/any/operations/newer-schema');
    expect(overRest.json.metadata['@value']).toBe(base64Encode(bytes));
    const operation = await get('projects/any/operations/newer-schema');
    expect(Buffer.from(operation.metadata!.value)).toEqual(Buffer.from(bytes));
  });

  it('refuses over gRPC (FAILED_PRECONDITION, naming the type) JSON of a type nobody registered; REST still reads it', async () => {
    await server.rest('POST', '/v1/projects/unregistered/operations', {
      operationId: 'json-unknown',
      operation: { metadata: { '@type': 'type.googleapis.com/acme.v1.Progress', step: 3 } },
    });
    const error = await get('projects/unregistered/operations/json-unknown').catch((e) => e);
    expect(error.code).toBe(9);
    expect(error.details).toContain('acme.v1.Progress');
    const status = fromBinary(StatusSchema, error.metadata.get('grpc-status-details-bin')[0]);
    const info = fromBinary(ErrorInfoSchema, status.details[0]!.value);
    expect(info).toMatchObject({
      reason: 'TYPE_NOT_REGISTERED',
      domain: 'longrun',
      metadata: { type: 'acme.v1.Progress', field: 'metadata' },
    });
    const list = await unary(client, Operations.method.listOperations, {
      name: 'projects/unregistered',
    }).response.catch((e) => e);
    expect(list.code).toBe(9);
    const overRest = await server.rest('GET', '/v1/projects/unregistered/operations/json-unknown');
    expect(overRest.json.metadata).toEqual({ '@type': 'type.googleapis.com/acme.v1.Progress', step: 3 });
  });

  it('refuses over gRPC (FAILED_PRECONDITION, TYPE_MISMATCH) JSON that does not fit the registered type', async () => {
    await server.rest('POST', '/v1/projects/mismatch/operations', {
      operationId: 'json-mismatch',
      operation: { metadata: { '@type': URL_METADATA, progressPercent: 'lots' } },
    });
    const error = await get('projects/mismatch/operations/json-mismatch').catch((e) => e);
    expect(error.code).toBe(9);
    const status = fromBinary(StatusSchema, error.metadata.get('grpc-status-details-bin')[0]);
    expect(fromBinary(ErrorInfoSchema, status.details[0]!.value).reason).toBe('TYPE_MISMATCH');
  });

  it('sends google.rpc.Status with ErrorInfo in grpc-status-details-bin', async () => {
    const error = await get('operations/missing').catch((e) => e);
    expect(error.code).toBe(5);
    const status = fromBinary(StatusSchema, error.metadata.get('grpc-status-details-bin')[0]);
    expect(status.code).toBe(5);
    expect(status.message).toBe('Operation "operations/missing" not found');
    expect(status.details[0]!.typeUrl).toBe('type.googleapis.com/google.rpc.ErrorInfo');
    expect(fromBinary(ErrorInfoSchema, status.details[0]!.value)).toMatchObject({
      reason: 'OPERATION_NOT_FOUND',
      domain: 'longrun',
      metadata: { name: 'operations/missing' },
    });
  });

  it('tells the provider about a cancel request in the x-longrun-cancel-requested header', async () => {
    await createOverGrpc('projects/any', 'cancel-header', {});
    await unary(client, Operations.method.cancelOperation, { name: 'projects/any/operations/cancel-header' }).response;
    const { metadata } = await unary(client, OperationsProvider.method.updateOperation, {
      operation: create(OperationSchema, {
        name: 'projects/any/operations/cancel-header',
        metadata: pack(ExportMetadata, { progressPercent: 9 }),
      }),
    }).response;
    const header = metadata.get('x-longrun-cancel-requested')[0];
    expect(typeof header).toBe('string');
    expect(Number.isNaN(Date.parse(header as string))).toBe(false);
  });

  it('serves the Connect and gRPC-web protocols from the same handlers', async () => {
    await server.rest('POST', '/v1/operations', {
      operationId: 'protocols',
      operation: { metadata: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: { a: 'b' } } },
    });
    const registry = createRegistry(StructSchema);
    for (const transport of [
      createConnectTransport({ baseUrl: server.grpcUrl!, httpVersion: '2', jsonOptions: { registry } }),
      createConnectTransport({ baseUrl: server.grpcUrl!, httpVersion: '2', useBinaryFormat: true }),
      createGrpcWebTransport({ baseUrl: server.grpcUrl!, httpVersion: '2' }),
    ]) {
      const operations = createClient(Operations, transport);
      const operation = await operations.getOperation({ name: 'operations/protocols' });
      expect(fromBinary(StructSchema, operation.metadata!.value)).toEqual(fromJson(StructSchema, { a: 'b' }));
      const error = await operations.getOperation({ name: 'operations/nope' }).catch((e) => e);
      expect(error.code).toBe(5);
    }
  });
});

describe.each(GRPC_PATHS)('types registered at run time ($path)', ({ fastPath }) => {
  let server: GrpcTestServer;
  let client: grpc.Client;

  beforeAll(async () => {
    server = await startGrpcTestServer({}, { fastPath });
    client = grpcClient(server.target);
  });

  afterAll(async () => {
    client.close();
    await server.stop();
  });

  it('makes stored JSON of a type readable over gRPC once RegisterTypes adds it', async () => {
    await server.rest('POST', '/v1/operations', {
      operationId: 'later',
      operation: { metadata: { '@type': URL_METADATA, progressPercent: 12 } },
    });
    const before = await unary(client, Operations.method.getOperation, { name: 'operations/later' }).response.catch(
      (e) => e,
    );
    expect(before.code).toBe(9);
    const { message } = await unary(client, TypeRegistry.method.registerTypes, {
      fileDescriptorSet: exampleDescriptorSet(),
    }).response;
    expect(message.files).toEqual(['example/v1/export.proto']);
    expect(message.messageTypes).toEqual(
      expect.arrayContaining(['example.v1.ExportMetadata', 'example.v1.ExportResponse']),
    );
    const { message: operation } = await unary(client, Operations.method.getOperation, { name: 'operations/later' })
      .response;
    expect(
      (fromBinary(ExportMetadata, operation.metadata!.value) as unknown as { progressPercent: number }).progressPercent,
    ).toBe(12);
    // The same set again changes nothing.
    const again = await unary(client, TypeRegistry.method.registerTypes, { fileDescriptorSet: exampleDescriptorSet() })
      .response;
    expect(again.message.files).toEqual([]);
  });

  it('refuses a set that is not a FileDescriptorSet, or lacks an import, with INVALID_ARGUMENT', async () => {
    const garbage = await unary(client, TypeRegistry.method.registerTypes, {
      fileDescriptorSet: new Uint8Array([0xff, 0xff, 0xff]),
    }).response.catch((e) => e);
    expect(garbage.code).toBe(3);
    const set = fromBinary(FileDescriptorSetSchema, exampleDescriptorSet());
    const dependsOnMissing = create(FileDescriptorSetSchema, {
      file: [
        {
          ...set.file.find((f) => f.name === 'example/v1/export.proto')!,
          name: 'other/v1/x.proto',
          package: 'other.v1',
          dependency: ['missing/v1/y.proto'],
        },
      ],
    });
    const missing = await unary(client, TypeRegistry.method.registerTypes, {
      fileDescriptorSet: toBinary(FileDescriptorSetSchema, dependsOnMissing),
    }).response.catch((e) => e);
    expect(missing.code).toBe(3);
    expect(missing.details).toContain('missing/v1/y.proto');
  });
});

describe('--descriptor-set at start-up', () => {
  it('stops the start-up when a file is not a FileDescriptorSet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'longrun-fds-bad-'));
    const bad = join(dir, 'bad.binpb');
    writeFileSync(bad, 'not a descriptor set');
    await expect(
      startServer({
        host: '127.0.0.1',
        port: 0,
        grpcPort: 0,
        store: ':memory:',
        logLevel: 'silent',
        descriptorSets: [bad],
      }),
    ).rejects.toThrow(/bad\.binpb/);
    rmSync(dir, { recursive: true, force: true });
  });
});
