/**
 * The Operation between its two forms: proto3 JSON (what the service takes and the store keeps)
 * and binary (what gRPC carries). The hard part is `google.protobuf.Any`: JSON names the type and
 * spells out its fields, binary is a type URL plus opaque bytes, and only the type registry can
 * turn one into the other.
 *
 * Binary to JSON (a provider writing over gRPC): when the registry knows the type and the bytes
 * read as that type with nothing left over, the Any is stored as ordinary proto3 JSON, so REST
 * readers, filters and JSON clients see its fields. Otherwise (unknown type, bytes that do not
 * parse, fields the registered schema lacks, …) the bytes are stored exactly as received, as
 * `{"@type": url, "@value": "<base64>"}`, and a gRPC read hands back the same bytes.
 *
 * JSON to binary (anyone reading over gRPC): the stored form above gives back its bytes; ordinary
 * JSON needs its type registered, else the read fails with FAILED_PRECONDITION naming the type.
 */
import {
  create,
  type DescField,
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonObject,
  type JsonValue,
  type Registry,
  ScalarType,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import { base64Decode, base64Encode } from '@bufbuild/protobuf/wire';
import { type Any, AnySchema, anyUnpack } from '@bufbuild/protobuf/wkt';
import { LosslessNumber } from 'lossless-json';
import { isJsonObject, parseJson } from '../contract/json.js';
import type { OperationState } from '../contract/operation.js';
import { VALUE_WRAPPED_TYPES } from '../contract/operation.js';
import { NotEncodableError, TYPE_MISMATCH, TYPE_NOT_REGISTERED } from './errors.js';
import { type Operation, OperationSchema } from './gen/google/longrunning/operations_pb.js';
import { type Status, StatusSchema } from './gen/google/rpc/status_pb.js';
import type { TypeRegistry } from './type-registry.js';

/** The JSON key that holds an Any's bytes, base64, when its type could not be spelled out as JSON. */
export const RAW_VALUE_KEY = '@value';

const INT64_SCALARS = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
  ScalarType.SINT64,
]);

/** Standard base64 as proto3 JSON writes bytes (padding optional on input). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** The encoded-Any cache: entries (oldest out first), and the longest text it keeps. */
const CACHE_ENTRIES = 4096;
const CACHED_TEXT_MAX = 2048;

// As in contract/json.ts: fifteen significant digits always survive a double.
const MAYBE_UNSAFE_NUMBER = /[0-9][0-9.]{15}/;

export class AnyCodec {
  readonly #types: TypeRegistry;
  /**
   * Stored text → its binary Any, for the texts read again and again (a polled operation's
   * metadata). Small texts only; emptied when the registry changes.
   */
  readonly #encoded = new Map<string, Any>();
  #encodedVersion = 0;

  constructor(types: TypeRegistry) {
    this.#types = types;
  }

  // ---- binary (from a gRPC request) to proto3 JSON (for the service) ----

  /** An Operation from a gRPC request as the JSON object the service takes. */
  operationToJson(operation: Operation | undefined): JsonObject | undefined {
    if (!operation) return undefined;
    const json: JsonObject = {};
    if (operation.name !== '') json.name = operation.name;
    if (operation.metadata) json.metadata = this.anyToJson(operation.metadata);
    if (operation.done) json.done = true;
    if (operation.result.case === 'error') json.error = this.statusToJson(operation.result.value);
    else if (operation.result.case === 'response') json.response = this.anyToJson(operation.result.value);
    return json;
  }

  statusToJson(status: Status): JsonObject {
    const json: JsonObject = { code: status.code };
    if (status.message !== '') json.message = status.message;
    if (status.details.length > 0) json.details = status.details.map((detail) => this.anyToJson(detail));
    return json;
  }

  /** An Any as proto3 JSON when that is faithful, else its bytes as received (see the module comment). */
  anyToJson(any: Any): JsonObject {
    if (any.typeUrl === '' && any.value.length === 0) return {}; // An empty Any; the service rejects it.
    const registry = this.#types.registry;
    const desc = this.#types.messageFor(any.typeUrl);
    if (desc) {
      try {
        const message = fromBinary(desc, any.value);
        if (isFaithful(message, registry)) {
          const body = toJson(desc, message, { registry });
          return VALUE_WRAPPED_TYPES.has(desc.typeName)
            ? { '@type': any.typeUrl, value: body }
            : { '@type': any.typeUrl, ...(body as JsonObject) };
        }
      } catch {
        // Bytes that do not read as the registered type: keep them as they are.
      }
    }
    return { '@type': any.typeUrl, [RAW_VALUE_KEY]: base64Encode(any.value) };
  }

