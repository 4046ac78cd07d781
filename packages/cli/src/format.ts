/** How operations read in a terminal: their state, their progress figure, and plain-text tables. */
import { type Any, Code, codeName, type Operation, type Status } from '@longrun/client';

export type State = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export function stateOf(operation: Operation): State {
  if (!operation.done) return 'RUNNING';
  if (!operation.error) return 'SUCCEEDED';
  return operation.error.code === Code.CANCELLED ? 'CANCELLED' : 'FAILED';
}

/** `INVALID_ARGUMENT: the message`, for an operation's error. */
export function statusText(status: Status): string {
  const code = status.code ?? Code.UNKNOWN;
  const name = codeName(code) ?? `code ${code}`;
  return status.message ? `${name}: ${status.message}` : name;
}

// The keys a percentage (0 to 100) is found under, in this order. Google's APIs and providers
// name it differently (Spanner's `progress.progressPercent`, the worker SDK's examples' `percent`).
const PERCENT_KEYS = [
  'progressPercent',
  'progress_percent',
  'percentComplete',
  'percent_complete',
  'percent',
  'progress',
];

/**
 * The operation's progress as a percentage, when its metadata carries one: a number under one of
 * `PERCENT_KEYS`, in the metadata or in its `progress` object, looked for also inside `value`,
 * where well-known types (the worker SDK's `google.protobuf.Value`) keep their content.
 */
export function progressPercent(metadata: Any | undefined): number | undefined {
  const wrapped = metadata?.['value'];
  for (const holder of [metadata, metadata?.['progress'], wrapped, field(wrapped, 'progress')]) {
    for (const key of PERCENT_KEYS) {
      const value = field(holder, key);
      if (typeof value === 'number' && Number.isFinite(value)) return Math.min(100, Math.max(0, value));
    }
  }
  return undefined;
}

function field(holder: unknown, key: string): unknown {
  return typeof holder === 'object' && holder !== null ? (holder as Record<string, unknown>)[key] : undefined;
}

/** `50%` while the operation runs and its metadata has a figure; `` otherwise (a done one's is stale). */
export function progressText(operation: Operation): string {
  const percent = operation.done ? undefined : progressPercent(operation.metadata);
  return percent === undefined ? '' : `${Math.round(percent * 10) / 10}%`;
}

/** Rows of cells as left-aligned columns, two spaces apart. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One operation, field by field. */
export function operationTable(operation: Operation, cancelRequestTime?: Date): string {
  const rows = [
    ['name', operation.name ?? ''],
    ['state', stateOf(operation)],
  ];
  const progress = progressText(operation);
  if (progress) rows.push(['progress', progress]);
  if (cancelRequestTime) rows.push(['cancel', `requested at ${cancelRequestTime.toISOString()}`]);
  if (operation.metadata) rows.push(['metadata', JSON.stringify(operation.metadata)]);
  if (operation.response) rows.push(['response', JSON.stringify(operation.response)]);
  if (operation.error) rows.push(['error', statusText(operation.error)]);
  return table(rows);
}

/** Operations one per line: what each is, how far it is, and how it ended. */
export function operationsTable(operations: Operation[]): string {
  const rows = operations.map((operation) => [
    operation.name ?? '',
    stateOf(operation),
    progressText(operation),
    operation.error ? statusText(operation.error) : (operation.response?.['@type'] ?? ''),
  ]);
  return table([['NAME', 'STATE', 'PROGRESS', 'RESULT'], ...rows]);
}
