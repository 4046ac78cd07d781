/**
 * Events across replicas on one PostgreSQL: every update and delete a `PostgresStore` writes is
 * announced with NOTIFY once it has committed. Each replica keeps one
 * dedicated connection that LISTENs and relays what other replicas announce into its local
 * `EventHub`, so a waiter on replica A wakes when replica B completes the operation.
 *
 * - Payload: `{"o": origin, "t": "updated" | "deleted", "n": name, "r": record}`. The record rides
 *   along when the payload stays under NOTIFY's 8000-byte limit, so nothing is re-read; a larger one
 *   is announced by name and re-read here, and only if someone on this replica waits on it.
 * - A replica's own announcements are skipped: its service has already published them locally.
 * - When the connection drops, it reconnects with capped exponential backoff. Notifications sent
 *   meanwhile are lost, so after LISTEN is back every operation with a local listener is re-read
 *   and published: a completion during the gap still wakes its waiters.
 * - A heartbeat query notices a connection that died silently (no reset reached us).
 * - Announcements are sent right after the write commits (see PostgresStore); one is lost only if
 *   its replica dies in between. Every `resyncMs` the watched operations are re-read anyway, which
 *   bounds how late such a change reaches a waiter.
 */
import pg from 'pg';
import type { NotificationPayload, PostgresStore } from '../store/postgres/postgres-store.js';
import type { OperationRecord } from '../store/store.js';
import type { EventHub, OperationEvent } from './event-hub.js';

export interface PostgresEventRelayOptions {
  /** First reconnect delay; doubles on each failure up to `reconnectMaxMs`. @default 100 */
  reconnectInitialMs?: number;
  /** @default 2000 */
  reconnectMaxMs?: number;
  /** How often the LISTEN connection is checked with a query; it is replaced if the check fails. @default 10000 */
  heartbeatMs?: number;
  /**
   * How often every operation with a local listener is re-read regardless: the bound on how late
   * a waiter learns of a change whose announcement was lost (its replica died between committing
   * and announcing). 0 turns it off.
   * @default 30000
   */
  resyncMs?: number;
  /** Where connection losses and recoveries are reported. */
  log?: (level: 'info' | 'warn', message: string) => void;
}

type Connection = pg.Client & { connection?: { stream?: { destroy(): void } } };

const WAKE_BATCH = 1000;

/** Relays a `PostgresStore`'s notifications from other replicas into the local hub. */
export class PostgresEventRelay {
  readonly #store: PostgresStore;
  readonly #hub: EventHub;
  readonly #reconnectInitialMs: number;
  readonly #reconnectMaxMs: number;
  readonly #heartbeatMs: number;
  readonly #resyncMs: number;
  readonly #log: NonNullable<PostgresEventRelayOptions['log']>;
  readonly #rereads = new Map<string, Promise<void>>();
  #client: Connection | undefined;
  #channel = '';
  #delay: number;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #resync: NodeJS.Timeout | undefined;
  #closed = false;
  /** Bumped on each new connection, so callbacks of an old one are ignored. */
  #generation = 0;
  /** How many times the connection was re-established (for tests and metrics). */
  reconnects = 0;

  private constructor(store: PostgresStore, hub: EventHub, options: PostgresEventRelayOptions) {
    this.#store = store;
    this.#hub = hub;
    this.#reconnectInitialMs = options.reconnectInitialMs ?? 100;
    this.#reconnectMaxMs = options.reconnectMaxMs ?? 2000;
    this.#heartbeatMs = options.heartbeatMs ?? 10_000;
    this.#resyncMs = options.resyncMs ?? 30_000;
    this.#log = options.log ?? (() => {});
    this.#delay = this.#reconnectInitialMs;
  }