  // ---- stored proto3 JSON to binary (for a gRPC response) ----

  /** A stored operation as the binary Operation. Throws NotEncodableError for an Any it cannot encode. */
  operationFromRecord(record: OperationState): Operation {
    const operation = create(OperationSchema, { name: record.name, done: record.done });
    if (record.metadata !== null) operation.metadata = this.anyFromText(record.metadata, 'metadata');
    if (record.error !== null) {
      operation.result = { case: 'error', value: this.statusFromText(record.error, 'error') };
    } else if (record.response !== null) {
      operation.result = { case: 'response', value: this.anyFromText(record.response, 'response') };
    }
    return operation;
  }

  statusFromText(text: string, field: string): Status {
    const json = (MAYBE_UNSAFE_NUMBER.test(text) ? parseJson(text) : JSON.parse(text)) as {
      code?: number;
      message?: string;
      details?: unknown[];
    };
    const status = create(StatusSchema, { code: json.code ?? 0, message: json.message ?? '' });
    status.details = (json.details ?? []).map((detail, i) =>
      this.anyFromJson(isJsonObject(detail) ? detail : {}, `${field}.details[${i}]`, text),
    );
    return status;
  }

  anyFromText(text: string, field: string): Any {
    if (this.#encodedVersion !== this.#types.version) {
      this.#encoded.clear();
      this.#encodedVersion = this.#types.version;
    }
    const cached = this.#encoded.get(text);
    if (cached) return cached;
    const json = MAYBE_UNSAFE_NUMBER.test(text) ? parseJson(text) : JSON.parse(text);
    const any = this.anyFromJson(isJsonObject(json) ? json : {}, field, text);
    if (text.length <= CACHED_TEXT_MAX) {
      if (this.#encoded.size >= CACHE_ENTRIES) this.#encoded.delete(this.#encoded.keys().next().value!);
      this.#encoded.set(text, any);
    }
    return any;
  }

  /** `json` may hold LosslessNumber values when `text` (its source) has numbers a double cannot hold. */
  anyFromJson(json: Record<string, unknown>, field: string, text: string): Any {
    const typeUrl = typeof json['@type'] === 'string' ? json['@type'] : '';
    const raw = json[RAW_VALUE_KEY];
    if (raw !== undefined) {
      if (typeof raw !== 'string' || !BASE64.test(raw) || Object.keys(json).length !== 2) {
        throw new NotEncodableError(
          TYPE_MISMATCH,
          typeUrl,
          field,
          `The ${field} Any holds "${RAW_VALUE_KEY}" but is not {"@type": …, "${RAW_VALUE_KEY}": "<base64>"}`,
        );
      }
      return create(AnySchema, { typeUrl, value: base64Decode(raw) });
    }
    const desc = this.#types.messageFor(typeUrl);
    if (!desc) {
      throw new NotEncodableError(
        TYPE_NOT_REGISTERED,
        typeUrl,
        field,
        `The ${field} of this operation is a ${typeUrl}, a type this server does not know, so it cannot be sent as ` +
          'binary. Register the type (longrun serve --descriptor-set, or longrun.v1.TypeRegistry/RegisterTypes), ' +
          'or read the operation over REST',
      );
    }
    const registry = this.#types.registry;
    try {
      const { '@type': _, ...fields } = json;
      let body: unknown = VALUE_WRAPPED_TYPES.has(desc.typeName) ? fields.value : fields;
      if (MAYBE_UNSAFE_NUMBER.test(text)) body = plainNumbers(body, desc, registry);
      const message = fromJson(desc, body as JsonValue, { registry });
      return create(AnySchema, { typeUrl, value: toBinary(desc, message) });
    } catch (error) {
      throw new NotEncodableError(
        TYPE_MISMATCH,
        typeUrl,
        field,
        `The ${field} of this operation does not fit the registered type ${desc.typeName}: ` +
          (error instanceof Error ? error.message : String(error)),
      );
    }
  }
}

/**
 * True when the JSON of a message read from binary says everything the bytes said: no unknown
 * fields (a newer schema, extensions, an unknown closed-enum value), no invalid UTF-8 replaced by
 * U+FFFD, no negative zero (JSON has none), and the same in every nested Any.
 */
function isFaithful(value: unknown, registry: Registry): boolean {
  if (typeof value === 'string') return !value.includes('\uFFFD');
  if (typeof value === 'number') return !Object.is(value, -0);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.every((item) => isFaithful(item, registry));
  const record = value as Record<string, unknown>;
  if (Array.isArray(record.$unknown) && record.$unknown.length > 0) return false;
  if (record.$typeName === 'google.protobuf.Any') {
    const any = value as Any;
    if (any.typeUrl === '') return any.value.length === 0;
    const inner = anyUnpack(any, registry);
    if (!inner) return false;
    return isFaithful(inner, registry);
  }
  for (const [key, item] of Object.entries(record)) {
    if (key !== '$typeName' && !isFaithful(item, registry)) return false;
  }
  return true;
}

/**
 * Replaces LosslessNumbers with what protobuf-es reads exactly: a decimal string for 64-bit
 * integer fields (proto3 JSON allows it), a number everywhere else (where a double is all the
 * field can hold anyway).
 */
function plainNumbers(value: unknown, desc: DescMessage | undefined, registry: Registry): unknown {
  if (value instanceof LosslessNumber) return Number(value.toString());
  if (Array.isArray(value)) return value.map((item) => plainNumbers(item, undefined, registry));
  if (!isJsonObject(value)) return value;
  if (desc?.typeName === 'google.protobuf.Any') {
    const inner =
      typeof value['@type'] === 'string' ? registry.getMessage(value['@type'].replace(/^.*\//, '')) : undefined;
    if (inner && VALUE_WRAPPED_TYPES.has(inner.typeName)) {
      return { ...value, value: wrapped(value.value, inner, registry) };
    }
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        key === '@type' ? item : fieldValue(item, fieldOf(inner, key), registry),
      ]),
    );
  }
  if (desc && VALUE_WRAPPED_TYPES.has(desc.typeName)) return wrapped(value, desc, registry);
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, fieldValue(item, fieldOf(desc, key), registry)]),
  );
}

