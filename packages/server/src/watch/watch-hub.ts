/**
 * Fans the event log out to watchers. One tailer per server reads the log in id order (woken by
 * the local event hub on every write, and by a poll for writes made elsewhere: other processes on
 * the SQLite file, other replicas on PostgreSQL) and hands each event to the watchers it concerns.
 *
 * A watcher starts at a position (an event id). If that is behind the tailer, it first replays the
 * log from there on its own, page by page (honouring its sink's backpressure), and joins the live
 * feed the moment it has caught up; the switch happens synchronously after a read, between two
 * tailer batches, so no event is skipped or delivered twice. Every event reaches a watcher in id
 * order, exactly once.
 *
 * With no watcher at all, the tailer rests: a write does not even read the log's head (on
 * PostgreSQL a query per write batch, on SQLite a read transaction). The first watcher to come
 * brings the tailer to the head before any watcher goes live (`#catchUp`).
 */
import { ApiError } from '../contract/errors.js';
import { hasWildcard, parentPattern } from '../contract/names.js';
import type { EventHub } from '../events/event-hub.js';
import { type Filter, matchesFilter } from '../filter/index.js';
import type { EventLog, LoggedEvent } from './event-log.js';

/** Which operations a watcher follows: one by name, or those under a parent that match a filter. */
export interface WatchSelector {
  name?: string | undefined;
  /** Exact, or a pattern with `-` segments. */
  parent?: string | undefined;
  filter?: Filter | undefined;
}

export interface WatchSink {
  /** One event; called in id order, once per id. */
  deliver(event: LoggedEvent): void;
  /** After a batch of `deliver` calls: the sink may send what it holds (one write for the batch). */
  flush?(): void;
  /** During a replay, after each event: resolves true once the sink can take more, false if it closed. */
  drained(): Promise<boolean>;
  /** The replay cannot continue (the log was pruned past it, or the store failed); the sink ends. */
  fail(error: ApiError): void;
}

export interface WatchHubOptions {
  /** How often the log is read even when nothing local woke the tailer. */
  pollIntervalMs: number;
  /** Events per read. @default 1000 */
  batchSize?: number;
  /** Where failures to read the log are reported (they are retried at the next poll). */
  onError?: (error: unknown) => void;
}

interface Subscription {
  selector: WatchSelector;
  pattern: RegExp | undefined;
  sink: WatchSink;
  /** The id of the last event this watcher has been handed (or skipped as not its own). */
  position: number;
  live: boolean;
  closed: boolean;
}

const REPLAY_PAGE = 500;

export class WatchHub {
  readonly #log: EventLog;
  readonly #events: EventHub;
  readonly #options: WatchHubOptions;
  readonly #batch: number;
  readonly #byName = new Map<string, Set<Subscription>>();
  readonly #byParent = new Map<string, Set<Subscription>>();
  readonly #patterns = new Set<Subscription>();
  readonly #named = new Map<string, () => void>();
  #cursor = 0;
  /** Writes have happened since the tailer last read the head, and nobody was watching. */
  #behind = false;
  #catchingUp: Promise<void> | undefined;
  #started = false;
  #draining = false;
  #again = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #count = 0;

  constructor(log: EventLog, events: EventHub, options: WatchHubOptions) {
    this.#log = log;
    this.#events = events;
    this.#options = options;
    this.#batch = options.batchSize ?? 1000;
  }

  /** Starts tailing at the log's head. */
  async start(): Promise<void> {
    this.#cursor = await this.#log.head();
    this.#started = true;
    this.#unsubscribe = this.#events.subscribeAll(() => this.wake());
    this.#timer = setInterval(() => this.wake(), this.#options.pollIntervalMs);
    this.#timer.unref();
  }

  /** The id of the last event handed to live watchers. */
  get cursor(): number {
    return this.#cursor;
  }

  /** How many watchers there are. */
  get size(): number {
    return this.#count;
  }

