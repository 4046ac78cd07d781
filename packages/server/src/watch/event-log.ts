/**
 * The event log: every change to an operation, in commit order, under an increasing id. Watch
 * streams replay it to resume without gaps (`Last-Event-ID`), and webhooks fan deliveries out of
 * it. Each backend appends to it in the same transaction as the write it records (which events a
 * write logs: store/change-events.ts), so a change is logged if and only if it is committed, and a
 * restart loses nothing.
 *
 * Ids are positive integers that only grow; an id names a position in the log, and "resume after
 * id N" means every event with a larger id. Old events are pruned after a retention window; the
 * log remembers the highest id it pruned (its horizon), so a resume from before it is refused
 * instead of silently skipping what was pruned.
 */
import { EVENT_TYPES, type EventType } from '../store/change-events.js';
import type { OperationRecord } from '../store/store.js';

export { EVENT_TYPES, type EventType };

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

export interface LoggedEvent {
  /** The event's position in the log. */
  id: number;
  /** When it happened, in milliseconds since the epoch (the operation's update time; for a delete, the time of the delete). */
  time: number;
  type: EventType;
  /**
   * The operation right after the change; for `deleted`, as it was last. `seq` and `createHash`
   * are not logged (0 and null).
   */
  record: OperationRecord;
}

export interface EventQuery {
  /** Only events with a larger id. */
  after: number;
  /** Only events with this id or a smaller one; undefined: up to the newest. */
  upTo?: number | undefined;
  /** Only this operation's events. */
  name?: string | undefined;
  /** Only events of operations under this parent: exact, or a pattern with `-` segments. */
  parent?: string | undefined;
  /** Only these types. */
  types?: readonly EventType[] | undefined;
  /** How many events at most, oldest first. */
  limit: number;
}

export interface EventLog {
  /**
   * The stable head: the highest id such that every event at or below it is readable now and no
   * other can ever appear at or below it; 0 when none was logged. Readers never go past it. On
   * SQLite (one writer) it is the newest id; on PostgreSQL, an id held by a transaction that has
   * not committed yet keeps it below that id until the transaction ends.
   */
  head(): Promise<number>;
  /** The highest id visible now (at least the head): what a client may have been sent at most. */
  latest(): Promise<number>;
  /** The highest id pruned: a resume after an id below it would miss events. 0 when nothing was pruned. */
  horizon(): Promise<number>;
  /** Events matching the query, oldest first. */
  read(query: EventQuery): Promise<LoggedEvent[]>;
  /**
   * The operation as it is now, and the position to watch it from: every event of this operation
   * after `head` is a change the record does not show yet, and every one at or before it is.
   */
  snapshot(name: string): Promise<{ record: OperationRecord | undefined; head: number }>;
  /**
   * Deletes the oldest events, in id order, while they happened before `before` and their id is at
   * most `maxId`; at most `limit` of them. Returns how many it deleted; the horizon moves up to the
   * last one.
   */
  prune(before: number, maxId: number, limit: number): Promise<number>;
}

/** The record an event row describes. */
export function eventRecord(fields: Omit<OperationRecord, 'seq' | 'createHash'>): OperationRecord {
  return { ...fields, createHash: null, seq: 0 };
}
