// The load generator: autocannon, in this process (the servers are children). Latencies are
// recorded here to the microsecond (autocannon's own histogram keeps whole milliseconds, too
// coarse for a server answering in a fraction of one).
import autocannon from 'autocannon';

/**
 * @typedef {object} LoadPlan
 * @property {string} [method]
 * @property {Record<string, string>} [headers]
 * @property {(request: {method: string, path: string, headers: object, body?: string}, context: object) => object} setupRequest
 * @property {(status: number, body: string, context: object) => void} [onResponse]
 */

/**
 * @typedef {object} LoadResult
 * @property {number} requests     completed responses
 * @property {number} ok           2xx responses
 * @property {number} non2xx
 * @property {Record<string, number>} statusCodes
 * @property {number} errors       connection errors and timeouts
 * @property {number} seconds      wall time of the run
 * @property {number} rps          completed responses per second
 * @property {number} p50Ms
 * @property {number} p99Ms
 * @property {number} maxMs
 */

/**
 * Runs one load: for `duration` seconds, or for exactly `amount` requests when given.
 * @param {string} url
 * @param {LoadPlan} plan
 * @param {{connections: number, pipelining?: number, duration?: number, amount?: number, recordLatency?: boolean}} options
 * @returns {Promise<LoadResult>}
 */
export async function runLoad(url, plan, options) {
  const latencies = [];
  const instance = autocannon({
    url,
    connections: options.connections,
    pipelining: options.pipelining ?? 1,
    duration: options.duration ?? 10,
    amount: options.amount,
    // autocannon notices the end of a run at its sampling tick; a short tick keeps the idle
    // time after the last response (which would count as run time) under 0.1 s.
    sampleInt: 100,
    timeout: 10,
    requests: [
      {
        method: plan.method ?? 'GET',
        headers: plan.headers ?? {},
        setupRequest: plan.setupRequest,
        ...(plan.onResponse ? { onResponse: plan.onResponse } : {}),
      },
    ],
  });
  if (options.recordLatency !== false) {
    instance.on('response', (_client, _status, _bytes, responseTimeMs) => {
      latencies.push(responseTimeMs);
    });
  }
  const result = await instance;
  const sorted = Float64Array.from(latencies).sort();
  const completed = result.requests.total;
  return {
    requests: completed,
    ok: result['2xx'],
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, v]) => [code, v.count])),
    errors: result.errors + result.timeouts,
    seconds: result.duration,
    rps: completed / result.duration,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN,
  };
}

function percentile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
