/**
 * The access rules over gRPC are REST's (auth/access.ts): the same principals and roles, checked
 * before the service runs, so a caller without access gets PERMISSION_DENIED (7) whether or not
 * the operation exists, and a caller without credentials UNAUTHENTICATED (16). The per-principal
 * rate limit answers RESOURCE_EXHAUSTED with RetryInfo, and calls are counted in the metrics.
 */
import { create, fromBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestSecret, type Permission, ROLE_PERMISSIONS, type Role } from '../../packages/server/src/auth/access.js';
import { OperationSchema, Operations } from '../../packages/server/src/grpc/gen/google/longrunning/operations_pb.js';
import { RetryInfoSchema } from '../../packages/server/src/grpc/gen/google/rpc/error_details_pb.js';
import { StatusSchema } from '../../packages/server/src/grpc/gen/google/rpc/status_pb.js';
import { OperationsProvider } from '../../packages/server/src/grpc/gen/longrun/v1/provider_pb.js';
import { TypeRegistry } from '../../packages/server/src/grpc/gen/longrun/v1/type_registry_pb.js';
import {
  bearer,
  exampleDescriptorSet,
  GRPC_PATHS,
  type GrpcTestServer,
  gaxOperationsClient,
  grpcClient,
  startGrpcTestServer,
  unary,
} from './grpc-helpers.js';

const TOKENS: Record<Role | 'root', string> = {
  viewer: 'grpc-viewer-token-0123456789',
  provider: 'grpc-provider-token-0123456789',
  admin: 'grpc-admin-token-0123456789',
  root: 'grpc-root-token-0123456789',
};

const ROOT = { authorization: `Bearer ${TOKENS.root}` };

const METHODS: Permission[] = ['get', 'list', 'wait', 'create', 'patch', 'cancel', 'delete'];

/** The status code of a call: 0 for OK. */
function codeOf(response: Promise<unknown>): Promise<number> {
  return response.then(
    () => 0,
    (error: any) => error.code,
  );
}

