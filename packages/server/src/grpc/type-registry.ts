/**
 * The message types the gRPC transport knows, so an Any can cross between proto3 JSON (what the
 * store keeps and REST speaks) and binary (what gRPC speaks). The well-known types, google.rpc,
 * google.api, google.longrunning, longrun.v1 and gRPC reflection are built in; users add
 * FileDescriptorSets at start-up (`--descriptor-set`) and at run time (`TypeRegistry.RegisterTypes`).
 */
import { readFile } from 'node:fs/promises';
import {
  createFileRegistry,
  createRegistry,
  type DescFile,
  type DescMessage,
  equals,
  fromBinary,
  type Registry,
} from '@bufbuild/protobuf';
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_source_context,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
} from '@bufbuild/protobuf/wkt';
import { file_google_api_annotations } from './gen/google/api/annotations_pb.js';
import { file_google_api_client } from './gen/google/api/client_pb.js';
import { file_google_api_field_behavior } from './gen/google/api/field_behavior_pb.js';
import { file_google_api_http } from './gen/google/api/http_pb.js';
import { file_google_api_launch_stage } from './gen/google/api/launch_stage_pb.js';
import { file_google_longrunning_operations } from './gen/google/longrunning/operations_pb.js';
import { file_google_rpc_code } from './gen/google/rpc/code_pb.js';
import { file_google_rpc_error_details } from './gen/google/rpc/error_details_pb.js';
import { file_google_rpc_status } from './gen/google/rpc/status_pb.js';
import { file_grpc_reflection_v1_reflection } from './gen/grpc/reflection/v1/reflection_pb.js';
import { file_grpc_reflection_v1alpha_reflection } from './gen/grpc/reflection/v1alpha/reflection_pb.js';
import { file_longrun_v1_provider } from './gen/longrun/v1/provider_pb.js';
import { file_longrun_v1_type_registry } from './gen/longrun/v1/type_registry_pb.js';
import { file_longrun_v1_watch } from './gen/longrun/v1/watch_pb.js';

/** The files every server knows, dependencies first. */
const BUILT_IN_FILES: readonly DescFile[] = [
  file_google_protobuf_descriptor,
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_source_context,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_api,
  file_google_protobuf_wrappers,
  file_google_api_http,
  file_google_api_annotations,
  file_google_api_launch_stage,
  file_google_api_client,
  file_google_api_field_behavior,
  file_google_rpc_code,
  file_google_rpc_status,
  file_google_rpc_error_details,
  file_google_longrunning_operations,
  file_longrun_v1_provider,
  file_longrun_v1_type_registry,
  file_longrun_v1_watch,
  file_grpc_reflection_v1_reflection,
  file_grpc_reflection_v1alpha_reflection,
];

/** A FileDescriptorSet that cannot be registered; nothing of it was. */
export class TypeRegistrationError extends Error {
  override name = 'TypeRegistrationError';
}

export interface RegisterResult {
  /** Files added or replaced; unchanged and built-in files are left out. */
  files: string[];
  /** Fully qualified names of the message types in those files, nested ones included. */
  messageTypes: string[];
}

interface Built {
  files: Map<string, DescFile>;
  registry: Registry;
}

/**
 * The registry. Lookups read an immutable snapshot; a registration builds a complete new one
 * and swaps it in, so a registration that fails leaves the registry as it was.
 */
export class TypeRegistry {
  readonly #builtIn: ReadonlyMap<string, DescFile>;
  /** User files by name, in the order they were first registered. */
  #user = new Map<string, FileDescriptorProto>();
  #built: Built;
  #version = 0;

  constructor() {
    const files = new Map<string, DescFile>();
    for (const file of BUILT_IN_FILES) files.set(file.proto.name, file);
    this.#builtIn = files;
    this.#built = { files, registry: createRegistry(...files.values()) };
  }

  /** Every type, built in and registered. */
  get registry(): Registry {
    return this.#built.registry;
  }

  /** Every file by name, built in and registered. */
  get files(): ReadonlyMap<string, DescFile> {
    return this.#built.files;
  }

  /** Increases with every registration that changed something (for caches). */
  get version(): number {
    return this.#version;
  }

