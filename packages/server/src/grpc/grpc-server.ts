/**
 * The gRPC transport: Connect-ES on an HTTP/2 server of its own (gRPC needs HTTP/2; REST stays
 * on HTTP/1.1), answering gRPC, gRPC-web and Connect from the same handlers, with server
 * reflection.
 *
 * ```ts
 * const grpc = await startGrpcServer({ host: '127.0.0.1', port: 0, service, types: new TypeRegistry() });
 * console.log(grpc.url); // http://127.0.0.1:40123 — insecure (h2c): grpc.credentials.createInsecure()
 * await grpc.close();
 * ```
 */
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { DescService, Registry } from '@bufbuild/protobuf';
import type { Code, ConnectRouter, Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { codeName } from '@longrun/client';
import { AccessControl, type Principal } from '../auth/access.js';
import { RequestGuard } from '../auth/guard.js';
import type { ServerConfig } from '../config.js';
import type { Metrics } from '../observability/metrics.js';
import type { OperationsService } from '../service/operations-service.js';
import type { GrpcWatch } from '../watch/grpc-watch.js';
import { authorizeCall, CALL_RULES, credential, PRINCIPAL } from './access.js';
import { AnyCodec } from './any-codec.js';
import { toConnectError } from './errors.js';
import { Operations } from './gen/google/longrunning/operations_pb.js';
import { ServerReflection as ServerReflectionV1 } from './gen/grpc/reflection/v1/reflection_pb.js';
import { ServerReflection as ServerReflectionV1alpha } from './gen/grpc/reflection/v1alpha/reflection_pb.js';
import { OperationsProvider } from './gen/longrun/v1/provider_pb.js';
import { TypeRegistry as TypeRegistryService } from './gen/longrun/v1/type_registry_pb.js';
import { OperationsWatch } from './gen/longrun/v1/watch_pb.js';
import { createFastPath, percentEncode, type UnaryRoute } from './grpc-fast-path.js';
import { operationsImpl, providerImpl, typeRegistryImpl } from './handlers.js';
import { Reflection } from './reflection.js';
import { TypeRegistry } from './type-registry.js';

export interface GrpcServerOptions {
  /** Interface to listen on. */
  host: string;
  /** Port; 0 picks any free port. */
  port: number;
  service: OperationsService;
  types: TypeRegistry;
  /** Who may call what; the same as REST's. @default no principals: every caller is an admin */
  access?: AccessControl;
  /** Per-principal rate and wait limits; the same object as REST's, so both count. @default no limits */
  guard?: RequestGuard;
  /** Counts calls as `longrun_requests_total{transport="grpc"}`. */
  metrics?: Metrics;
  /** Largest request message, in bytes (as REST's largest body). @default 4 MiB */
  maxMessageBytes?: number;
  /** One line per call, and unexpected errors (answered INTERNAL). @default errors to stderr */
  log?: GrpcLog;
  /**
   * Answer plain unary gRPC calls (binary, uncompressed) without Connect-ES's pipeline, several
   * times cheaper (grpc-fast-path.ts); false sends every call through Connect-ES. @default true
   */
  fastPath?: boolean;
  /** How long close() lets calls in flight finish before it cuts the connections. @default 5 s */
  closeTimeoutMs?: number;
  /** Watch streams (watch/grpc-watch.ts): OperationsWatch is served when given. */
  watch?: GrpcWatch | undefined;
}

/** The part of a pino logger the transport uses. */
export interface GrpcLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface RunningGrpcServer {
  /** `http://host:port`: plaintext HTTP/2 (h2c), so clients use insecure credentials. */
  url: string;
  port: number;
  /** Stops accepting calls, lets calls in flight finish (up to the close timeout), closes the connections. */
  close(): Promise<void>;
}

/** Every service this transport answers, as reflection lists them. */
export const GRPC_SERVICES = [
  Operations,
  OperationsProvider,
  TypeRegistryService,
  OperationsWatch,
  ServerReflectionV1,
  ServerReflectionV1alpha,
];

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const { service, types } = options;
  const codec = new AnyCodec(types);
  // Reflection lists what this server answers: OperationsWatch only when watch streams are on.
  const reflection = new Reflection(
    types,
    GRPC_SERVICES.filter((s) => s !== OperationsWatch || options.watch).map((s) => s.typeName),
  );
  const access = options.access ?? new AccessControl(undefined);
  const guard = options.guard ?? new RequestGuard({ rateLimit: 0, maxWaitersPerPrincipal: Number.POSITIVE_INFINITY });
  const log: GrpcLog = options.log ?? {
    info: () => {},
    error: (fields, message) => console.error(`longrun gRPC: ${message}`, fields),
  };
  const logError = (error: unknown) => log.error({ err: error }, 'internal error');
  // Every call: authenticated, admitted and authorised as over REST, before the handler runs.
  // Handlers throw ApiError (the service's) or NotEncodableError (the codec's); clients get a
  // ConnectError with the google.rpc.Status details in grpc-status-details-bin.
  const calls: Interceptor = (next) => async (request) => {
    const started = performance.now();
    const rule = CALL_RULES[`${request.service.typeName}/${request.method.name}`];
    const method = rule?.method ?? request.method.name;
    let principal: Principal | undefined;
    let code: Code | undefined;
    try {
      principal = access.authenticate(credential(request.header));
      guard.admit(principal);
      if (rule && !request.stream) {
        authorizeCall(access, principal, rule, request.message, service.limits.maxNameLength);
      }
      request.contextValues.set(PRINCIPAL, principal);
      return await next(request);
    } catch (error) {
      const answer = toConnectError(error, types.registry, logError);
      code = answer.code;
      throw answer;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const codeText = codeName(code ?? 0) ?? String(code);
      options.metrics?.observe('grpc', method, codeText, seconds);
      log.info(
        {
          rpc: method,
          path: `/${request.service.typeName}/${request.method.name}`,
          principal: principal?.name,
          code: codeText,
          ms: Math.round(seconds * 10_000) / 10,
        },
        'request',
      );
    }
  };
  const impls = {
    operations: operationsImpl(service, codec, guard),
    provider: providerImpl(service, codec),
    typeRegistry: typeRegistryImpl(types),
  };
  const readMaxBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  const handler = connectNodeAdapter({
    routes(router: ConnectRouter) {
      router.service(Operations, impls.operations);
      router.service(OperationsProvider, impls.provider);
      router.service(TypeRegistryService, impls.typeRegistry);
      if (options.watch) {
        router.service(
          OperationsWatch,
          options.watch.impl(codec, access, (error) => toConnectError(error, types.registry, logError)),
        );
      }
      router.service(ServerReflectionV1, reflection.v1());
      router.service(ServerReflectionV1alpha, reflection.v1alpha());
    },
    interceptors: [calls],
    readMaxBytes,
    // The Connect and gRPC-web JSON encodings need the registry for Any, including types registered later.
    jsonOptions: { registry: liveRegistry(types) },
  });
  const fastPath =
    options.fastPath === false
      ? () => false
      : createFastPath({
          routes: unaryRoutes([
            [Operations, impls.operations],
            [OperationsProvider, impls.provider],
            [TypeRegistryService, impls.typeRegistry],
          ]),
          interceptors: [calls],
          readMaxBytes,
        });
  const server: Http2Server = createServer((request, response) => {
    if (fastPath(request, response)) return;
    const addTrailers = response.addTrailers.bind(response);
    response.addTrailers = (trailers) => {
      const message = trailers['grpc-message'];
      if (typeof message === 'string') trailers['grpc-message'] = reencodeGrpcMessage(message);
      addTrailers(trailers);
    };
    handler(request, response);
  });
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // GOAWAY: no new calls on open connections; calls in flight finish (the service answers
        // waits at once with the current state when it closes, before this).
        for (const session of sessions) session.close();
        const force = setTimeout(() => {
          for (const session of sessions) session.destroy();
        }, options.closeTimeoutMs ?? 5000);
        force.unref();
      });
      return closing;
    },
  };
}

