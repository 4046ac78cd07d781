import { ApiError } from './errors.js';
import type { Any, Operation } from './types.js';

/**
 * The result of a done operation: its `response`, or its `error` thrown as an {@link ApiError}.
 * A done operation with neither (the contract allows it) gives `undefined`.
 *
 * @throws ApiError with the operation's error; `TypeError` if the operation is not done.
 */
export function operationResult<T extends Any = Any>(operation: Operation): T | undefined {
  if (!operation.done) throw new TypeError(`Operation "${operation.name}" is not done; it has no result yet`);
  if (operation.error) throw ApiError.fromStatus(operation.error);
  return operation.response as T | undefined;
}
