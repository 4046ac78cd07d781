/**
 * The gRPC methods: google.longrunning.Operations for consumers, longrun.v1.OperationsProvider
 * for providers, longrun.v1.TypeRegistry for types. Each decodes its request into a service call
 * and encodes what comes back; the rules all live in the service (the same calls REST makes).
 */
import { toJson } from '@bufbuild/protobuf';
import { type Duration, DurationSchema } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { RequestGuard } from '../auth/guard.js';
import { parseDuration } from '../contract/duration.js';
import { invalidField } from '../contract/errors.js';
import { CANCEL_REQUESTED_HEADER } from '../rest/rest-app.js';
import { goneOnAbort, type OperationsService } from '../service/operations-service.js';
import type { OperationRecord } from '../store/store.js';
import { PRINCIPAL } from './access.js';
import type { AnyCodec } from './any-codec.js';
import type { Operations } from './gen/google/longrunning/operations_pb.js';
import type { OperationsProvider } from './gen/longrun/v1/provider_pb.js';
import type { TypeRegistry as TypeRegistryService } from './gen/longrun/v1/type_registry_pb.js';
import { TypeRegistrationError, type TypeRegistry } from './type-registry.js';

/**
 * How long before the call's deadline a WaitOperation answers, so that the answer (the latest
 * state) reaches the client before the client gives up on the call: a tenth of the time left,
 * at least 50 ms and at most 1 s.
 */
export function deadlineMarginMs(remainingMs: number): number {
  return Math.min(1000, Math.max(50, remainingMs / 10));
}

/** As over REST: a pending cancel request travels with the operation in a response header. */
function answer(codec: AnyCodec, record: OperationRecord, context: HandlerContext) {
  const operation = codec.operationFromRecord(record);
  if (record.cancelRequestTime !== null) {
    context.responseHeader.set(CANCEL_REQUESTED_HEADER, new Date(record.cancelRequestTime).toISOString());
  }
  return operation;
}

/** A Duration in milliseconds, through its JSON form so REST's rules for `timeout` apply. */
function durationMs(duration: Duration, field: string): number {
  let text: string;
  try {
    text = toJson(DurationSchema, duration) as string;
  } catch {
    throw invalidField(field, 'is not a valid Duration', 'INVALID_DURATION');
  }
  return parseDuration(text, field);
}

export function operationsImpl(
  service: OperationsService,
  codec: AnyCodec,
  guard: RequestGuard,
): ServiceImpl<typeof Operations> {
  return {
    async listOperations(request) {
      // `return_partial_success` is accepted and changes nothing: every operation lives in one
      // store, so none is ever unreachable (as over REST).
      const result = await service.list({
        name: request.name,
        filter: request.filter === '' ? undefined : request.filter,
        pageSize: request.pageSize,
        pageToken: request.pageToken === '' ? undefined : request.pageToken,
      });
      return {
        operations: result.operations.map((record) => codec.operationFromRecord(record)),
        nextPageToken: result.nextPageToken ?? '',
      };
    },
    async getOperation(request, context) {
      return answer(codec, await service.get(request.name), context);
    },
    async deleteOperation(request) {
      await service.delete(request.name);
      return {};
    },
    async cancelOperation(request) {
      await service.cancel(request.name);
      return {};
    },
    async waitOperation(request, context) {
      let timeoutMs = request.timeout ? durationMs(request.timeout, 'timeout') : undefined;
      // The shorter of the timeout and the call's deadline (operations.proto), answered a little
      // early so the answer arrives in time; the call's signal ends the wait when the client goes.
      const remaining = context.timeoutMs();
      if (remaining !== undefined) {
        const untilDeadline = Math.max(0, Math.floor(remaining - deadlineMarginMs(remaining)));
        timeoutMs = timeoutMs === undefined ? untilDeadline : Math.min(timeoutMs, untilDeadline);
      }
      const done = guard.startWait(context.values.get(PRINCIPAL));
      try {
        return answer(codec, await service.wait(request.name, timeoutMs, goneOnAbort(context.signal)), context);
      } finally {
        done();
      }
    },
  };
}

export function providerImpl(service: OperationsService, codec: AnyCodec): ServiceImpl<typeof OperationsProvider> {
  return {
    async createOperation(request, context) {
      const record = await service.create({
        parent: request.parent,
        // proto3 cannot tell an empty string from an absent one: empty means "assign an id".
        operationId: request.operationId === '' ? undefined : request.operationId,
        operation: codec.operationToJson(request.operation),
      });
      return answer(codec, record, context);
    },
    async updateOperation(request, context) {
      // REST takes the name from the path; here it is the operation's own (AIP-134).
      const name = request.operation?.name ?? '';
      if (name === '')
        throw invalidField('operation.name', 'is required: it names the operation to update', 'INVALID_NAME');
      const record = await service.patch({
        name,
        operation: codec.operationToJson(request.operation),
        updateMask: request.updateMask ? request.updateMask.paths.join(',') : undefined,
      });
      return answer(codec, record, context);
    },
  };
}

export function typeRegistryImpl(types: TypeRegistry): ServiceImpl<typeof TypeRegistryService> {
  return {
    async registerTypes(request) {
      try {
        return types.registerBinary(request.fileDescriptorSet, 'file_descriptor_set');
      } catch (error) {
        if (error instanceof TypeRegistrationError) throw invalidField('file_descriptor_set', error.message);
        throw error;
      }
    },
  };
}
