/**
 * Server reflection, as grpcurl, Postman or `buf curl` use it: the services are listed, and the
 * descriptors a client gets back are complete (every import included), so it can build the
 * messages and call the methods without any .proto file. v1 through a Connect gRPC client,
 * v1alpha through a plain @grpc/grpc-js bidi stream.
 */
import {
  create,
  createFileRegistry,
  type FileRegistry,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from '@bufbuild/protobuf';
import { type FileDescriptorProto, FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ServerReflection as ReflectionV1,
  type ServerReflectionRequestSchema,
  type ServerReflectionResponse,
} from '../../packages/server/src/grpc/gen/grpc/reflection/v1/reflection_pb.js';
import {
  ServerReflection as ReflectionV1alpha,
  ServerReflectionRequestSchema as V1alphaRequestSchema,
  type ServerReflectionResponse as V1alphaResponse,
  ServerReflectionResponseSchema as V1alphaResponseSchema,
} from '../../packages/server/src/grpc/gen/grpc/reflection/v1alpha/reflection_pb.js';
import { TypeRegistry } from '../../packages/server/src/grpc/gen/longrun/v1/type_registry_pb.js';
import { exampleDescriptorSet, type GrpcTestServer, grpcClient, startGrpcTestServer, unary } from './grpc-helpers.js';

type Request = MessageInitShape<typeof ServerReflectionRequestSchema>;

const SERVICES = [
  'google.longrunning.Operations',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
  'longrun.v1.OperationsProvider',
  'longrun.v1.TypeRegistry',
];

/** A registry from the descriptors reflection answered; fails unless every import is there. */
function registryOf(files: Uint8Array[]): FileRegistry {
  const protos = new Map<string, FileDescriptorProto>();
  for (const bytes of files) {
    const proto = fromBinary(FileDescriptorProtoSchema, bytes);
    protos.set(proto.name, proto);
  }
  // Imports first, as a FileDescriptorSet lists them.
  const sorted: FileDescriptorProto[] = [];
  const visit = (name: string) => {
    const proto = protos.get(name);
    if (!proto) throw new Error(`reflection did not send ${name}`);
    if (sorted.includes(proto)) return;
    for (const dependency of proto.dependency) visit(dependency);
    sorted.push(proto);
  };
  for (const name of protos.keys()) visit(name);
  return createFileRegistry(create(FileDescriptorSetSchema, { file: sorted }));
}

describe('server reflection', () => {
  let server: GrpcTestServer;
  let ask: (requests: Request[]) => Promise<ServerReflectionResponse[]>;

  beforeAll(async () => {
    server = await startGrpcTestServer();
    const reflection = createClient(ReflectionV1, createGrpcTransport({ baseUrl: server.grpcUrl! }));
    ask = async (requests) => {
      async function* stream() {
        for (const request of requests) yield request;
      }
      const responses: ServerReflectionResponse[] = [];
      for await (const response of reflection.serverReflectionInfo(stream())) responses.push(response);
      return responses;
    };
  });

  afterAll(async () => {
    await server.stop();
  });

  it('lists the services', async () => {
    const [response] = await ask([{ host: 'localhost', messageRequest: { case: 'listServices', value: '' } }]);
    expect(response!.validHost).toBe('localhost');
    expect(response!.messageResponse.case).toBe('listServicesResponse');
    const names = (response!.messageResponse.value as { service: { name: string }[] }).service.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(SERVICES));
    // Nothing listed that the server cannot describe.
    const described = await ask(
      names.map((name) => ({ messageRequest: { case: 'fileContainingSymbol', value: name } })),
    );
    expect(described.map((r) => r.messageResponse.case)).toEqual(names.map(() => 'fileDescriptorResponse'));
  });

  it('answers a symbol with its file and every import, enough to call the service', async () => {
    const [bySymbol, byMethod, byFile] = await ask([
      { messageRequest: { case: 'fileContainingSymbol', value: 'google.longrunning.Operations' } },
      { messageRequest: { case: 'fileContainingSymbol', value: 'longrun.v1.OperationsProvider.CreateOperation' } },
      { messageRequest: { case: 'fileByFilename', value: 'google/rpc/error_details.proto' } },
    ]);
    const operations = registryOf(
      (bySymbol!.messageResponse.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto,
    );
    const service = operations.getService('google.longrunning.Operations')!;
    expect(service.methods.map((m) => m.name)).toEqual([
      'ListOperations',
      'GetOperation',
      'DeleteOperation',
      'CancelOperation',
      'WaitOperation',
    ]);
    expect(operations.getMessage('google.rpc.Status')).toBeDefined();
    const provider = registryOf(
      (byMethod!.messageResponse.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto,
    );
    expect(provider.getMessage('longrun.v1.CreateOperationRequest')!.fields.map((f) => f.name)).toEqual([
      'parent',
      'operation_id',
      'operation',
    ]);
    const details = registryOf(
      (byFile!.messageResponse.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto,
    );
    expect(details.getMessage('google.rpc.ErrorInfo')).toBeDefined();
  });

  it('answers NOT_FOUND in-band for an unknown symbol, and finds types registered at run time', async () => {
    const [before] = await ask([
      { messageRequest: { case: 'fileContainingSymbol', value: 'example.v1.ExportMetadata' } },
    ]);
    expect(before!.messageResponse.case).toBe('errorResponse');
    expect((before!.messageResponse.value as { errorCode: number }).errorCode).toBe(5);
    const client = grpcClient(server.target);
    await unary(client, TypeRegistry.method.registerTypes, { fileDescriptorSet: exampleDescriptorSet() }).response;
    client.close();
    const [after] = await ask([
      { messageRequest: { case: 'fileContainingSymbol', value: 'example.v1.ExportMetadata' } },
    ]);
    const registry = registryOf(
      (after!.messageResponse.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto,
    );
    expect(registry.getMessage('example.v1.ExportMetadata')!.fields.map((f) => f.name)).toContain('start_time');
  });

  it('speaks v1alpha to a plain grpc-js client', async () => {
    const client = grpcClient(server.target);
    const call = client.makeBidiStreamRequest(
      `/${ReflectionV1alpha.typeName}/${ReflectionV1alpha.method.serverReflectionInfo.name}`,
      (message: object) => Buffer.from(toBinary(V1alphaRequestSchema, create(V1alphaRequestSchema, message))),
      (bytes: Buffer) => fromBinary(V1alphaResponseSchema, bytes),
    );
    const responses: V1alphaResponse[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (response: V1alphaResponse) => responses.push(response));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write({ messageRequest: { case: 'listServices', value: '*' } });
    call.write({ messageRequest: { case: 'fileContainingSymbol', value: 'google.longrunning.Operation' } });
    call.end();
    await ended;
    client.close();
    expect(responses).toHaveLength(2);
    expect(responses[0]!.messageResponse.case).toBe('listServicesResponse');
    const files = (responses[1]!.messageResponse.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto;
    expect(registryOf(files).getMessage('google.longrunning.Operation')).toBeDefined();
  });
});
