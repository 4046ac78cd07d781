import { create, type DescMessage, equals, fromBinary, fromJson, type JsonObject, toBinary } from '@bufbuild/protobuf';
import { base64Encode } from '@bufbuild/protobuf/wire';
import {
  type Any,
  AnySchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  StructSchema,
  ValueSchema,
} from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJson, stringifyJson } from '../contract/json.js';
import { AnyCodec, RAW_VALUE_KEY } from './any-codec.js';
import { NotEncodableError } from './errors.js';
import { StatusSchema } from './gen/google/rpc/status_pb.js';
import { TypeRegistry } from './type-registry.js';

const { STRING, INT64, UINT64, INT32, MESSAGE, DOUBLE } = FieldDescriptorProto_Type;
const OPTIONAL = FieldDescriptorProto_Label.OPTIONAL;
const REPEATED = FieldDescriptorProto_Label.REPEATED;

function field(name: string, number: number, type: FieldDescriptorProto_Type, extra: object = {}) {
  return {
    name,
    number,
    type,
    label: OPTIONAL,
    jsonName: name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
    ...extra,
  };
}

/** A provider's types: proto3 with 64-bit integers, maps, nested messages; and one proto2 message. */
function registry(): TypeRegistry {
  const types = new TypeRegistry();
  types.register([
    create(FileDescriptorProtoSchema, {
      name: 'jobs/v1/jobs.proto',
      package: 'jobs.v1',
      syntax: 'proto3',
      dependency: ['google/protobuf/timestamp.proto'],
      messageType: [
        {
          name: 'Progress',
          field: [
            field('done_count', 1, INT64),
            field('total_bytes', 2, UINT64),
            field('ratio', 3, DOUBLE),
            field('step', 4, STRING),
            field('started', 5, MESSAGE, { typeName: '.google.protobuf.Timestamp' }),
            field('counts', 6, INT64, { label: REPEATED }),
            field('sizes', 7, MESSAGE, { label: REPEATED, typeName: '.jobs.v1.Progress.SizesEntry' }),
            field('percent', 8, INT32),
          ],
          nestedType: [
            {
              name: 'SizesEntry',
              options: { mapEntry: true },
              field: [field('key', 1, STRING), field('value', 2, UINT64)],
            },
          ],
        },
      ],
    }),
    create(FileDescriptorProtoSchema, {
      name: 'legacy/v1/legacy.proto',
      package: 'legacy.v1',
      syntax: 'proto2',
      messageType: [{ name: 'Note', field: [field('text', 1, STRING)] }],
    }),
  ]);
  return types;
}

const types = registry();
const codec = new AnyCodec(types);
const Progress = types.messageFor('jobs.v1.Progress')!;
const Note = types.messageFor('legacy.v1.Note')!;

function pack(desc: DescMessage, json: JsonObject): Any {
  return create(AnySchema, {
    typeUrl: `type.googleapis.com/${desc.typeName}`,
    value: toBinary(desc, fromJson(desc, json, { registry: types.registry })),
  });
}

/** What the store keeps for an Any that arrived over gRPC (the service stringifies the JSON). */
function stored(any: Any): string {
  return stringifyJson(codec.anyToJson(any));
}

