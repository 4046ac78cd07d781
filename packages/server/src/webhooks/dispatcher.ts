/**
 * Sends webhook deliveries. Two loops, both woken by every local write and by a poll:
 *
 * - Fan-out reads `done` and `cancel_requested` events from the log, from where it got to, and
 *   inserts a delivery for each webhook that covers the event (its parent, its events, its
 *   filter). It is idempotent (one delivery per webhook and event), so it can safely redo work
 *   after a crash or run on every replica at once.
 * - The sender claims due deliveries (a lease), POSTs each with its signature and idempotency id,
 *   and records the outcome: SUCCEEDED on a 2xx; otherwise PENDING again after an exponential
 *   backoff with jitter, or FAILED after the last attempt. A delivery whose sender died is claimed
 *   again when its lease runs out. Deliveries live in the store, so a restart loses none.
 */
import { randomUUID } from 'node:crypto';
import { renderOperation } from '../contract/operation.js';
import type { EventHub } from '../events/event-hub.js';
import { type Filter, matchesFilter, parseFilter } from '../filter/index.js';
import type { LoggedEvent } from '../watch/event-log.js';
import { signatureHeader } from './signature.js';
import type {
  AttemptOutcome,
  ClaimedDelivery,
  NewDelivery,
  WebhookEventType,
  WebhookRecord,
  WebhookStore,
} from './webhook-store.js';

export interface WebhookDispatcherOptions {
  /** Attempts before a delivery is FAILED. */
  maxAttempts: number;
  /** The delay before the first retry; it doubles with each failure. */
  retryBaseMs: number;
  /** The longest delay between two attempts. */
  retryMaxMs: number;
  /** How long one attempt may take (connect, send, response headers). */
  timeoutMs: number;
  /** Deliveries in flight at once. */
  concurrency: number;
  /** How often the store is checked even when nothing local woke the loops. */
  pollIntervalMs: number;
  /** Where unexpected failures of the loops are reported. */
  onError?: (error: unknown) => void;
  now?: () => number;
  /** A number in [0, 1) for the jitter. */
  random?: () => number;
}

/** Events per fan-out transaction. */
const FAN_OUT_BATCH = 500;
/** How long beyond the attempt timeout a lease lasts. */
const LEASE_MARGIN_MS = 5000;
/** Writes within this long of each other are fanned out together. */
const FAN_OUT_COALESCE_MS = 5;
/** The shortest wait before looking again for a delivery that was due but not claimable. */
const MIN_RECHECK_MS = 50;
/** Fan-out records its position durably at least this often, even when it inserted nothing. */
const PERSIST_EVERY_MS = 5000;

/** The delay after the `failures`-th failed attempt: exponential, capped, with "equal jitter" (half fixed, half random). */
export function retryDelay(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 40));
  return Math.round(delay / 2 + random() * (delay / 2));
}

/** The JSON body of a delivery: the operation as the contract renders it, and what happened. */
export function deliveryBody(id: string, webhook: string, event: LoggedEvent): string {
  return (
    `{"deliveryId":${JSON.stringify(id)},"webhook":${JSON.stringify(webhook)},"event":"${event.type}",` +
    `"eventId":"${event.id}","eventTime":"${new Date(event.time).toISOString()}",` +
    `"operation":${renderOperation(event.record)}}`
  );
}

export class WebhookDispatcher {
  readonly #store: WebhookStore;
  readonly #events: EventHub;
  readonly #options: WebhookDispatcherOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #filters = new Map<string, Filter | undefined | null>();
  readonly #inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  #through = 0;
  #persistedAt = 0;
  #fanningOut = false;
  /** The latest fan-out (it runs again before it ends if woken meanwhile). */
  #fanOutRun: Promise<void> = Promise.resolve();
  #fanOutAgain = false;
  #pumping = false;
  #pumpAgain = false;
  #closed = false;
  #dueTimer: NodeJS.Timeout | undefined;
  #dueAt = Number.POSITIVE_INFINITY;
  #poll: NodeJS.Timeout | undefined;
  #fanOutTimer: NodeJS.Timeout | undefined;
  /**
   * Whether the last fan-out found a webhook. Without one, writes stop scheduling fan-outs (each
   * reads the log's head: on PostgreSQL, a query every few milliseconds under load); the poll still
   * fans out, and creating a webhook here wakes the dispatcher.
   */
  #webhooks = true;
  #unsubscribe: (() => void) | undefined;