function wrapped(value: unknown, desc: DescMessage, registry: Registry): unknown {
  if (value instanceof LosslessNumber) {
    const inner = desc.fields[0];
    return desc.typeName.endsWith('Int64Value') && inner ? scalar(value, inner.scalar) : Number(value.toString());
  }
  return plainNumbers(value, undefined, registry);
}

function fieldOf(desc: DescMessage | undefined, key: string): DescField | undefined {
  return desc?.fields.find((field) => field.jsonName === key || field.name === key);
}

function fieldValue(value: unknown, field: DescField | undefined, registry: Registry): unknown {
  if (!field) return plainNumbers(value, undefined, registry);
  switch (field.fieldKind) {
    case 'scalar':
      return scalar(value, field.scalar);
    case 'message':
      return plainNumbers(value, field.message, registry);
    case 'list':
      if (!Array.isArray(value)) return plainNumbers(value, undefined, registry);
      return value.map((item) =>
        field.listKind === 'scalar'
          ? scalar(item, field.scalar)
          : plainNumbers(item, field.listKind === 'message' ? field.message : undefined, registry),
      );
    case 'map':
      if (!isJsonObject(value)) return plainNumbers(value, undefined, registry);
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [
          key,
          field.mapKind === 'scalar'
            ? scalar(item, field.scalar)
            : plainNumbers(item, field.mapKind === 'message' ? field.message : undefined, registry),
        ]),
      );
    default:
      return plainNumbers(value, undefined, registry);
  }
}

function scalar(value: unknown, type: ScalarType | undefined): unknown {
  if (!(value instanceof LosslessNumber)) return value;
  return type !== undefined && INT64_SCALARS.has(type) ? value.toString() : Number(value.toString());
}
