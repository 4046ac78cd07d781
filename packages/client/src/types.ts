/**
 * The messages of `google/longrunning/operations.proto` and `google/rpc/status.proto` in their
 * proto3 JSON form: lowerCamelCase names, defaults omitted, `Any` as an object with `@type`.
 */

/** `google.protobuf.Any` in JSON: the type URL plus the message's fields (or `value` for well-known types). */
export interface Any {
  '@type': string;
  [field: string]: unknown;
}

/** `google.rpc.Status`. */
export interface Status {
  code?: number;
  message?: string;
  details?: Any[];
}

/** `google.longrunning.Operation`. `done` is omitted while the operation runs. */
export interface Operation {
  name?: string;
  metadata?: Any;
  done?: boolean;
  error?: Status;
  response?: Any;
}

export interface ListOperationsRequest {
  /** The parent (`projects/p`), or the collection (`projects/p/operations`); both conventions are accepted. */
  name: string;
  filter?: string;
  pageSize?: number;
  pageToken?: string;
  returnPartialSuccess?: boolean;
}

export interface ListOperationsResponse {
  operations?: Operation[];
  nextPageToken?: string;
  unreachable?: string[];
}

export interface CreateOperationRequest {
  /** The parent resource (`projects/p`), or `""` for top-level `operations/…` names. */
  parent: string;
  /** The id to use; the server assigns one when it is omitted. */
  operationId?: string;
  operation?: Operation;
}

export interface UpdateOperationRequest {
  name: string;
  operation: Operation;
  /** A FieldMask in JSON form: comma-separated paths among `metadata`, `done`, `error`, `response`, or `*`. */
  updateMask?: string;
}

export interface WaitOperationRequest {
  name: string;
  /** A Duration in JSON form, such as `"30s"`. */
  timeout?: string;
}

/** `google.rpc.ErrorInfo`, the detail every longrun error carries. */
export interface ErrorInfo extends Any {
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo';
  reason: string;
  domain: string;
  metadata?: Record<string, string>;
}

/** `google.rpc.BadRequest`. */
export interface BadRequest extends Any {
  '@type': 'type.googleapis.com/google.rpc.BadRequest';
  fieldViolations: { field: string; description: string; reason?: string }[];
}