  /** The message type a type URL (`type.googleapis.com/pkg.Msg`) or a type name names. */
  messageFor(typeUrlOrName: string): DescMessage | undefined {
    return this.#built.registry.getMessage(typeUrlOrName.slice(typeUrlOrName.lastIndexOf('/') + 1));
  }

  /** Registers a serialized FileDescriptorSet. */
  registerBinary(bytes: Uint8Array, source = 'the FileDescriptorSet'): RegisterResult {
    let files: FileDescriptorProto[];
    try {
      files = fromBinary(FileDescriptorSetSchema, bytes).file;
    } catch (error) {
      throw new TypeRegistrationError(
        `${source} is not a serialized google.protobuf.FileDescriptorSet: ${message(error)}`,
      );
    }
    return this.register(files, source);
  }

  /** Registers a FileDescriptorSet file (`buf build -o`, `protoc --descriptor_set_out --include_imports`). */
  async registerFile(path: string): Promise<RegisterResult> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new TypeRegistrationError(`Cannot read the descriptor set ${path}: ${message(error)}`);
    }
    return this.registerBinary(bytes, path);
  }

  /**
   * Registers files. Built-in file names are skipped (the built-in file wins), identical
   * re-registrations change nothing, and a changed file replaces the one of the same name.
   */
  register(files: readonly FileDescriptorProto[], source = 'the FileDescriptorSet'): RegisterResult {
    const next = new Map(this.#user);
    const changed: string[] = [];
    for (const file of files) {
      if (file.name === '') throw new TypeRegistrationError(`${source} has a file without a name`);
      if (this.#builtIn.has(file.name)) continue;
      const current = next.get(file.name);
      if (current && equals(FileDescriptorProtoSchema, current, file)) continue;
      next.set(file.name, file);
      if (!changed.includes(file.name)) changed.push(file.name);
    }
    if (changed.length === 0) return { files: [], messageTypes: [] };
    const built = this.#build(next, source);
    this.#user = next;
    this.#built = built;
    this.#version++;
    const messageTypes: string[] = [];
    for (const name of changed) {
      for (const type of createRegistry(built.files.get(name)!)) {
        if (type.kind === 'message') messageTypes.push(type.typeName);
      }
    }
    return { files: changed, messageTypes };
  }

  /** Builds every user file on top of the built-in ones, checking imports and duplicate types. */
  #build(user: ReadonlyMap<string, FileDescriptorProto>, source: string): Built {
    const files = new Map(this.#builtIn);
    const owner = new Map<string, string>();
    for (const file of files.values()) {
      for (const type of createRegistry(file)) owner.set(type.typeName, file.proto.name);
    }
    const building = new Set<string>();
    const build = (name: string, importedBy: string | undefined): DescFile => {
      const done = files.get(name);
      if (done) return done;
      const proto = user.get(name);
      if (!proto) {
        throw new TypeRegistrationError(
          `${source}: ${importedBy} imports "${name}", which is neither in the set nor registered; ` +
            'build the set with its imports (buf build, or protoc --include_imports)',
        );
      }
      if (building.has(name)) throw new TypeRegistrationError(`${source}: "${name}" imports itself (an import cycle)`);
      building.add(name);
      for (const dependency of proto.dependency) build(dependency, name);
      let file: DescFile | undefined;
      try {
        file = createFileRegistry(proto, (dependency) => files.get(dependency)).getFile(name);
      } catch (error) {
        throw new TypeRegistrationError(`${source}: "${name}" is not a valid file descriptor: ${message(error)}`);
      }
      if (!file) throw new TypeRegistrationError(`${source}: "${name}" could not be built`);
      for (const type of createRegistry(file)) {
        const other = owner.get(type.typeName);
        if (other !== undefined && other !== name) {
          throw new TypeRegistrationError(
            `${source}: "${name}" defines ${type.typeName}, which "${other}" already defines`,
          );
        }
        owner.set(type.typeName, name);
      }
      files.set(name, file);
      return file;
    };
    for (const name of user.keys()) build(name, undefined);
    return { files, registry: createRegistry(...files.values()) };
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
