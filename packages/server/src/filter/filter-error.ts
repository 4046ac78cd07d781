import { ApiError } from '../contract/errors.js';

/**
 * INVALID_FILTER for a fault at `offset` (a UTF-16 index into `source`). The description names the
 * 1-based column in characters (code points), which is what a person counting in an editor sees.
 */
export function filterError(source: string, offset: number, message: string): ApiError {
  const column = String(columnOf(source, offset));
  const description = `column ${column}: ${message}`;
  return new ApiError('INVALID_FILTER', `Invalid filter: ${description}`, {
    metadata: { field: 'filter', column },
    fieldViolations: [{ field: 'filter', description }],
  });
}

/** The 1-based column, in code points, of a UTF-16 offset. */
export function columnOf(source: string, offset: number): number {
  return Array.from(source.slice(0, offset)).length + 1;
}