describe('AnyCodec: binary → JSON', () => {
  it('spells out registered types as proto3 JSON, @type first', () => {
    const any = pack(Progress, {
      doneCount: '12',
      totalBytes: '18446744073709551615',
      step: 'copy',
      started: '2026-01-02T03:04:05Z',
    });
    expect(stored(any)).toBe(
      '{"@type":"type.googleapis.com/jobs.v1.Progress","doneCount":"12","totalBytes":"18446744073709551615","step":"copy","started":"2026-01-02T03:04:05Z"}',
    );
  });

  it('puts well-known types with special JSON under "value"', () => {
    const any = create(AnySchema, {
      typeUrl: 'type.googleapis.com/google.protobuf.Struct',
      value: toBinary(StructSchema, fromJson(StructSchema, { a: [1, 'x'] })),
    });
    expect(codec.anyToJson(any)).toEqual({
      '@type': 'type.googleapis.com/google.protobuf.Struct',
      value: { a: [1, 'x'] },
    });
  });

  it('keeps the type URL’s host as sent', () => {
    const any = { ...pack(Progress, { step: 's' }), typeUrl: 'example.com/jobs.v1.Progress' };
    expect(codec.anyToJson(any)['@type']).toBe('example.com/jobs.v1.Progress');
  });

  it('keeps the bytes of what JSON cannot say faithfully', () => {
    const raw = (any: Any) => ({ '@type': any.typeUrl, [RAW_VALUE_KEY]: base64Encode(any.value) });
    // A type nobody registered.
    const unknown = create(AnySchema, { typeUrl: 'type.googleapis.com/acme.Secret', value: new Uint8Array([1, 2, 3]) });
    expect(codec.anyToJson(unknown)).toEqual(raw(unknown));
    // A field the registered schema lacks (a newer provider).
    const newer = { ...pack(Progress, { step: 's' }) };
    newer.value = new Uint8Array([...newer.value, 0xf8, 0x06, 0x01]); // field 111, varint 1
    expect(codec.anyToJson(newer)).toEqual(raw(newer));
    // Bytes that do not parse as the registered type.
    const broken = create(AnySchema, {
      typeUrl: 'type.googleapis.com/jobs.v1.Progress',
      value: new Uint8Array([0x0a, 0x05, 0x61]),
    });
    expect(codec.anyToJson(broken)).toEqual(raw(broken));
    // Invalid UTF-8 in a proto2 string (read as U+FFFD, which JSON would keep instead of the bytes).
    const badText = create(AnySchema, {
      typeUrl: 'type.googleapis.com/legacy.v1.Note',
      value: new Uint8Array([0x0a, 0x01, 0xff]),
    });
    expect(codec.anyToJson(badText)).toEqual(raw(badText));
    expect(fromBinary(Note, badText.value)).toBeDefined();
    // Negative zero, which JSON has no spelling for.
    const negativeZero = create(AnySchema, {
      typeUrl: 'type.googleapis.com/google.protobuf.Value',
      value: toBinary(ValueSchema, create(ValueSchema, { kind: { case: 'numberValue', value: -0 } })),
    });
    expect(codec.anyToJson(negativeZero)).toEqual(raw(negativeZero));
    // A nested Any of an unknown type (a Status whose detail nobody registered).
    const status = create(AnySchema, {
      typeUrl: 'type.googleapis.com/google.rpc.Status',
      value: toBinary(StatusSchema, create(StatusSchema, { code: 3, details: [unknown] })),
    });
    expect(codec.anyToJson(status)).toEqual(raw(status));
  });

  it('never loses anything: gRPC → store → gRPC gives the same message, or the same bytes', () => {
    const progress = fc.record({
      doneCount: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      totalBytes: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      ratio: fc.double(),
      step: fc.string({ unit: 'grapheme' }),
      counts: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 4 }),
      sizes: fc.dictionary(fc.string(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxKeys: 3 }),
      percent: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(progress, fc.uint8Array({ maxLength: 6 }), (init, junk) => {
        const bytes = new Uint8Array([...toBinary(Progress, create(Progress, init as never)), ...junk]);
        const sent = create(AnySchema, { typeUrl: 'type.googleapis.com/jobs.v1.Progress', value: bytes });
        const back = codec.anyFromText(stored(sent), 'metadata');
        expect(back.typeUrl).toBe(sent.typeUrl);
        let original: unknown;
        try {
          original = fromBinary(Progress, bytes);
        } catch {
          expect(Buffer.from(back.value)).toEqual(Buffer.from(bytes));
          return;
        }
        if (Buffer.compare(Buffer.from(back.value), Buffer.from(bytes)) !== 0) {
          expect(equals(Progress, fromBinary(Progress, back.value), original as never)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('AnyCodec: stored JSON → binary', () => {
  it('reads 64-bit integers written as JSON numbers exactly, wherever they are', () => {
    const text =
      '{"@type":"type.googleapis.com/jobs.v1.Progress","doneCount":-9223372036854775808,"totalBytes":18446744073709551615,' +
      '"counts":[9007199254740993],"sizes":{"a":18446744073709551614},"ratio":0.30000000000000004441}';
    expect(parseJson(text)).toBeDefined();
    const any = codec.anyFromText(text, 'metadata');
    const message = fromBinary(Progress, any.value) as unknown as Record<string, unknown>;
    expect(message.doneCount).toBe(-9223372036854775808n);
    expect(message.totalBytes).toBe(18446744073709551615n);
    expect(message.counts).toEqual([9007199254740993n]);
    expect(message.sizes).toEqual({ a: 18446744073709551614n });
    expect(message.ratio).toBe(0.30000000000000004);
  });

  it('reads numbers in a Struct as doubles, as JSON does', () => {
    const any = codec.anyFromText(
      '{"@type":"type.googleapis.com/google.protobuf.Struct","value":{"n":12345678901234567890}}',
      'metadata',
    );
    expect(fromBinary(StructSchema, any.value).fields.n!.kind).toEqual({
      case: 'numberValue',
      value: 12345678901234567000,
    });
  });

  it('fails with NotEncodableError for an unregistered type, or JSON that does not fit', () => {
    const unknown = () => codec.anyFromText('{"@type":"type.googleapis.com/acme.Thing","x":1}', 'response');
    expect(unknown).toThrow(NotEncodableError);
    expect(unknown).toThrow(/acme\.Thing/);
    const mismatch = () => codec.anyFromText('{"@type":"type.googleapis.com/jobs.v1.Progress","nope":1}', 'metadata');
    expect(mismatch).toThrow(/does not fit the registered type jobs\.v1\.Progress/);
    const badRaw = () =>
      codec.anyFromText(`{"@type":"type.googleapis.com/acme.Thing","${RAW_VALUE_KEY}":"%%%"}`, 'metadata');
    expect(badRaw).toThrow(NotEncodableError);
  });
});
