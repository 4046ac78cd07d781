/**
 * Which events a write to an operation logs (the event log behind watch streams and webhooks,
 * watch/event-log.ts). Every backend appends these rows in the transaction of the write itself,
 * so a change is logged if and only if it commits; this is the one place that decides them.
 */
import type { OperationRecord } from './store.js';

/** What happened to an operation; the watch stream's `event:` names and the webhook's `event`. */
export const EVENT_TYPES = ['created', 'progress', 'cancel_requested', 'done', 'deleted'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

type Snapshot = Pick<OperationRecord, 'done' | 'metadata' | 'cancelRequestTime'>;

/** What a delete logs, whatever the operation was (for statements that delete many at once). */
export const DELETED_EVENTS: readonly EventType[] = ['deleted'];

/**
 * The events a write logs, in order, each with a snapshot of the operation after it (for
 * `deleted`, as it was last):
 * - a create: `created`, then `done` if it was created done;
 * - an update: `cancel_requested` when a cancel is first recorded, then `done` when it ends;
 *   otherwise `progress` when its metadata changed;
 * - a delete: `deleted`.
 */
export function changeEvents(before: Snapshot | undefined, after: Snapshot | undefined): EventType[] {
  if (!after) return before ? [...DELETED_EVENTS] : [];
  if (!before) return after.done ? ['created', 'done'] : ['created'];
  const events: EventType[] = [];
  const cancelRequested = before.cancelRequestTime === null && after.cancelRequestTime !== null;
  if (cancelRequested) events.push('cancel_requested');
  if (!before.done && after.done) events.push('done');
  else if (before.done === after.done && !cancelRequested && before.metadata !== after.metadata) {
    events.push('progress');
  }
  return events;
}
