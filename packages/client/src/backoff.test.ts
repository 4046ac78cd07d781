import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

const take = (backoff: Backoff, n: number) => Array.from({ length: n }, () => backoff.next());

describe('Backoff', () => {
  it('grows by the multiplier up to the maximum', () => {
    const backoff = new Backoff({ initialDelayMs: 500, multiplier: 2, maxDelayMs: 10_000, jitter: 0 });
    expect(take(backoff, 7)).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('takes up to the jitter fraction off each delay', () => {
    const settings = { initialDelayMs: 1000, multiplier: 1.5, maxDelayMs: 20_000, jitter: 0.2 };
    expect(take(new Backoff(settings, () => 0), 3)).toEqual([1000, 1500, 2250]);
    expect(take(new Backoff(settings, () => 1), 3)).toEqual([800, 1200, 1800]);
    expect(take(new Backoff({ ...settings, jitter: 1 }, () => 0.5), 2)).toEqual([500, 750]);
  });

  it('never starts above the maximum', () => {
    expect(new Backoff({ initialDelayMs: 5000, multiplier: 2, maxDelayMs: 1000, jitter: 0 }).next()).toBe(1000);
  });
});
