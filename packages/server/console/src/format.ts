/** How the console reads an operation: its state, its progress, its times, and short labels. */
import type { Json, JsonObject, Operation, Times } from './api.js';
import { h } from './dom.js';

export type State = 'running' | 'cancel-requested' | 'succeeded' | 'failed' | 'cancelled';

export const STATE_LABELS: Record<State, string> = {
  running: 'running',
  'cancel-requested': 'cancel requested',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** The filter that lists the operations in a state (the summary's cards link to it). */
export const STATE_FILTERS: Record<State, string> = {
  running: 'done = false',
  'cancel-requested': 'cancel_requested = true AND done = false',
  succeeded: 'done = true AND NOT error:*',
  failed: 'error:* AND error.code != 1',
  cancelled: 'error.code = 1',
};

const CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

export function codeName(code: number | undefined): string {
  return CODE_NAMES[code ?? 0] ?? `code ${code}`;
}

export function stateOf(operation: Operation, cancelRequested: boolean): State {
  if (!operation.done) return cancelRequested ? 'cancel-requested' : 'running';
  if (!operation.error) return 'succeeded';
  return operation.error.code === 1 ? 'cancelled' : 'failed';
}

export function badge(state: State): HTMLElement {
  return h('span', { class: `badge state-${state}`, text: STATE_LABELS[state], data: { state } });
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON number, or a number in a string (proto3 JSON writes 64-bit integers as strings). */
function numeric(value: Json | undefined): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

const PERCENT_KEYS = [
  'progressPercent',
  'progress_percent',
  'progressPercentage',
  'percentComplete',
  'percent_complete',
  'percentDone',
  'percentage',
  'percent',
];
const FRACTION_KEYS = ['fraction', 'fractionComplete', 'fraction_complete', 'ratio'];
const PART_KEYS = ['step', 'current', 'completed', 'processed', 'done', 'completedSteps', 'completed_steps', 'count'];
const TOTAL_KEYS = ['of', 'total', 'totalSteps', 'total_steps', 'size'];

export interface Progress {
  /** 0 to 1. */
  fraction: number;
  label: string;
}

function progressIn(object: JsonObject): Progress | undefined {
  for (const key of PERCENT_KEYS) {
    const value = numeric(object[key]);
    if (value !== undefined && value >= 0 && value <= 100) return { fraction: value / 100, label: `${round(value)}%` };
  }
  for (const key of FRACTION_KEYS) {
    const value = numeric(object[key]);
    if (value !== undefined && value >= 0 && value <= 1) {
      return { fraction: value, label: `${round(value * 100)}%` };
    }
  }
  const progress = numeric(object.progress);
  if (progress !== undefined && progress >= 0 && progress <= 100) {
    // A bare `progress` is a fraction up to 1 and a percentage above.
    const fraction = progress <= 1 ? progress : progress / 100;
    return { fraction, label: `${round(fraction * 100)}%` };
  }
  for (const partKey of PART_KEYS) {
    const part = numeric(object[partKey]);
    if (part === undefined) continue;
    for (const totalKey of TOTAL_KEYS) {
      const total = numeric(object[totalKey]);
      if (total !== undefined && total > 0 && part >= 0 && part <= total && totalKey !== partKey) {
        return { fraction: part / total, label: `${part} / ${total}` };
      }
    }
  }
  return undefined;
}

function round(value: number): string {
  return value >= 10 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1);
}

/**
 * Where metadata carries progress (docs/console.md, "Progress"): in the metadata itself, in its
 * `value` (a google.protobuf.Struct or Value, as the worker SDK sends it), or in a `progress`
 * object inside either; as a percentage (progressPercent, percentComplete, percent, …), a fraction
 * (fraction, ratio, or a bare `progress` up to 1), or a count of a total (step/of, completed/total, …).
 */
export function progressOf(metadata: JsonObject | undefined): Progress | undefined {
  if (!metadata) return undefined;
  const places: JsonObject[] = [metadata];
  if (isObject(metadata.value)) places.push(metadata.value);
  for (const place of [...places]) if (isObject(place.progress)) places.push(place.progress);
  for (const place of places) {
    const found = progressIn(place);
    if (found) return { fraction: Math.min(1, Math.max(0, found.fraction)), label: found.label };
  }
  return undefined;
}

export function progressBar(progress: Progress): HTMLElement {
  const bar = h('progress', {
    attrs: { max: 1000, value: Math.round(progress.fraction * 1000), 'aria-label': `progress ${progress.label}` },
  });
  return h('span', { class: 'progress' }, bar, h('span', { class: 'progress-label', text: progress.label }));
}

/** Times in metadata (proto3 JSON Timestamps), used when the server's own are not available. */
export function metadataTimes(metadata: JsonObject | undefined): Partial<Record<'createTime' | 'updateTime', string>> {
  const out: Partial<Record<'createTime' | 'updateTime', string>> = {};
  if (!metadata) return out;
  const places: JsonObject[] = [metadata];
  if (isObject(metadata.value)) places.push(metadata.value);
  for (const place of places) {
    for (const key of ['createTime', 'updateTime'] as const) {
      const value = place[key] ?? place[key === 'createTime' ? 'create_time' : 'update_time'];
      if (out[key] === undefined && typeof value === 'string' && !Number.isNaN(Date.parse(value))) out[key] = value;
    }
  }
  return out;
}

export function operationTimes(operation: Operation, times: Times | undefined): Partial<Times> {
  return times ?? metadataTimes(operation.metadata);
}

const UNITS: [number, string][] = [
  [60, 's'],
  [60, 'min'],
  [24, 'h'],
  [30, 'd'],
  [12, 'mo'],
  [Number.POSITIVE_INFINITY, 'y'],
];

/** "12 s ago", "3 min ago", "in 2 h". */
export function relative(ms: number, now = Date.now()): string {
  let delta = Math.round((now - ms) / 1000);
  const future = delta < 0;
  delta = Math.abs(delta);
  if (delta < 5) return 'just now';
  let value = delta;
  for (const [size, unit] of UNITS) {
    if (value < size) return future ? `in ${value} ${unit}` : `${value} ${unit} ago`;
    value = Math.floor(value / size);
  }
  return new Date(ms).toISOString();
}

/** A <time> showing a relative time, kept current by `refreshTimes`, with the exact time as its title. */
export function timeElement(iso: string | undefined): HTMLElement {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return h('span', { class: 'muted', text: '—' });
  return h('time', {
    class: 'rel',
    text: relative(ms),
    title: new Date(ms).toISOString(),
    attrs: { datetime: new Date(ms).toISOString() },
    data: { ms: String(ms) },
  });
}

export function refreshTimes(root: ParentNode = document): void {
  const now = Date.now();
  for (const element of root.querySelectorAll<HTMLElement>('time.rel')) {
    const ms = Number(element.dataset.ms);
    if (Number.isFinite(ms)) element.textContent = relative(ms, now);
  }
}

/** The short name of an Any's type (`type.googleapis.com/pkg.Msg` → `Msg`). */
export function typeName(any: JsonObject | undefined): string | undefined {
  const type = any?.['@type'];
  if (typeof type !== 'string') return undefined;
  const last = type.slice(type.lastIndexOf('/') + 1);
  return last.slice(last.lastIndexOf('.') + 1);
}

/** The operation id within its name, and the parent. */
export function splitName(name: string): { parent: string; id: string } {
  const segments = name.split('/');
  for (let i = 0; i < segments.length; i += 2) {
    if (segments[i] === 'operations')
      return { parent: segments.slice(0, i).join('/'), id: segments.slice(i + 1).join('/') };
  }
  return { parent: '', id: name };
}

/** Single-quotes a word for a POSIX shell. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9._~/:@=+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
