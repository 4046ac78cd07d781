/**
 * Errors over gRPC: a `ConnectError` with the google.rpc.Code and, in the
 * `grpc-status-details-bin` trailer, the `google.rpc.Status` the REST envelope carries (ErrorInfo
 * first, then BadRequest when a field is at fault). Codes and reasons come from the one table in
 * `contract/errors.ts`.
 */
import { fromJson, type JsonObject, type Registry } from '@bufbuild/protobuf';
import { type Code, ConnectError } from '@connectrpc/connect';
import { ApiError, type Reason } from '../contract/errors.js';

/** ErrorInfo.reason of an Any whose type the server does not know (FAILED_PRECONDITION). */
export const TYPE_NOT_REGISTERED = 'TYPE_NOT_REGISTERED' satisfies Reason;
/** ErrorInfo.reason of stored JSON that does not fit its registered type (FAILED_PRECONDITION). */
export const TYPE_MISMATCH = 'TYPE_MISMATCH' satisfies Reason;

/**
 * A stored Any that cannot be sent as binary: its type is not registered, or its JSON does not
 * fit the registered type. The data stays as it is; REST still reads it.
 */
export class NotEncodableError extends Error {
  override name = 'NotEncodableError';
  constructor(
    readonly reason: typeof TYPE_NOT_REGISTERED | typeof TYPE_MISMATCH,
    readonly typeUrl: string,
    /** The field of the operation, such as `metadata` or `error.details[0]`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The ConnectError for anything a handler throws; anything unexpected is logged and INTERNAL. */
export function toConnectError(error: unknown, registry: Registry, log: (error: unknown) => void): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof NotEncodableError) return notEncodable(error, registry);
  if (error instanceof ApiError) return fromApiError(error, registry);
  log(error);
  return fromApiError(new ApiError('INTERNAL', 'Internal error'), registry);
}

function fromApiError(error: ApiError, registry: Registry): ConnectError {
  const status = error.toStatus();
  return new ConnectError(error.message, error.code as Code, undefined, details(status.details ?? [], registry));
}

function notEncodable(error: NotEncodableError, registry: Registry): ConnectError {
  const typeName = error.typeUrl.slice(error.typeUrl.lastIndexOf('/') + 1);
  return fromApiError(
    new ApiError(error.reason, error.message, {
      metadata: { type: typeName, field: error.field },
      preconditionViolations: [{ type: error.reason, subject: error.typeUrl, description: error.message }],
    }),
    registry,
  );
}

/** Status details (proto3 JSON Any values) as ConnectError details; all are built-in types. */
function details(anys: readonly unknown[], registry: Registry) {
  return anys.map((any) => {
    const { '@type': typeUrl, ...fields } = any as JsonObject;
    const desc = registry.getMessage(String(typeUrl).slice(String(typeUrl).lastIndexOf('/') + 1));
    if (!desc) throw new Error(`error detail type ${String(typeUrl)} is not built in`);
    return { desc, value: fromJson(desc, fields) };
  });
}