describe.each(GRPC_PATHS)('access over gRPC ($path)', ({ fastPath }) => {
  let server: GrpcTestServer;
  let client: grpc.Client;

  beforeAll(async () => {
    server = await startGrpcTestServer(
      {
        auth: {
          principals: [
            ...(['viewer', 'provider', 'admin'] as const).map((role) => ({
              name: role,
              secrets: [digestSecret(TOKENS[role])],
              grants: [{ role, resources: 'projects/acme/**' }],
            })),
            { name: 'root', secrets: [digestSecret(TOKENS.root)], grants: [{ role: 'admin', resources: '**' }] },
          ],
        },
      },
      { fastPath },
    );
    client = grpcClient(server.target);
  });

  afterAll(async () => {
    client.close();
    await server.stop();
  });

  /** One call of `method` on an operation (existing or not) in `project`. */
  function call(method: Permission, project: string, id: string, metadata = new grpc.Metadata()): Promise<number> {
    const name = `projects/${project}/operations/${id}`;
    switch (method) {
      case 'get':
        return codeOf(unary(client, Operations.method.getOperation, { name }, {}, metadata).response);
      case 'list':
        return codeOf(
          unary(client, Operations.method.listOperations, { name: `projects/${project}` }, {}, metadata).response,
        );
      case 'wait':
        return codeOf(unary(client, Operations.method.waitOperation, { name, timeout: {} }, {}, metadata).response);
      case 'cancel':
        return codeOf(unary(client, Operations.method.cancelOperation, { name }, {}, metadata).response);
      case 'delete':
        return codeOf(unary(client, Operations.method.deleteOperation, { name }, {}, metadata).response);
      case 'create':
        return codeOf(
          unary(
            client,
            OperationsProvider.method.createOperation,
            { parent: `projects/${project}`, operationId: `${id}-new` },
            {},
            metadata,
          ).response,
        );
      case 'patch':
        return codeOf(
          unary(
            client,
            OperationsProvider.method.updateOperation,
            { operation: create(OperationSchema, { name, done: true }) },
            {},
            metadata,
          ).response,
        );
      default:
        throw new Error(`no call for ${method}`);
    }
  }

  it('answers UNAUTHENTICATED (16) without credentials or with unknown ones', async () => {
    expect(await call('get', 'acme', 'x')).toBe(16);
    expect(await call('get', 'acme', 'x', bearer('not-a-token'))).toBe(16);
  });

  for (const role of ['viewer', 'provider', 'admin'] as const) {
    it(`lets a ${role} do exactly what the role allows, and only in its scope`, async () => {
      for (const method of METHODS) {
        // A fresh operation per call (the previous method may have deleted it).
        const id = `${role}-${method}`;
        await server.rest('POST', '/v1/projects/acme/operations', { operationId: id }, ROOT);
        await server.rest('POST', '/v1/projects/other/operations', { operationId: id }, ROOT);
        const inScope = await call(method, 'acme', id, bearer(TOKENS[role]));
        if (ROLE_PERMISSIONS[role].has(method)) expect(inScope, `${role} ${method}`).toBe(0);
        else expect(inScope, `${role} ${method}`).toBe(7);
        // Out of scope: denied, whether the operation exists or not.
        expect(await call(method, 'other', id, bearer(TOKENS[role])), `${role} ${method} other`).toBe(7);
        expect(await call(method, 'other', `${id}-missing`, bearer(TOKENS[role])), `${role} ${method} missing`).toBe(7);
      }
    });
  }

  it('lets only an admin of every resource register types', async () => {
    const register = (token: string) =>
      codeOf(
        unary(
          client,
          TypeRegistry.method.registerTypes,
          { fileDescriptorSet: exampleDescriptorSet() },
          {},
          bearer(token),
        ).response,
      );
    expect(await register(TOKENS.admin)).toBe(7);
    expect(await register(TOKENS.root)).toBe(0);
  });

  it('takes the token from google-gax call metadata, or an x-goog-api-key', async () => {
    await server.rest('POST', '/v1/projects/acme/operations', { operationId: 'gax-token' }, ROOT);
    const gax = gaxOperationsClient(server.grpcPort);
    const [operation] = await gax.getOperation(
      { name: 'projects/acme/operations/gax-token' },
      { otherArgs: { headers: { authorization: `Bearer ${TOKENS.viewer}` } } },
    );
    expect(operation.name).toBe('projects/acme/operations/gax-token');
    const denied = await gax.getOperation({ name: 'projects/acme/operations/gax-token' }).catch((e: any) => e);
    expect(denied.code).toBe(16);
    expect(denied.reason).toBe('UNAUTHENTICATED');
    await gax.close();
    const apiKey = new grpc.Metadata();
    apiKey.set('x-goog-api-key', TOKENS.viewer);
    expect(await call('get', 'acme', 'gax-token', apiKey)).toBe(0);
  });

  it('counts gRPC calls in the metrics, by method and code', async () => {
    await call('get', 'acme', 'metrics-missing', bearer(TOKENS.viewer));
    const text = await server.metrics.registry.metrics();
    expect(text).toMatch(/longrun_requests_total\{transport="grpc",method="get",code="NOT_FOUND"\} [1-9]/);
    expect(text).toMatch(/longrun_requests_total\{transport="grpc",method="get",code="PERMISSION_DENIED"\} [1-9]/);
  });
});

describe.each(GRPC_PATHS)('rate limits over gRPC ($path)', ({ fastPath }) => {
  it('answers RESOURCE_EXHAUSTED (8) with RetryInfo past the rate', async () => {
    const server = await startGrpcTestServer({ rateLimit: 1, rateBurst: 2 }, { fastPath });
    const client = grpcClient(server.target);
    const errors: any[] = [];
    for (let i = 0; i < 4; i++) {
      errors.push(
        await unary(client, Operations.method.getOperation, { name: 'operations/none' }).response.catch((e: any) => e),
      );
    }
    expect(errors.map((e) => e.code)).toEqual([5, 5, 8, 8]);
    const status = fromBinary(StatusSchema, errors[3].metadata.get('grpc-status-details-bin')[0]);
    const retry = status.details.find((d) => d.typeUrl === 'type.googleapis.com/google.rpc.RetryInfo')!;
    expect(
      fromBinary(RetryInfoSchema, retry.value).retryDelay!.nanos +
        Number(fromBinary(RetryInfoSchema, retry.value).retryDelay!.seconds),
    ).toBeGreaterThan(0);
    client.close();
    await server.stop();
  });
});