/**
 * The gRPC transport as the server's configuration asks: none without `grpcPort`; with it, the
 * built-in types and those of every `descriptorSets` file (a file that cannot be read or
 * registered stops the start-up).
 */
export async function startConfiguredGrpcServer(
  config: Pick<ServerConfig, 'host' | 'grpcPort' | 'descriptorSets' | 'maxBodyBytes'>,
  service: OperationsService,
  shared: Pick<GrpcServerOptions, 'access' | 'guard' | 'metrics' | 'log' | 'watch'> = {},
): Promise<RunningGrpcServer | undefined> {
  if (config.grpcPort === undefined || config.grpcPort === null) return undefined;
  const types = new TypeRegistry();
  for (const path of config.descriptorSets ?? []) await types.registerFile(path);
  return startGrpcServer({
    host: config.host,
    port: config.grpcPort,
    service,
    types,
    maxMessageBytes: config.maxBodyBytes,
    ...shared,
  });
}

/**
 * Connect percent-encodes `grpc-message` with encodeURIComponent, so `/` becomes `%2F`; grpc-js
 * decodes it with decodeURI, which leaves `%2F` as it is, and Node clients saw
 * `Operation "operations%2Fabc" not found`. The gRPC spec encodes only what is not printable
 * ASCII, and `%`: every decoder reads that.
 */
function reencodeGrpcMessage(encoded: string): string {
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
  return percentEncode(text);
}

/** The unary methods of the services, by request path, with their implementations. */
function unaryRoutes(services: [DescService, Record<string, unknown>][]): Map<string, UnaryRoute> {
  const routes = new Map<string, UnaryRoute>();
  for (const [desc, impl] of services) {
    for (const method of desc.methods) {
      if (method.methodKind !== 'unary') continue;
      const fn = impl[method.localName] as UnaryRoute['impl'] | undefined;
      if (fn) routes.set(`/${desc.typeName}/${method.name}`, { method: method as UnaryRoute['method'], impl: fn });
    }
  }
  return routes;
}

/** A Registry that always reads the type registry's current snapshot. */
function liveRegistry(types: TypeRegistry): Registry {
  return {
    kind: 'registry',
    [Symbol.iterator]: () => types.registry[Symbol.iterator](),
    get: (typeName) => types.registry.get(typeName),
    getMessage: (typeName) => types.registry.getMessage(typeName),
    getEnum: (typeName) => types.registry.getEnum(typeName),
    getExtension: (typeName) => types.registry.getExtension(typeName),
    getExtensionFor: (extendee, no) => types.registry.getExtensionFor(extendee, no),
    getService: (typeName) => types.registry.getService(typeName),
  };
}
