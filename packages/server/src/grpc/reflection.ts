/**
 * gRPC server reflection (`grpc.reflection.v1.ServerReflection`, and `v1alpha` for older tools
 * such as grpcurl before 1.9): the services served, and each file descriptor with its transitive
 * imports, straight from the type registry, so types registered at run time are discoverable too.
 */
import { create, type DescFile, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code, type ServiceImpl } from '@connectrpc/connect';
import {
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  type ServerReflection as ServerReflectionV1,
} from './gen/grpc/reflection/v1/reflection_pb.js';
import {
  type ServerReflection as ServerReflectionV1alpha,
  ServerReflectionRequestSchema as V1alphaRequestSchema,
  ServerReflectionResponseSchema as V1alphaResponseSchema,
} from './gen/grpc/reflection/v1alpha/reflection_pb.js';
import type { TypeRegistry } from './type-registry.js';

type Response = MessageInitShape<typeof ServerReflectionResponseSchema>;

export class Reflection {
  readonly #types: TypeRegistry;
  readonly #services: readonly string[];
  readonly #encoded = new WeakMap<DescFile, Uint8Array>();

  /** `services`: the fully qualified names of the services the server answers. */
  constructor(types: TypeRegistry, services: readonly string[]) {
    this.#types = types;
    this.#services = services;
  }

  v1(): ServiceImpl<typeof ServerReflectionV1> {
    const answer = (request: ServerReflectionRequest) => this.answer(request);
    return {
      serverReflectionInfo: async function* (this: void, requests) {
        for await (const request of requests) yield answer(request);
      },
    };
  }

  v1alpha(): ServiceImpl<typeof ServerReflectionV1alpha> {
    // The two versions are the same messages under two package names: translate through the wire.
    const answer = (request: ServerReflectionRequest) => this.answer(request);
    return {
      serverReflectionInfo: async function* (this: void, requests) {
        for await (const request of requests) {
          const v1 = fromBinary(ServerReflectionRequestSchema, toBinary(V1alphaRequestSchema, request));
          const response = toBinary(ServerReflectionResponseSchema, create(ServerReflectionResponseSchema, answer(v1)));
          yield fromBinary(V1alphaResponseSchema, response);
        }
      },
    };
  }

  /** One request's answer; failures are answered in-band with an ErrorResponse, as the protocol asks. */
  answer(request: ServerReflectionRequest): Response {
    const base = { validHost: request.host, originalRequest: request };
    const notFound = (what: string): Response => ({
      ...base,
      messageResponse: {
        case: 'errorResponse',
        value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
      },
    });
    const files = (file: DescFile | undefined, what: string): Response =>
      file
        ? {
            ...base,
            messageResponse: {
              case: 'fileDescriptorResponse',
              value: { fileDescriptorProto: this.#withImports(file) },
            },
          }
        : notFound(what);
    const { registry } = this.#types;
    const query = request.messageRequest;
    switch (query.case) {
      case 'listServices':
        return {
          ...base,
          messageResponse: {
            case: 'listServicesResponse',
            value: { service: this.#services.map((name) => ({ name })) },
          },
        };
      case 'fileByFilename':
        return files(this.#types.files.get(query.value), `File "${query.value}"`);
      case 'fileContainingSymbol':
        return files(this.#fileOfSymbol(query.value), `Symbol "${query.value}"`);
      case 'fileContainingExtension': {
        const extendee = registry.getMessage(query.value.containingType);
        const extension = extendee ? registry.getExtensionFor(extendee, query.value.extensionNumber) : undefined;
        return files(extension?.file, `Extension ${query.value.extensionNumber} of "${query.value.containingType}"`);
      }
      case 'allExtensionNumbersOfType': {
        const typeName = query.value;
        if (!registry.getMessage(typeName)) return notFound(`Type "${typeName}"`);
        const numbers: number[] = [];
        for (const type of registry) {
          if (type.kind === 'extension' && type.extendee.typeName === typeName) numbers.push(type.number);
        }
        return {
          ...base,
          messageResponse: {
            case: 'allExtensionNumbersResponse',
            value: { baseTypeName: typeName, extensionNumber: numbers.sort((a, b) => a - b) },
          },
        };
      }
      default:
        return {
          ...base,
          messageResponse: {
            case: 'errorResponse',
            value: { errorCode: Code.InvalidArgument, errorMessage: 'The request names no message_request' },
          },
        };
    }
  }

  /** The file that declares a symbol: a type, a service, a method, a field or an enum value. */
  #fileOfSymbol(symbol: string): DescFile | undefined {
    const { registry } = this.#types;
    const direct = registry.get(symbol);
    if (direct) return direct.file;
    const dot = symbol.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const scope = registry.get(symbol.slice(0, dot));
    const member = symbol.slice(dot + 1);
    if (scope?.kind === 'service' && scope.methods.some((method) => method.name === member)) return scope.file;
    if (scope?.kind === 'message' && scope.fields.some((field) => field.name === member)) return scope.file;
    // An enum value's scope is the enum's parent (C++ scoping rules).
    for (const type of registry) {
      if (type.kind === 'enum' && type.typeName.slice(0, type.typeName.lastIndexOf('.')) === symbol.slice(0, dot)) {
        if (type.values.some((value) => value.name === member)) return type.file;
      }
    }
    return undefined;
  }

  /** The file and everything it imports, transitively, each once, the file itself first. */
  #withImports(file: DescFile): Uint8Array[] {
    const seen = new Set<DescFile>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      let bytes = this.#encoded.get(f);
      if (!bytes) {
        bytes = toBinary(FileDescriptorProtoSchema, f.proto);
        this.#encoded.set(f, bytes);
      }
      out.push(bytes);
      for (const dependency of f.dependencies) visit(dependency);
    };
    visit(file);
    return out;
  }
}
