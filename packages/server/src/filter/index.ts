// Placeholder until the AIP-160 implementation lands: only the empty filter is accepted.
import { ApiError } from '../contract/errors.js';
import type { OperationRecord } from '../store/store.js';

export interface Filter {
  readonly text: string;
}
export type SqlDialect = Record<string, never>;
export const sqliteDialect: SqlDialect = {};
export function parseFilter(text: string): Filter | undefined {
  if (text.trim() === '') return undefined;
  throw new ApiError('INVALID_FILTER', 'Filtering is not supported yet');
}
export function matchesFilter(_filter: Filter, _record: OperationRecord): boolean {
  return true;
}
export function filterToSql(_filter: Filter, _dialect: SqlDialect): { sql: string; params: unknown[] } {
  return { sql: '1', params: [] };
}
