/**
 * Prometheus metrics (`GET /metrics`). Each server has its own registry, so several servers in one
 * process (tests) do not mix their figures. Operation counts come from the store at scrape time,
 * cached briefly so frequent scrapes do not load a large store.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { StateCounts } from '../store/store.js';

export interface MetricsSources {
  countByState(): Promise<StateCounts>;
  waiters(): number;
  /** Open watch streams (SSE and gRPC). */
  watchers(): number;
}

const STATE_CACHE_MS = 5000;

export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'transport' | 'method' | 'code'>;
  readonly latency: Histogram<'transport' | 'method'>;
  readonly swept: Counter<'kind'>;
  #states: { at: number; counts: Promise<StateCounts> } | undefined;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'longrun_' });
    this.requests = new Counter({
      name: 'longrun_requests_total',
      help: 'Requests answered, by transport, method and status code name',
      labelNames: ['transport', 'method', 'code'],
      registers,
    });
    this.latency = new Histogram({
      name: 'longrun_request_duration_seconds',
      help: 'Time to answer a request (waits included), by transport and method',
      labelNames: ['transport', 'method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers,
    });
    this.swept = new Counter({
      name: 'longrun_retention_swept_total',
      help: 'Operations the retention sweeper removed (expired) or ended past their maximum age (timed_out)',
      labelNames: ['kind'],
      registers,
    });
    const states = () => {
      const now = Date.now();
      if (!this.#states || now - this.#states.at > STATE_CACHE_MS) {
        this.#states = { at: now, counts: sources.countByState() };
        this.#states.counts.catch(() => {
          this.#states = undefined;
        });
      }
      return this.#states.counts;
    };
    new Gauge({
      name: 'longrun_operations',
      help: 'Operations stored, by state (running, succeeded, failed, cancelled)',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await states();
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'longrun_open_operations',
      help: 'Operations not done yet',
      registers,
      async collect() {
        this.set((await states()).running);
      },
    });
    new Gauge({
      name: 'longrun_watchers',
      help: 'Open watch streams',
      registers,
      collect() {
        this.set(sources.watchers());
      },
    });
    new Gauge({
      name: 'longrun_waiters',
      help: 'Pending :wait calls',
      registers,
      collect() {
        this.set(sources.waiters());
      },
    });
  }

  /** Records one answered request. */
  observe(transport: string, method: string, code: string, seconds: number): void {
    this.requests.inc({ transport, method, code });
    this.latency.observe({ transport, method }, seconds);
  }
}