  constructor(store: WebhookStore, events: EventHub, options: WebhookDispatcherOptions) {
    this.#store = store;
    this.#events = events;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  async start(): Promise<void> {
    this.#through = await this.#store.fanOutCursor();
    this.#persistedAt = this.#now();
    // A write can only make new deliveries: fan out (coalesced), and send if it inserted any.
    this.#unsubscribe = this.#events.subscribeAll(() => this.#scheduleFanOut());
    this.#poll = setInterval(() => this.wake(), this.#options.pollIntervalMs);
    this.#poll.unref();
    this.wake();
  }

  /** Every event up to this id has been fanned out (in this process). */
  get fannedOutThrough(): number {
    return this.#through;
  }

  /** Deliveries being sent now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Fans out new events and sends what is due. */
  wake(): void {
    if (this.#closed) return;
    this.#fanOut();
    this.#pump();
  }

  /** Stops both loops, aborts attempts in flight and gives their leases back (they are sent again after a restart). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    clearInterval(this.#poll);
    clearTimeout(this.#dueTimer);
    clearTimeout(this.#fanOutTimer);
    const flights = [...this.#inFlight.values()];
    for (const flight of flights) flight.controller.abort();
    await Promise.allSettled(flights.map((flight) => flight.done));
  }

  #scheduleFanOut(): void {
    if (this.#closed || this.#fanOutTimer || !this.#webhooks) return;
    this.#fanOutTimer = setTimeout(() => {
      this.#fanOutTimer = undefined;
      this.#fanOut();
    }, FAN_OUT_COALESCE_MS);
    this.#fanOutTimer.unref();
  }

  /**
   * Fans out now and resolves when that is done: what has to happen before pruning the log, since
   * without webhooks writes no longer move the fan-out position along.
   */
  async fanOutNow(): Promise<void> {
    this.#fanOut();
    await this.#fanOutRun;
  }

  #fanOut(): void {
    if (this.#fanningOut) {
      this.#fanOutAgain = true;
      return;
    }
    this.#fanningOut = true;
    this.#fanOutRun = (async () => {
      try {
        do {
          this.#fanOutAgain = false;
          for (;;) {
            const persist = this.#now() - this.#persistedAt >= PERSIST_EVERY_MS;
            const result = await this.#store.fanOut(
              this.#through,
              FAN_OUT_BATCH,
              (events, webhooks) => this.#decide(events, webhooks),
              persist,
            );
            if (persist || result.inserted > 0) this.#persistedAt = this.#now();
            this.#webhooks = result.webhooks;
            const moved = result.through > this.#through;
            this.#through = Math.max(this.#through, result.through);
            if (result.inserted > 0) this.#pump();
            if (!moved || this.#closed) break;
          }
        } while (this.#fanOutAgain && !this.#closed);
      } catch (error) {
        this.#options.onError?.(error);
      } finally {
        this.#fanningOut = false;
      }
    })();
  }

  #decide(events: LoggedEvent[], webhooks: WebhookRecord[]): NewDelivery[] {
    const deliveries: NewDelivery[] = [];
    for (const event of events) {
      for (const webhook of webhooks) {
        if (event.id <= webhook.startEventId) continue;
        if (event.record.parent !== webhook.parent) continue;
        if (!webhook.events.includes(event.type as WebhookEventType)) continue;
        const filter = this.#filter(webhook.filter);
        if (filter === null || (filter && !matchesFilter(filter, event.record))) continue;
        const id = randomUUID();
        deliveries.push({
          id,
          webhook: webhook.name,
          eventId: event.id,
          eventType: event.type as WebhookEventType,
          operation: event.record.name,
          body: deliveryBody(id, webhook.name, event),
        });
      }
    }
    return deliveries;
  }

  /** The webhook's filter parsed (undefined: none), or null when this version cannot read it (it matches nothing). */
  #filter(text: string): Filter | undefined | null {
    let filter = this.#filters.get(text);
    if (filter === undefined && !this.#filters.has(text)) {
      try {
        filter = parseFilter(text) ?? undefined;
      } catch {
        filter = null;
      }
      if (this.#filters.size > 1000) this.#filters.clear();
      this.#filters.set(text, filter);
    }
    return filter;
  }

  #pump(): void {
    if (this.#closed) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    void (async () => {
      try {
        do {
          this.#pumpAgain = false;
          const free = this.#options.concurrency - this.#inFlight.size;
          if (free <= 0) break;
          const now = this.#now();
          const claimed = await this.#store.claimDue(now, now + this.#options.timeoutMs + LEASE_MARGIN_MS, free);
          if (this.#closed) {
            await Promise.allSettled(claimed.map((d) => this.#store.releaseLease(d.id, d.leaseUntil)));
            return;
          }
          for (const delivery of claimed) this.#send(delivery);
          if (claimed.length === free) this.#pumpAgain = true;
        } while (this.#pumpAgain && !this.#closed);
        await this.#scheduleNextDue();
      } catch (error) {
        this.#options.onError?.(error);
      } finally {
        this.#pumping = false;
      }
    })();
  }

  async #scheduleNextDue(): Promise<void> {
    // With every slot taken, the next attempt to finish pumps again.
    if (this.#inFlight.size >= this.#options.concurrency) return;
    const found = await this.#store.nextDue();
    if (found === undefined || this.#closed) return;
    // Due already but not claimed (another replica holds it): look again shortly, not in a loop.
    const due = Math.max(found, this.#now() + (found <= this.#now() ? MIN_RECHECK_MS : 0));
    if (due >= this.#dueAt && this.#dueTimer) return;
    clearTimeout(this.#dueTimer);
    this.#dueAt = due;
    this.#dueTimer = setTimeout(
      () => {
        this.#dueTimer = undefined;
        this.#dueAt = Number.POSITIVE_INFINITY;
        this.#pump();
      },
      Math.max(0, due - this.#now()),
    );
    this.#dueTimer.unref();
  }

  #send(delivery: ClaimedDelivery): void {
    const controller = new AbortController();
    const done = this.#attempt(delivery, controller.signal).finally(() => {
      this.#inFlight.delete(delivery.id);
      this.#pump();
    });
    this.#inFlight.set(delivery.id, { controller, done });
  }

  async #attempt(delivery: ClaimedDelivery, shutdown: AbortSignal): Promise<void> {
    const attempts = delivery.attempts + 1;
    const started = this.#now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(delivery.uri, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'longrun-webhooks/1',
          'longrun-delivery-id': delivery.id,
          'longrun-event': delivery.eventType,
          'longrun-webhook': delivery.webhook,
          'longrun-attempt': String(attempts),
          'longrun-signature': signatureHeader(delivery.secret, delivery.body, Math.floor(started / 1000)),
        },
        body: delivery.body,
        signal: AbortSignal.any([shutdown, AbortSignal.timeout(this.#options.timeoutMs)]),
      });
      status = response.status;
      await response.body?.cancel().catch(() => {});
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (caught) {
      if (shutdown.aborted) {
        await this.#store.releaseLease(delivery.id, delivery.leaseUntil).catch(() => {});
        return;
      }
      error = describeFailure(caught, this.#options.timeoutMs);
    }
    const time = this.#now();
    let outcome: AttemptOutcome;
    if (error === null) {
      outcome = { state: 'SUCCEEDED', attempts, time, nextAttemptTime: null, lastStatus: status, lastError: null };
    } else if (attempts >= this.#options.maxAttempts) {
      outcome = { state: 'FAILED', attempts, time, nextAttemptTime: null, lastStatus: status, lastError: error };
    } else {
      const delay = retryDelay(attempts, this.#options.retryBaseMs, this.#options.retryMaxMs, this.#random);
      outcome = {
        state: 'PENDING',
        attempts,
        time,
        nextAttemptTime: time + delay,
        lastStatus: status,
        lastError: error,
      };
    }
    try {
      await this.#store.finishAttempt(delivery.id, delivery.leaseUntil, outcome);
    } catch (caught) {
      // Not recorded: the lease runs out and the delivery is sent again (at least once).
      this.#options.onError?.(caught);
    }
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return `${error.message}: ${cause.code}`;
    if (cause?.message) return `${error.message}: ${cause.message}`;
    return error.message;
  }
  return String(error);
}
