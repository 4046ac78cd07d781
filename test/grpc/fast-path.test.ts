/**
 * Which calls the fast path takes and which it leaves to Connect-ES: a compressed call, an
 * unknown method, a message over the size limit are all answered correctly, whichever path
 * answers them.
 */
import { create, fromJson, toBinary } from '@bufbuild/protobuf';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationSchema, Operations } from '../../packages/server/src/grpc/gen/google/longrunning/operations_pb.js';
import { OperationsProvider } from '../../packages/server/src/grpc/gen/longrun/v1/provider_pb.js';
import { GRPC_PATHS, type GrpcTestServer, startGrpcTestServer, unary } from './grpc-helpers.js';

describe.each(GRPC_PATHS)('what the fast path leaves to Connect-ES ($path)', ({ fastPath }) => {
  let server: GrpcTestServer;

  beforeAll(async () => {
    server = await startGrpcTestServer({ maxBodyBytes: 2048 }, { fastPath });
    await server.rest('POST', '/v1/operations', { operationId: 'fast' });
  });

  afterAll(async () => {
    await server.stop();
  });

  it('answers a gzip-compressed call', async () => {
    const client = new grpc.Client(server.target, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': 2, // gzip
      'grpc.use_local_subchannel_pool': 1,
    });
    const { message } = await unary(client, Operations.method.getOperation, { name: 'operations/fast' }).response;
    expect(message.name).toBe('operations/fast');
    client.close();
  });

  it('answers UNIMPLEMENTED (12) for a method nobody serves', async () => {
    const client = new grpc.Client(server.target, grpc.credentials.createInsecure());
    const error = await new Promise<grpc.ServiceError>((resolve) =>
      client.makeUnaryRequest(
        '/google.longrunning.Operations/WatchOperation',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        (e) => resolve(e!),
      ),
    );
    expect(error.code).toBe(12);
    client.close();
  });

  it('answers RESOURCE_EXHAUSTED (8) for a message over the size limit, then serves the next call', async () => {
    const client = new grpc.Client(server.target, grpc.credentials.createInsecure());
    const big = fromJson(StructSchema, { blob: 'x'.repeat(4096) });
    const error = await unary(client, OperationsProvider.method.createOperation, {
      parent: '',
      operationId: 'too-big',
      operation: create(OperationSchema, {
        metadata: { typeUrl: 'type.googleapis.com/google.protobuf.Struct', value: toBinary(StructSchema, big) },
      }),
    }).response.catch((e: any) => e);
    expect(error.code).toBe(8);
    const { message } = await unary(client, Operations.method.getOperation, { name: 'operations/fast' }).response;
    expect(message.name).toBe('operations/fast');
    client.close();
  });
});
