/**
 * Helpers for the gRPC suites: a real server (REST and gRPC ports, one service), Google's
 * google-gax OperationsClient and plain @grpc/grpc-js calls against it, and the example
 * provider types built into a FileDescriptorSet with buf, as a provider would.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  create,
  createFileRegistry,
  type DescMessage,
  type DescMethodUnary,
  type FileRegistry,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { GoogleAuth, PassThroughClient } from 'google-auth-library';
import * as gax from 'google-gax';
import { AccessControl } from '../../packages/server/src/auth/access.js';
import { RequestGuard } from '../../packages/server/src/auth/guard.js';
import { DEFAULT_CONFIG, type ServerConfig } from '../../packages/server/src/config.js';
import { startGrpcServer } from '../../packages/server/src/grpc/grpc-server.js';
import { TypeRegistry } from '../../packages/server/src/grpc/type-registry.js';
import { type RunningServer, startServer } from '../../packages/server/src/server.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');

export interface GrpcTestServer extends RunningServer {
  grpcPort: number;
  /** `127.0.0.1:PORT`, the gRPC target. */
  target: string;
  /** A REST call; a string body is sent as it is, anything else as JSON; the answer is parsed as JSON. */
  rest(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

/**
 * The two ways a gRPC call is answered: the fast path for plain unary gRPC, and Connect-ES for
 * everything (grpc-fast-path.ts). The conformance suites run against both.
 */
export const GRPC_PATHS = [
  { path: 'fast path', fastPath: true },
  { path: 'Connect-ES', fastPath: false },
] as const;

export async function startGrpcTestServer(
  config: Partial<ServerConfig> = {},
  { fastPath = true }: { fastPath?: boolean } = {},
): Promise<GrpcTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-grpc-test-'));
  const full: Partial<ServerConfig> = {
    host: '127.0.0.1',
    port: 0,
    grpcPort: 0,
    store: join(dir, 'test.db'),
    logLevel: 'silent',
    ...config,
  };
  // startServer always takes the fast path; for Connect-ES alone, the gRPC transport is started
  // here beside a REST-only server, with the same pieces server.ts gives it.
  const server = await startServer(fastPath ? full : { ...full, grpcPort: undefined });
  let grpcPort = server.grpcPort;
  let stopGrpc = async () => {};
  if (!fastPath) {
    const types = new TypeRegistry();
    for (const path of full.descriptorSets ?? []) await types.registerFile(path);
    const grpcServer = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      service: server.service,
      types,
      access: new AccessControl(full.auth),
      guard: new RequestGuard({
        rateLimit: full.rateLimit ?? DEFAULT_CONFIG.rateLimit,
        rateBurst: full.rateBurst,
        maxWaitersPerPrincipal: full.maxWaitersPerPrincipal ?? DEFAULT_CONFIG.maxWaitersPerPrincipal,
      }),
      metrics: server.metrics,
      maxMessageBytes: full.maxBodyBytes ?? DEFAULT_CONFIG.maxBodyBytes,
      fastPath: false,
    });
    grpcPort = grpcServer.port;
    stopGrpc = () => grpcServer.close();
  }
  return {
    ...server,
    grpcUrl: `http://127.0.0.1:${grpcPort}`,
    grpcPort: grpcPort!,
    target: `127.0.0.1:${grpcPort}`,
    async rest(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
      const response = await fetch(server.url + path, init);
      const text = await response.text();
      return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
    },
    async stop() {
      await stopGrpc();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * google-gax's OperationsClient over insecure gRPC, as stack.md describes. Typed `any`: its
 * request types are protobufjs classes, and the tests pass plain objects as users do.
 */
export function gaxOperationsClient(port: number): any {
  const auth = new GoogleAuth({ authClient: new PassThroughClient() });
  return gax.lro({ grpc, auth } as any).operationsClient({
    servicePath: '127.0.0.1',
    port,
    sslCreds: grpc.credentials.createInsecure(),
  });
}

/** A unary call through a plain grpc-js client, (de)serialised with protobuf-es. */
export function unary<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: DescMethodUnary<I, O>,
  request: MessageInitShape<I>,
  options: grpc.CallOptions = {},
  requestMetadata: grpc.Metadata = new grpc.Metadata(),
): { call: grpc.ClientUnaryCall; response: Promise<{ message: MessageShape<O>; metadata: grpc.Metadata }> } {
  let call!: grpc.ClientUnaryCall;
  const response = new Promise<{ message: MessageShape<O>; metadata: grpc.Metadata }>((resolve, reject) => {
    let metadata = new grpc.Metadata();
    call = client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (message: MessageShape<I>) => Buffer.from(toBinary(method.input, message)),
      (bytes: Buffer) => fromBinary(method.output, bytes),
      create(method.input, request),
      requestMetadata,
      options,
      (error, message) => (error ? reject(error) : resolve({ message: message!, metadata })),
    );
    call.on('metadata', (received) => {
      metadata = received;
    });
  });
  return { call, response };
}

export function grpcClient(target: string): grpc.Client {
  return new grpc.Client(target, grpc.credentials.createInsecure());
}

let exampleSet: Uint8Array | undefined;

/** test/grpc/fixtures built with buf (`buf build -o`), imports included: what `--descriptor-set` takes. */
export function exampleDescriptorSet(): Uint8Array {
  if (!exampleSet) {
    const dir = mkdtempSync(join(tmpdir(), 'longrun-fds-'));
    const out = join(dir, 'example.binpb');
    execFileSync(join(REPO, 'node_modules', '.bin', 'buf'), ['build', join(HERE, 'fixtures'), '-o', out]);
    exampleSet = new Uint8Array(readFileSync(out));
    rmSync(dir, { recursive: true, force: true });
  }
  return exampleSet;
}

/** The example types as the provider's own code knows them. */
export function exampleTypes(): FileRegistry {
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, exampleDescriptorSet()));
}

/** Writes the example descriptor set to a file, for `descriptorSets`. */
export function exampleDescriptorSetFile(dir: string): string {
  const path = join(dir, 'example.binpb');
  execFileSync(join(REPO, 'node_modules', '.bin', 'buf'), ['build', join(HERE, 'fixtures'), '-o', path]);
  return path;
}

/** Call metadata carrying a Bearer token, as Google's clients send credentials. */
export function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
