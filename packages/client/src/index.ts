/**
 * @longrun/client: a dependency-free client for Google's long-running operations API, for
 * longrun and for Google APIs alike. It runs wherever `fetch` does (Node >= 20, browsers).
 *
 * ```ts
 * import { ApiError, OperationsClient } from '@longrun/client';
 *
 * const client = new OperationsClient({ endpoint: 'http://127.0.0.1:8080' });
 *
 * // A provider creates an operation and later completes it.
 * const { operation } = await client.create({ parent: 'projects/demo', operationId: 'job-1' });
 * await client.complete(operation.name!, { '@type': 'type.googleapis.com/google.protobuf.Empty' });
 *
 * // A consumer waits for its result.
 * try {
 *   const response = await client.waitUntilDone(operation.name!, { timeoutMs: 60_000 });
 *   console.log('done', response);
 * } catch (error) {
 *   if (error instanceof ApiError) console.error(error.status, error.message);
 * } finally {
 *   client.close();
 * }
 * ```
 */
export { Backoff, type BackoffSettings } from './backoff.js';
export { type Clock, systemClock } from './clock.js';
export { Code, type CodeName, codeFromHttpStatus, codeFromName, codeName, httpStatusOf } from './code.js';
export { ApiError, type ApiErrorInit, isRetryable, type LegacyError } from './errors.js';
export { CANCEL_REQUESTED_HEADER, type OperationState, OperationsClient } from './operations-client.js';
export {
  type CallOptions,
  type ClientOptions,
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_POLLING,
  DEFAULT_RETRY,
  DEFAULT_WAIT_TIMEOUT_MS,
  type PollOptions,
  type RetrySettings,
  type WaitOptions,
} from './options.js';
export { operationResult } from './result.js';
export type {
  Any,
  BadRequest,
  CreateOperationRequest,
  ErrorInfo,
  ListOperationsRequest,
  ListOperationsResponse,
  Operation,
  Status,
  UpdateOperationRequest,
  WaitOperationRequest,
} from './types.js';
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  parseWebhookSignature,
  signWebhookPayload,
  type VerifyWebhookOptions,
  verifyWebhookSignature,
  WEBHOOK_DELIVERY_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookVerification,
} from './webhook-signature.js';
