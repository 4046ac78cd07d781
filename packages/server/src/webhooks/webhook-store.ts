/**
 * What webhooks need from a backend: the subscriptions, and the deliveries with their state
 * machine (docs/watch-and-webhooks.md):
 *
 *   PENDING ──2xx──▶ SUCCEEDED
 *      │ failure or timeout: attempts + 1, due again after a backoff (still PENDING)
 *      └─ after the last attempt ──▶ FAILED
 *   SUCCEEDED or FAILED ──redeliver──▶ PENDING (attempts from 0, due now)
 *
 * A PENDING delivery being sent holds a lease (`leaseUntil`): no other sender (another replica,
 * or this one after a crash) claims it until the lease runs out, so a delivery is sent again only
 * when its sender died or timed out: at least once, and rarely twice.
 *
 * Deliveries are made from the event log by fan-out: each `done` (or `cancel_requested`) event,
 * for each webhook that covers it, inserts one delivery, unique per (webhook, event): fanning the
 * same events out again (after a restart, or on two replicas at once) inserts nothing new.
 */
import type { EventType, LoggedEvent } from '../watch/event-log.js';

export type DeliveryState = 'PENDING' | 'SUCCEEDED' | 'FAILED';
export const DELIVERY_STATES: readonly DeliveryState[] = ['PENDING', 'SUCCEEDED', 'FAILED'];

/** The events a webhook can be sent on. */
export const WEBHOOK_EVENT_TYPES = ['done', 'cancel_requested'] as const satisfies readonly EventType[];
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookRecord {
  /** `{parent}/webhooks/{id}`, or `webhooks/{id}` at the top level. */
  name: string;
  /** Operations whose parent is exactly this one are covered. */
  parent: string;
  /** Where deliveries are POSTed (http or https). */
  uri: string;
  /** An AIP-160 filter over the operation; `""` covers all. */
  filter: string;
  events: WebhookEventType[];
  /** The HMAC key of the signature. */
  secret: string;
  createTime: number;
  updateTime: number;
  /** The log's head when the webhook was created: earlier events are not delivered to it. */
  startEventId: number;
}

export type NewWebhook = Omit<WebhookRecord, 'startEventId'>;
export type WebhookChange = Pick<WebhookRecord, 'uri' | 'filter' | 'events' | 'secret' | 'updateTime'>;

export interface DeliveryRecord {
  /** Store-assigned, increasing: list order (newest first) and page cursor. */
  seq: number;
  /** The idempotency id, sent as `Longrun-Delivery-Id` on every attempt. */
  id: string;
  /** The webhook's name. */
  webhook: string;
  eventId: number;
  eventType: WebhookEventType;
  /** The operation's name. */
  operation: string;
  /** The exact JSON body POSTed (the same on every attempt). */
  body: string;
  state: DeliveryState;
  /** Attempts made since it was (re)delivered. */
  attempts: number;
  /** When it is due next (PENDING only). */
  nextAttemptTime: number | null;
  /** While being sent: until when the sender holds it. */
  leaseUntil: number | null;
  lastAttemptTime: number | null;
  /** The HTTP status of the last attempt, if it got one. */
  lastStatus: number | null;
  /** Why the last attempt failed. */
  lastError: string | null;
  createTime: number;
  updateTime: number;
}

export interface NewDelivery {
  id: string;
  webhook: string;
  eventId: number;
  eventType: WebhookEventType;
  operation: string;
  body: string;
}

/** A delivery claimed for sending, with what sending needs. */
export interface ClaimedDelivery extends DeliveryRecord {
  uri: string;
  secret: string;
  leaseUntil: number;
}

export interface AttemptOutcome {
  state: DeliveryState;
  attempts: number;
  time: number;
  nextAttemptTime: number | null;
  lastStatus: number | null;
  lastError: string | null;
}

/** Decides the deliveries for a batch of events and the webhooks there are; pure. */
export type FanOutDecision = (events: LoggedEvent[], webhooks: WebhookRecord[]) => NewDelivery[];

export interface FanOutResult {
  /** Every event up to this id has been fanned out. */
  through: number;
  /** Deliveries inserted (those already there are not counted). */
  inserted: number;
  /** Whether any webhook existed: with none, the dispatcher stops fanning out on every write. */
  webhooks: boolean;
}

export interface DeliveryQuery {
  state?: DeliveryState | undefined;
  /** Only deliveries with a smaller seq (the page cursor). */
  beforeSeq?: number | undefined;
  limit: number;
}

export interface WebhookStore {
  /** Inserts the webhook (its startEventId is the log's head, read in the same transaction); undefined if the name exists. */
  createWebhook(webhook: NewWebhook): Promise<WebhookRecord | undefined>;
  getWebhook(name: string): Promise<WebhookRecord | undefined>;
  /** Webhooks under the parent (exact, or a `-` pattern), by name, after `afterName`. */
  listWebhooks(parent: string, limit: number, afterName?: string): Promise<WebhookRecord[]>;
  updateWebhook(name: string, change: WebhookChange): Promise<WebhookRecord | undefined>;
  /** Removes the webhook and its deliveries; false when there was none. */
  deleteWebhook(name: string): Promise<boolean>;
  /**
   * Fans out the `done`/`cancel_requested` events after `after` (at most `limit` of them): inserts
   * the deliveries `decide` returns, ignoring any already there. Records how far it got durably
   * when it inserted something or when `persist` is set.
   */
  fanOut(after: number, limit: number, decide: FanOutDecision, persist: boolean): Promise<FanOutResult>;
  /** How far fan-out durably got (events after it may still need deliveries). */
  fanOutCursor(): Promise<number>;
  /** Leases up to `limit` PENDING deliveries due at `now` (and not leased) until `leaseUntil`. */
  claimDue(now: number, leaseUntil: number, limit: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt's outcome and ends the lease; false (nothing written) if the lease is no longer held. */
  finishAttempt(id: string, leaseUntil: number, outcome: AttemptOutcome): Promise<boolean>;
  /** Gives a lease back without an attempt (shutdown), so the delivery is due again at once. */
  releaseLease(id: string, leaseUntil: number): Promise<void>;
  /** When the next PENDING delivery is due (or its lease runs out); undefined when none is pending. */
  nextDue(): Promise<number | undefined>;
  listDeliveries(webhook: string, query: DeliveryQuery): Promise<DeliveryRecord[]>;
  getDelivery(webhook: string, id: string): Promise<DeliveryRecord | undefined>;
  /** Makes the delivery PENDING and due at `now`, attempts from 0. */
  redeliver(webhook: string, id: string, now: number): Promise<DeliveryRecord | undefined>;
  /** Removes up to `limit` SUCCEEDED or FAILED deliveries last changed before `before`. */
  pruneDeliveries(before: number, limit: number): Promise<number>;
}
