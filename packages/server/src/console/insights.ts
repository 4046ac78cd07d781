/**
 * What the console asks of the store beyond the API: which parents exist, and the counts and
 * activity of a summary. On SQLite these are read-only queries on the store's connection (the
 * indexes the store already has serve them); on any other backend they are derived from the store
 * contract (`list`), which cannot name parents and scans at most `MAX_SCAN` operations.
 */
import type Database from 'better-sqlite3';
import { hasWildcard, parentPattern, WILDCARD } from '../contract/names.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { OperationRecord, OperationStore } from '../store/store.js';

export interface ConsoleCounts {
  running: number;
  /** Running operations with a pending cancel request (also counted in `running`). */
  cancelRequested: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface ActivityWindow {
  /** Start of the first bucket, in milliseconds since the epoch. */
  start: number;
  bucketMs: number;
  buckets: number;
}

export interface ConsoleSummary {
  counts: ConsoleCounts;
  /** Operations created, and finished, in each bucket. */
  created: number[];
  finished: number[];
  /** False when only the newest `scanned` operations were counted. */
  exact: boolean;
  scanned?: number;
}

export interface ParentList {
  /** Most recently created-in first. */
  parents: { parent: string; latestCreateTime: number }[];
  /** False when there were more parents than asked for. */
  complete: boolean;
}

export interface ConsoleInsights {
  /** The distinct parents, or undefined when the backend cannot list them. */
  parents(limit: number): Promise<ParentList | undefined>;
  /** Counts and activity under a parent (exact, or a pattern with `-` segments). */
  summary(parent: string, window: ActivityWindow): Promise<ConsoleSummary>;
}

/** Parents a wildcard summary looks up one by one at most; past that, it scans the prefix. */
const MAX_PATTERN_PARENTS = 1000;
/** The most operations the contract-only fallback reads for one summary. */
export const MAX_SCAN = 20_000;

export function consoleInsights(store: OperationStore): ConsoleInsights {
  return store instanceof SqliteStore ? new SqliteInsights(store.connection) : new ScanInsights(store);
}

function emptyCounts(): ConsoleCounts {
  return { running: 0, cancelRequested: 0, succeeded: 0, failed: 0, cancelled: 0, total: 0 };
}

/** Read-only SQL on the SQLite store's connection, with the same parent matching as its `list`. */
class SqliteInsights implements ConsoleInsights {
  readonly #db: Database.Database;
  readonly #distinct: Database.Statement;
  readonly #latest: Database.Statement;

  constructor(db: Database.Database) {
    this.#db = db;
    // A skip-scan of the (parent, seq) index: one seek per distinct parent, however many operations.
    this.#distinct = db.prepare(
      `WITH RECURSIVE p(parent) AS (
         SELECT min(parent) FROM operations
         UNION ALL
         SELECT (SELECT min(parent) FROM operations WHERE parent > p.parent) FROM p WHERE p.parent IS NOT NULL
         LIMIT ?
       )
       SELECT parent FROM p WHERE parent IS NOT NULL`,
    );
    this.#latest = db.prepare('SELECT create_time FROM operations WHERE parent = ? ORDER BY seq DESC LIMIT 1');
  }

  parents(limit: number): Promise<ParentList> {
    return run(() => {
      const names = this.#distinct.pluck().all(limit + 2) as string[];
      const complete = names.length <= limit;
      const parents = names.slice(0, limit).map((parent) => ({
        parent,
        latestCreateTime: (this.#latest.pluck().get(parent) as number | undefined) ?? 0,
      }));
      parents.sort((a, b) => b.latestCreateTime - a.latestCreateTime || a.parent.localeCompare(b.parent));
      return { parents, complete };
    });
  }

  summary(parent: string, window: ActivityWindow): Promise<ConsoleSummary> {
    return run(() => {
      const db = this.#db;
      const where = this.#parentsOf(parent);
      const count = (extra: string) =>
        db
          .prepare(`SELECT count(*) FROM operations WHERE ${where.sql}${extra}`)
          .pluck()
          .get(...where.params) as number;
      // Index-only counts on (parent, done, seq); only done operations are read, for their error.
      const total = count('');
      const running = count(' AND done = 0');
      const cancelRequested = count(' AND done = 0 AND cancel_request_time IS NOT NULL');
      const outcome = db
        .prepare(
          `SELECT count(*) FILTER (WHERE error IS NULL) AS succeeded,
             count(*) FILTER (WHERE json_extract(error, '$.code') = 1) AS cancelled
           FROM operations WHERE ${where.sql} AND done = 1`,
        )
        .get(...where.params) as { succeeded: number; cancelled: number };
      const counts: ConsoleCounts = {
        running,
        cancelRequested,
        succeeded: outcome.succeeded,
        failed: total - running - outcome.succeeded - outcome.cancelled,
        cancelled: outcome.cancelled,
        total,
      };

      const end = window.start + window.bucketMs * window.buckets;
      const histogram = (sql: string, params: unknown[]) => {
        const out = new Array<number>(window.buckets).fill(0);
        const rows = db.prepare(sql).all(...params) as { bucket: number; n: number }[];
        for (const row of rows) if (row.bucket >= 0 && row.bucket < window.buckets) out[row.bucket] = row.n;
        return out;
      };
      // Created: seq grows with creation, so the window starts at a seq found by bisection, and the
      // (parent, seq) index covers just the window.
      const fromSeq = this.#firstSeqCreatedAt(window.start);
      const created = histogram(
        `SELECT CAST((create_time - ?) / ? AS INTEGER) AS bucket, count(*) AS n FROM operations
         WHERE ${where.sql} AND seq >= ? AND create_time >= ? AND create_time < ? GROUP BY bucket`,
        [window.start, window.bucketMs, ...where.params, fromSeq, window.start, end],
      );
      // Finished: through the done_time index when fewer operations finished in the window (all
      // parents) than this parent has done, else through the parent's rows.
      const finishedAnywhere = db
        .prepare('SELECT count(*) FROM operations WHERE done = 1 AND done_time >= ? AND done_time < ?')
        .pluck()
        .get(window.start, end) as number;
      const byTime = finishedAnywhere < total - running;
      const finished = histogram(
        `SELECT CAST((done_time - ?) / ? AS INTEGER) AS bucket, count(*) AS n FROM operations
         WHERE done = 1 AND done_time >= ? AND done_time < ? AND ${byTime ? where.sql.replace(/^parent/, '+parent') : where.sql}
         GROUP BY bucket`,
        [window.start, window.bucketMs, window.start, end, ...where.params],
      );
      return { counts, created, finished, exact: true };
    });
  }

  /**
   * The condition for a parent: `parent = ?`; for a pattern, the parents it covers found first (a
   * skip-scan of its prefix, matched here) so each is an index seek; with very many, the store's
   * own range-and-regexp scan.
   */
  #parentsOf(parent: string): { sql: string; params: unknown[] } {
    if (!hasWildcard(parent)) return { sql: 'parent = ?', params: [parent] };
    const segments = parent.split('/');
    const prefix = `${segments.slice(0, segments.indexOf(WILDCARD)).join('/')}/`;
    const candidates = this.#db
      .prepare(
        `WITH RECURSIVE p(parent) AS (
           SELECT (SELECT min(parent) FROM operations WHERE parent >= @lo AND parent < @hi)
           UNION ALL
           SELECT (SELECT min(parent) FROM operations WHERE parent > p.parent AND parent < @hi) FROM p
           WHERE p.parent IS NOT NULL
           LIMIT @limit
         )
         SELECT parent FROM p WHERE parent IS NOT NULL`,
      )
      .pluck()
      .all({ lo: prefix, hi: `${prefix.slice(0, -1)}0`, limit: MAX_PATTERN_PARENTS + 1 }) as string[];
    if (candidates.length > MAX_PATTERN_PARENTS) return parentCondition(parent);
    const pattern = parentPattern(parent);
    return {
      sql: 'parent IN (SELECT value FROM json_each(?))',
      params: [JSON.stringify(candidates.filter((candidate) => pattern.test(candidate)))],
    };
  }

