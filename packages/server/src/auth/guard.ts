/**
 * Per-principal limits that both transports apply before a call reaches the service: a request
 * rate (a token bucket) and a bound on pending waits. Refusals are RESOURCE_EXHAUSTED with a
 * RetryInfo detail (and `Retry-After` over HTTP).
 */
import { ApiError } from '../contract/errors.js';
import type { Principal } from './access.js';

export interface GuardOptions {
  /** Requests per second per principal; 0 for no limit. */
  rateLimit: number;
  /** Requests above the rate a principal may make at once. @default 2 × rateLimit */
  rateBurst?: number | undefined;
  maxWaitersPerPrincipal: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

export class RequestGuard {
  readonly #options: GuardOptions;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #waiters = new Map<string, number>();

  constructor(options: GuardOptions) {
    this.#options = options;
    this.#burst = Math.max(1, options.rateBurst ?? options.rateLimit * 2);
    this.#now = options.now ?? Date.now;
  }

  /** Takes one request from the principal's budget, or refuses it. */
  admit(principal: Principal): void {
    const rate = this.#options.rateLimit;
    if (rate <= 0) return;
    const now = this.#now();
    const bucket = this.#buckets.get(principal.name) ?? { tokens: this.#burst, updated: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.updated) / 1000) * rate);
    bucket.updated = now;
    this.#buckets.set(principal.name, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const retryDelayMs = Math.ceil(((1 - bucket.tokens) / rate) * 1000);
    throw new ApiError('RATE_LIMITED', `Too many requests from "${principal.name}": at most ${rate} per second`, {
      metadata: { principal: principal.name, limit: String(rate) },
      retryDelayMs,
    });
  }

  /** Counts a pending wait; call the returned function when it ends. */
  startWait(principal: Principal): () => void {
    const pending = this.#waiters.get(principal.name) ?? 0;
    if (pending >= this.#options.maxWaitersPerPrincipal) {
      throw new ApiError(
        'TOO_MANY_WAITERS',
        `"${principal.name}" already has ${pending} waits pending, the most this server allows`,
        {
          metadata: { principal: principal.name, limit: String(this.#options.maxWaitersPerPrincipal) },
          retryDelayMs: 1000,
        },
      );
    }
    this.#waiters.set(principal.name, pending + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.#waiters.get(principal.name) ?? 1) - 1;
      if (left === 0) this.#waiters.delete(principal.name);
      else this.#waiters.set(principal.name, left);
    };
  }

  /** Pending waits across all principals. */
  get waiters(): number {
    let total = 0;
    for (const count of this.#waiters.values()) total += count;
    return total;
  }
}
