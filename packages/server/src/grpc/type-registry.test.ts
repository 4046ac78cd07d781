import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import {
  type DescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  type FieldDescriptorProtoSchema,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { TypeRegistrationError, TypeRegistry } from './type-registry.js';

function field(
  name: string,
  number: number,
  type: FieldDescriptorProto_Type,
  typeName?: string,
): MessageInitShape<typeof FieldDescriptorProtoSchema> {
  return {
    name,
    number,
    type,
    label: FieldDescriptorProto_Label.OPTIONAL,
    jsonName: name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
    ...(typeName ? { typeName } : {}),
  };
}

function file(
  name: string,
  pkg: string,
  messages: MessageInitShape<typeof DescriptorProtoSchema>[],
  dependency: string[] = [],
): FileDescriptorProto {
  return create(FileDescriptorProtoSchema, { name, package: pkg, syntax: 'proto3', dependency, messageType: messages });
}

const ORDERS = file('shop/v1/orders.proto', 'shop.v1', [
  { name: 'Order', field: [field('id', 1, FieldDescriptorProto_Type.STRING)] },
]);

describe('TypeRegistry', () => {
  it('knows the well-known, google.rpc, google.longrunning and longrun types out of the box', () => {
    const types = new TypeRegistry();
    for (const name of [
      'google.protobuf.Struct',
      'google.protobuf.Timestamp',
      'google.protobuf.Empty',
      'google.rpc.Status',
      'google.rpc.ErrorInfo',
      'google.rpc.BadRequest',
      'google.longrunning.Operation',
      'google.longrunning.OperationInfo',
      'longrun.v1.CreateOperationRequest',
    ]) {
      expect(types.messageFor(`type.googleapis.com/${name}`)?.typeName).toBe(name);
    }
    expect(types.messageFor('type.googleapis.com/shop.v1.Order')).toBeUndefined();
  });

  it('registers a set, resolving imports of built-in files, and reports what it added', () => {
    const types = new TypeRegistry();
    const withTimestamp = file(
      'shop/v1/shipments.proto',
      'shop.v1',
      [
        {
          name: 'Shipment',
          field: [field('ship_time', 1, FieldDescriptorProto_Type.MESSAGE, '.google.protobuf.Timestamp')],
        },
      ],
      ['google/protobuf/timestamp.proto'],
    );
    const set = create(FileDescriptorSetSchema, { file: [ORDERS, withTimestamp] });
    const result = types.registerBinary(toBinary(FileDescriptorSetSchema, set));
    expect(result).toEqual({
      files: ['shop/v1/orders.proto', 'shop/v1/shipments.proto'],
      messageTypes: ['shop.v1.Order', 'shop.v1.Shipment'],
    });
    expect(types.messageFor('shop.v1.Shipment')!.fields[0]!.message!.typeName).toBe('google.protobuf.Timestamp');
    expect(types.version).toBe(1);
    // Again: nothing changes.
    expect(types.register([ORDERS]).files).toEqual([]);
    expect(types.version).toBe(1);
  });

  it('replaces a changed file, rebuilding the files that import it', () => {
    const types = new TypeRegistry();
    const lines = file(
      'shop/v1/lines.proto',
      'shop.v1',
      [{ name: 'Line', field: [field('order', 1, FieldDescriptorProto_Type.MESSAGE, '.shop.v1.Order')] }],
      ['shop/v1/orders.proto'],
    );
    types.register([ORDERS, lines]);
    const v2 = file('shop/v1/orders.proto', 'shop.v1', [
      {
        name: 'Order',
        field: [
          field('id', 1, FieldDescriptorProto_Type.STRING),
          field('total_cents', 2, FieldDescriptorProto_Type.INT64),
        ],
      },
    ]);
    expect(types.register([v2]).files).toEqual(['shop/v1/orders.proto']);
    expect(types.messageFor('shop.v1.Line')!.fields[0]!.message!.fields.map((f) => f.name)).toEqual([
      'id',
      'total_cents',
    ]);
  });

  it('skips files named like built-in ones (buf build and protoc --include_imports add them)', () => {
    const types = new TypeRegistry();
    const fake = file('google/protobuf/struct.proto', 'google.protobuf', [{ name: 'Struct', field: [] }]);
    expect(types.register([fake, ORDERS]).files).toEqual(['shop/v1/orders.proto']);
    expect(types.messageFor('google.protobuf.Struct')!.fields).toHaveLength(1);
  });

  it('refuses, and changes nothing, on a missing import, a duplicate type, or bytes that are not a set', () => {
    const types = new TypeRegistry();
    types.register([ORDERS]);
    const orphan = file('shop/v1/x.proto', 'shop.v1', [{ name: 'X' }], ['shop/v1/missing.proto']);
    expect(() => types.register([orphan])).toThrow(/imports "shop\/v1\/missing.proto"/);
    const duplicate = file('other/v1/status.proto', 'google.rpc', [{ name: 'Status' }]);
    expect(() => types.register([duplicate])).toThrow(
      /google\.rpc\.Status, which "google\/rpc\/status.proto" already defines/,
    );
    const twice = file('shop/v1/again.proto', 'shop.v1', [{ name: 'Order' }]);
    expect(() => types.register([twice])).toThrow(TypeRegistrationError);
    expect(() => types.registerBinary(new Uint8Array([0xff, 0xff]))).toThrow(
      /not a serialized google.protobuf.FileDescriptorSet/,
    );
    expect(types.version).toBe(1);
    expect(types.messageFor('shop.v1.X')).toBeUndefined();
  });

  it('keeps each file’s descriptor, for reflection', () => {
    const types = new TypeRegistry();
    types.register([ORDERS]);
    const proto = types.files.get('shop/v1/orders.proto')!.proto;
    expect(fromBinary(FileDescriptorProtoSchema, toBinary(FileDescriptorProtoSchema, proto)).messageType[0]!.name).toBe(
      'Order',
    );
  });
});