  /** The first seq created at or after `time` (creation times grow with seq), by bisection on the primary key. */
  #firstSeqCreatedAt(time: number): number {
    const bounds = this.#db.prepare('SELECT min(seq) AS lo, max(seq) AS hi FROM operations').get() as {
      lo: number | null;
      hi: number | null;
    };
    if (bounds.lo === null || bounds.hi === null) return 0;
    const at = this.#db.prepare('SELECT create_time FROM operations WHERE seq >= ? ORDER BY seq LIMIT 1').pluck();
    let lo = bounds.lo;
    let hi = bounds.hi + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const created = at.get(mid) as number | undefined;
      if (created === undefined || created >= time) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** `parent = ?`, or for a pattern an index range on its fixed prefix and the store's `regexp`. */
function parentCondition(parent: string): { sql: string; params: unknown[] } {
  if (!hasWildcard(parent)) return { sql: 'parent = ?', params: [parent] };
  const segments = parent.split('/');
  const prefix = `${segments.slice(0, segments.indexOf(WILDCARD)).join('/')}/`;
  return {
    sql: 'parent >= ? AND parent < ? AND regexp(?, parent)',
    params: [prefix, `${prefix.slice(0, -1)}0`, parentPattern(parent).source],
  };
}

function run<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Any backend, through the store contract: no parent list, and summaries from the newest operations. */
class ScanInsights implements ConsoleInsights {
  readonly #store: OperationStore;

  constructor(store: OperationStore) {
    this.#store = store;
  }

  parents(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  async summary(parent: string, window: ActivityWindow): Promise<ConsoleSummary> {
    const counts = emptyCounts();
    const created = new Array<number>(window.buckets).fill(0);
    const finished = new Array<number>(window.buckets).fill(0);
    const bucketOf = (time: number | null) => {
      if (time === null || time < window.start) return -1;
      const bucket = Math.floor((time - window.start) / window.bucketMs);
      return bucket < window.buckets ? bucket : -1;
    };
    let beforeSeq: number | undefined;
    let scanned = 0;
    let exact = true;
    for (;;) {
      const page: OperationRecord[] = await this.#store.list({ parent, filter: undefined, limit: 1000, beforeSeq });
      for (const record of page) {
        countRecord(counts, record);
        const c = bucketOf(record.createTime);
        if (c >= 0) created[c]! += 1;
        const f = record.done ? bucketOf(record.doneTime) : -1;
        if (f >= 0) finished[f]! += 1;
      }
      scanned += page.length;
      if (page.length < 1000) break;
      if (scanned >= MAX_SCAN) {
        exact = false;
        break;
      }
      beforeSeq = page[page.length - 1]!.seq;
    }
    return exact ? { counts, created, finished, exact } : { counts, created, finished, exact, scanned };
  }
}

function countRecord(counts: ConsoleCounts, record: OperationRecord): void {
  counts.total++;
  if (!record.done) {
    counts.running++;
    if (record.cancelRequestTime !== null) counts.cancelRequested++;
    return;
  }
  if (record.error === null) {
    counts.succeeded++;
    return;
  }
  // error is canonical JSON that starts with its code.
  const code = /^\{"code":(-?\d+)/.exec(record.error)?.[1];
  if (code === '1') counts.cancelled++;
  else counts.failed++;
}