  /** Connects and LISTENs; fails if the database cannot be reached now. */
  static async start(
    store: PostgresStore,
    hub: EventHub,
    options: PostgresEventRelayOptions = {},
  ): Promise<PostgresEventRelay> {
    const relay = new PostgresEventRelay(store, hub, options);
    relay.#channel = await store.ready();
    await relay.#connect();
    relay.#heartbeat = setInterval(() => relay.#check(), relay.#heartbeatMs);
    relay.#heartbeat.unref();
    if (relay.#resyncMs > 0) {
      relay.#resync = setInterval(() => {
        if (relay.#client) relay.#wake();
      }, relay.#resyncMs);
      relay.#resync.unref();
    }
    return relay;
  }

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    const client: Connection = new pg.Client(this.#store.clientConfig);
    const lost = (error?: Error) => this.#lost(generation, client, error);
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      if (generation === this.#generation && message.channel === this.#channel) this.#relay(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.#channel)}`);
    } catch (error) {
      this.#generation++;
      client.end().catch(() => {});
      throw error;
    }
    if (this.#closed || generation !== this.#generation) {
      client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#delay = this.#reconnectInitialMs;
  }

  #lost(generation: number, client: Connection, error?: Error): void {
    if (generation !== this.#generation) return;
    this.#generation++;
    this.#client = undefined;
    client.end().catch(() => {});
    if (this.#closed) return;
    this.#log('warn', `PostgreSQL event connection lost (${error?.message ?? 'closed'}); reconnecting`);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#timer) return;
    const delay = this.#delay * (0.8 + Math.random() * 0.4);
    this.#delay = Math.min(this.#delay * 2, this.#reconnectMaxMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#reconnect();
    }, delay);
    this.#timer.unref();
  }

  async #reconnect(): Promise<void> {
    try {
      await this.#connect();
    } catch {
      this.#scheduleReconnect();
      return;
    }
    if (this.#closed || !this.#client) return;
    this.reconnects++;
    this.#log('info', 'PostgreSQL event connection restored');
    await this.#wake();
  }

  /** Re-reads and publishes every operation someone here waits on: what changed during a gap is not missed. */
  async #wake(): Promise<void> {
    const names = this.#hub.listenedNames();
    try {
      for (let i = 0; i < names.length; i += WAKE_BATCH) {
        const batch = names.slice(i, i + WAKE_BATCH);
        const records = await this.#store.getMany(batch);
        const found = new Set<string>();
        for (const record of records) {
          found.add(record.name);
          this.#publish({ type: 'updated', name: record.name, record });
        }
        for (const name of batch) if (!found.has(name)) this.#publish({ type: 'deleted', name });
      }
    } catch {
      // The database went away again; the connection loss that follows brings another wake.
      if (!this.#closed && this.#client) setTimeout(() => this.#wake(), this.#reconnectMaxMs).unref();
    }
  }

  #check(): void {
    const client = this.#client;
    if (!client || this.#closed) return;
    const generation = this.#generation;
    const timeout = setTimeout(() => {
      // No answer: the connection is dead without having said so. Cut it; `end` triggers a reconnect.
      client.connection?.stream?.destroy();
      this.#lost(generation, client, new Error('heartbeat timed out'));
    }, this.#heartbeatMs / 2);
    client.query('SELECT 1').then(
      () => clearTimeout(timeout),
      (error: Error) => {
        clearTimeout(timeout);
        this.#lost(generation, client, error);
      },
    );
  }

  #relay(text: string | undefined): void {
    if (!text) return;
    let payload: NotificationPayload;
    try {
      payload = JSON.parse(text) as NotificationPayload;
    } catch {
      return;
    }
    if (payload.o === this.#store.origin || typeof payload.n !== 'string') return;
    if (!this.#hub.hasListeners(payload.n)) return;
    if (payload.t === 'deleted') this.#publish({ type: 'deleted', name: payload.n });
    else if (payload.t === 'updated') {
      if (payload.r) this.#publish({ type: 'updated', name: payload.n, record: payload.r as OperationRecord });
      else this.#reread(payload.n);
    }
  }

  /** Re-reads a record announced without its body; re-reads of one name run in order. */
  #reread(name: string): void {
    const previous = this.#rereads.get(name) ?? Promise.resolve();
    const next = previous
      .then(() => this.#store.get(name))
      .then(
        (record) => {
          if (record) this.#publish({ type: 'updated', name, record });
        },
        () => {
          // Unreachable now: the reconnect that follows wakes this name's waiters.
        },
      )
      .finally(() => {
        if (this.#rereads.get(name) === next) this.#rereads.delete(name);
      });
    this.#rereads.set(name, next);
  }

  #publish(event: OperationEvent): void {
    try {
      this.#hub.publish(event);
    } catch (error) {
      this.#log('warn', `an event listener failed: ${String(error)}`);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    clearInterval(this.#resync);
    const client = this.#client;
    this.#client = undefined;
    this.#generation++;
    await Promise.allSettled([...this.#rereads.values()]);
    if (client) await client.end().catch(() => {});
  }
}
