/** PostgreSQL's SQL for AIP-160 filters (waiting for the filter compiler's dialect interface). */
import { ApiError } from '../../contract/errors.js';
import type { Filter } from '../../filter/index.js';

/** The filter as an SQL condition; its values are appended to `values` and referenced as `$n`. */
export function compileFilter(_filter: Filter, _values: unknown[]): string {
  throw new ApiError('INVALID_FILTER', 'Filtering is not supported yet');
}
