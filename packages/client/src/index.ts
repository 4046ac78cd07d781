/**
 * @longrun/client: types and a client for Google's long-running operations API.
 *
 * ```ts
 * import { Code, type Operation } from '@longrun/client';
 * ```
 */
export { Code, type CodeName, codeFromHttpStatus, codeFromName, codeName, httpStatusOf } from './code.js';
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
