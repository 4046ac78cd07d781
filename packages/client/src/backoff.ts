/** Jittered exponential backoff: the one formula behind retries and polling. */

export interface BackoffSettings {
  /** The first delay's ceiling, in milliseconds. */
  initialDelayMs: number;
  /** How much the ceiling grows after each delay. */
  multiplier: number;
  /** The largest ceiling, in milliseconds. */
  maxDelayMs: number;
  /**
   * The fraction of each delay left to chance: a delay is drawn uniformly from
   * `[ceiling × (1 − jitter), ceiling]`. `0` gives exact delays; `1` is "full jitter".
   */
  jitter: number;
}

/**
 * The delays of one retry or polling sequence: the n-th delay (from 0) has the ceiling
 * `min(initialDelayMs × multiplierⁿ, maxDelayMs)`, less a random share of up to `jitter` of it.
 * Jitter keeps many clients that failed together from retrying together.
 */
export class Backoff {
  readonly #settings: BackoffSettings;
  readonly #random: () => number;
  #ceiling: number;

  constructor(settings: BackoffSettings, random: () => number = Math.random) {
    this.#settings = settings;
    this.#random = random;
    this.#ceiling = Math.min(settings.initialDelayMs, settings.maxDelayMs);
  }

  /** The next delay, in milliseconds. */
  next(): number {
    const { jitter, multiplier, maxDelayMs } = this.#settings;
    const delay = this.#ceiling * (1 - jitter * this.#random());
    this.#ceiling = Math.min(this.#ceiling * multiplier, maxDelayMs);
    return delay;
  }
}
