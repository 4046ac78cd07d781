// The scenarios: what each request is. A scenario gives, for one run against one target, the
// autocannon plan (a `setupRequest` that writes each request, optionally an `onResponse`); the
// harness runs it as a warmup and then as the measured run, against each target in turn.
//
// Every id has a fixed width so every answer of a scenario has the same size, which lets the
// baseline answer exactly as many bytes as longrun.

export const PARENT = 'projects/bench';
export const COLLECTION_PATH = `/v1/${PARENT}/operations`;
export const METADATA = { '@type': 'type.googleapis.com/bench.Meta', progress: 0 };
const JSON_HEADERS = { 'content-type': 'application/json' };
const METADATA_JSON = JSON.stringify(METADATA);
const PATCH_BODY = JSON.stringify({
  operation: { done: true, response: { '@type': 'type.googleapis.com/google.protobuf.Empty' } },
  updateMask: 'done,response',
});

/** A seeded operation's id: `op-00000042` (11 characters, like every id here). */
export function seedId(i) {
  return `op-${String(i).padStart(8, '0')}`;
}

/** An id created by the create scenario: `c-000000042`. */
export function createdId(n) {
  return `c-${String(n).padStart(9, '0')}`;
}

/** An id for one-off probes: `p-000000042`. */
export function probeId(n) {
  return `p-${String(n).padStart(9, '0')}`;
}

export function operationPath(id) {
  return `${COLLECTION_PATH}/${id}`;
}

/** The create request body: a caller-chosen id (so a retry is exact) and a small metadata Any. */
export function createBody(id) {
  return `{"operationId":"${id}","operation":{"metadata":${METADATA_JSON}}}`;
}

export { PATCH_BODY };

/**
 * What the scenarios share across targets and runs. `created` holds, per target, the ids its
 * create runs answered 200 for (the patch scenario patches them).
 * @typedef {object} BenchState
 * @property {number} ops                       operations seeded before any scenario (op-00000000…)
 * @property {Map<string, string[]>} created    target name → ids created by the create scenario
 * @property {Map<string, any>} scratch          what a scenario keeps between its runs (rounds)
 */

/**
 * @typedef {object} ScenarioRun
 * @property {import('./load.js').LoadPlan} plan
 * @property {() => number} [remaining]  for a finite scenario, how many requests are left
 * @property {() => string | undefined} [note]  a remark for the report (say, a pool that ran out)
 */

/**
 * @typedef {object} Scenario
 * @property {string} name
 * @property {string} description
 * @property {number} [goal]        the least acceptable ratio of longrun's req/s to the baseline's
 * @property {boolean} [finite]     each request uses up a prepared item: the measured run is a fixed
 *                                  count sized from the warmup's rate to last about --duration
 * @property {(state: BenchState, target: {name: string, stateless?: boolean}) => ScenarioRun} start
 *   called for each run (one target, one round); the same plan serves its warmup and its measured run
 */

/** @type {Scenario} */
const get = {
  name: 'get',
  description: 'GET /v1/projects/bench/operations/op-NNNNNNNN, round-robin over the seeded operations',
  goal: 0.7,
  start(state) {
    let i = 0;
    return {
      plan: {
        method: 'GET',
        setupRequest(request) {
          request.path = operationPath(seedId(i++ % state.ops));
          return request;
        },
      },
    };
  },
};

/** @type {Scenario} */
const create = {
  name: 'create',
  description:
    'POST /v1/projects/bench/operations with a unique operationId per request and a small metadata Any ' +
    '{"@type":"type.googleapis.com/bench.Meta","progress":0}',
  goal: 0.4,
  start(state, target) {
    // One counter per target across rounds, so every id is new.
    const key = `create:${target.name}`;
    const counter = state.scratch.get(key) ?? { n: 0 };
    state.scratch.set(key, counter);
    const created = state.created.get(target.name) ?? [];
    state.created.set(target.name, created);
    return {
      plan: {
        method: 'POST',
        headers: JSON_HEADERS,
        setupRequest(request, context) {
          const id = createdId(counter.n++);
          context.id = id;
          request.path = COLLECTION_PATH;
          request.body = createBody(id);
          return request;
        },
        // Kept for the patch scenario; the baseline's run does the same work so the load
        // generator costs the same on both sides.
        onResponse(status, _body, context) {
          if (status === 200) created.push(context.id);
        },
      },
    };
  },
};

/** @type {Scenario} */
const patch = {
  name: 'patch',
  description:
    'PATCH /v1/projects/bench/operations/{id} to done with an Empty response (updateMask done,response), ' +
    'each operation patched once: those the create scenario made, then the seeded ones',
  finite: true,
  goal: 0.4,
  start(state, target) {
    if (target.stateless) {
      // Nothing is stored: any name of the right size will do.
      let i = 0;
      return {
        plan: {
          method: 'PATCH',
          headers: JSON_HEADERS,
          setupRequest(request) {
            request.path = operationPath(seedId(i++ % state.ops));
            request.body = PATCH_BODY;
            return request;
          },
        },
        remaining: () => Number.POSITIVE_INFINITY,
      };
    }
    // One pool per target, used up across rounds: every operation is patched once.
    const key = `patch:${target.name}`;
    let pool = state.scratch.get(key);
    if (!pool) {
      const seeded = Array.from({ length: state.ops }, (_, k) => seedId(k));
      pool = { ids: [...(state.created.get(target.name) ?? []), ...seeded], next: 0 };
      state.scratch.set(key, pool);
    }
    const { ids } = pool;
    return {
      plan: {
        method: 'PATCH',
        headers: JSON_HEADERS,
        setupRequest(request) {
          // Past the end of the pool (only a warmup can get there) the patches repeat, and a
          // repeated patch is a retry that changes nothing: still 200, but a cheaper path.
          request.path = operationPath(ids[pool.next++ % ids.length]);
          request.body = PATCH_BODY;
          return request;
        },
      },
      remaining: () => Math.max(0, ids.length - pool.next),
      note: () =>
        pool.next > ids.length
          ? `the pool of ${ids.length} operations ran out (${pool.next - ids.length} repeated patches); raise --ops`
          : undefined,
    };
  },
};

/** Every scenario, in the order they run (patch uses what create made). */
export const SCENARIOS = [get, create, patch];