  /** The lowest position a watcher still replays from (the log must not be pruned past it here). */
  get lowestReplayPosition(): number {
    let lowest = Number.POSITIVE_INFINITY;
    const visit = (subscription: Subscription) => {
      if (!subscription.live && !subscription.closed) lowest = Math.min(lowest, subscription.position);
    };
    for (const set of this.#byName.values()) set.forEach(visit);
    for (const set of this.#byParent.values()) set.forEach(visit);
    this.#patterns.forEach(visit);
    return lowest;
  }

  /** Hands `sink` every event after `from` that the selector covers, until the returned function is called. */
  watch(selector: WatchSelector, from: number, sink: WatchSink): () => void {
    if (!this.#started) throw new Error('WatchHub.start() was not called');
    const subscription: Subscription = {
      selector,
      pattern:
        selector.parent !== undefined && hasWildcard(selector.parent) ? parentPattern(selector.parent) : undefined,
      sink,
      position: from,
      live: false,
      closed: false,
    };
    this.#add(subscription);
    void this.#replay(subscription);
    return () => this.#remove(subscription);
  }

  /** Reads the log now (also called on every local write). */
  wake(): void {
    if (this.#closed || !this.#started) return;
    if (this.#count === 0) {
      this.#behind = true;
      return;
    }
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = true;
    // After the current I/O: the write that woke us answers its caller first, and writes that
    // arrive together are read and sent together (one write per watcher for the lot).
    setImmediate(() => void this.#drain());
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#unsubscribe?.();
  }

  async #drain(): Promise<void> {
    try {
      do {
        this.#again = false;
        // Woken just after a rest: skip what nobody was watching rather than read it.
        await this.#catchUp();
        for (;;) {
          // Only up to the head: on PostgreSQL, ids above it may still be filled in by transactions
          // that have not committed yet.
          const head = await this.#log.head();
          if (head <= this.#cursor) break;
          // Nobody watches: nothing to hand out, so skip reading the events (checked after the await,
          // and from here to the assignment nothing else runs, so no watcher can join in between).
          if (this.#count === 0) {
            this.#cursor = head;
            break;
          }
          const events = await this.#log.read({ after: this.#cursor, upTo: head, limit: this.#batch });
          const touched = new Set<Subscription>();
          for (const event of events) {
            // A catch-up (#catchUp) may have moved the cursor past this read meanwhile.
            if (event.id <= this.#cursor) continue;
            this.#dispatch(event, touched);
            this.#cursor = event.id;
          }
          for (const subscription of touched) subscription.sink.flush?.();
          if (events.length < this.#batch) this.#cursor = Math.max(this.#cursor, head);
          if (events.length < this.#batch || this.#closed) break;
        }
      } while (this.#again && !this.#closed);
    } catch (error) {
      // Unreadable now: nothing moved, so nothing is lost; the next wake or poll reads again.
      this.#options.onError?.(error);
    } finally {
      this.#draining = false;
    }
  }

  #dispatch(event: LoggedEvent, touched: Set<Subscription>): void {
    const record = event.record;
    // Watchers with the same filter are decided once per event.
    const decided = new Map<string, boolean>();
    const offer = (subscription: Subscription) => {
      if (!subscription.live || subscription.closed || event.id <= subscription.position) return;
      subscription.position = event.id;
      const filter = subscription.selector.filter;
      if (filter) {
        let matches = decided.get(filter.text);
        if (matches === undefined) {
          matches = matchesFilter(filter, record);
          decided.set(filter.text, matches);
        }
        if (!matches) return;
      }
      subscription.sink.deliver(event);
      touched.add(subscription);
    };
    this.#byName.get(record.name)?.forEach(offer);
    this.#byParent.get(record.parent)?.forEach(offer);
    for (const subscription of this.#patterns) if (subscription.pattern!.test(record.parent)) offer(subscription);
  }

  /**
   * Brings the cursor to the log's head after a rest. Nobody was watching while it fell behind, so
   * nobody needs the events it skips; the watchers that arrive meanwhile all wait for this one read
   * before any of them goes live, so none can go live at the old cursor and miss the skipped ones.
   */
  #catchUp(): Promise<void> {
    if (!this.#behind) return Promise.resolve();
    this.#catchingUp ??= this.#log
      .head()
      .then((head) => {
        this.#cursor = Math.max(this.#cursor, head);
        this.#behind = false;
      })
      .finally(() => {
        this.#catchingUp = undefined;
      });
    return this.#catchingUp;
  }

  async #replay(subscription: Subscription): Promise<void> {
    const { selector, sink } = subscription;
    try {
      await this.#catchUp();
    } catch (error) {
      this.#failReplay(subscription, error);
      return;
    }
    while (!subscription.closed) {
      if (subscription.position >= this.#cursor) {
        subscription.live = true;
        return;
      }
      const after = subscription.position;
      const upTo = this.#cursor;
      let events: LoggedEvent[];
      try {
        events = await this.#log.read({
          after,
          upTo,
          name: selector.name,
          parent: selector.parent,
          limit: REPLAY_PAGE,
        });
        // Pruned meanwhile (by another replica, or a window shorter than the replay)? Then the page
        // may lack events: refuse rather than leave a gap.
        if ((await this.#log.horizon()) > after) throw expired(after);
      } catch (error) {
        this.#failReplay(subscription, error);
        return;
      }
      if (subscription.closed) return;
      for (const event of events) {
        if (subscription.closed) return;
        subscription.position = event.id;
        if (selector.filter && !matchesFilter(selector.filter, event.record)) continue;
        sink.deliver(event);
        sink.flush?.();
        // A replay goes at the consumer's pace: it waits for room instead of dropping the stream.
        if (!(await sink.drained())) return;
      }
      if (events.length < REPLAY_PAGE) subscription.position = Math.max(subscription.position, upTo);
    }
  }

  /** Ends a replay that cannot go on: its sink hears why, and it stops being a watcher. */
  #failReplay(subscription: Subscription, error: unknown): void {
    if (subscription.closed) return;
    subscription.sink.fail(
      error instanceof ApiError ? error : new ApiError('STORE_UNAVAILABLE', 'The event log cannot be read now'),
    );
    this.#remove(subscription);
  }

  #add(subscription: Subscription): void {
    this.#count++;
    const { name, parent } = subscription.selector;
    if (subscription.pattern) this.#patterns.add(subscription);
    else if (name !== undefined) {
      if (!this.#byName.has(name)) {
        // Marks the name as watched on this replica's hub, so the PostgreSQL event relay passes
        // other replicas' changes to it on: the tailer wakes at once instead of at the next poll.
        this.#named.set(
          name,
          this.#events.subscribe(name, () => {}),
        );
      }
      addTo(this.#byName, name, subscription);
    } else addTo(this.#byParent, parent ?? '', subscription);
  }

  #remove(subscription: Subscription): void {
    if (subscription.closed) return;
    subscription.closed = true;
    this.#count--;
    const { name, parent } = subscription.selector;
    if (subscription.pattern) this.#patterns.delete(subscription);
    else if (name !== undefined) {
      removeFrom(this.#byName, name, subscription);
      if (!this.#byName.has(name)) {
        this.#named.get(name)?.();
        this.#named.delete(name);
      }
    } else removeFrom(this.#byParent, parent ?? '', subscription);
  }
}

/** The error for a resume from before the retention window. */
export function expired(after: number): ApiError {
  return new ApiError(
    'EVENT_ID_EXPIRED',
    `Events after ${after} are no longer kept (older than the retention window); read the current state and watch again without Last-Event-ID`,
    { metadata: { lastEventId: String(after) } },
  );
}

function addTo(map: Map<string, Set<Subscription>>, key: string, subscription: Subscription): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(subscription);
}

function removeFrom(map: Map<string, Set<Subscription>>, key: string, subscription: Subscription): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(subscription);
  if (set.size === 0) map.delete(key);
}
