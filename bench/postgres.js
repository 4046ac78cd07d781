#!/usr/bin/env node
// `node bench/postgres.js` (after `npx tsc -b`): two longrun replicas on one PostgreSQL, against
// pg-boss (the PostgreSQL job queue users would pick instead) on the same database, in the same
// run. Scenarios, each with the load spread over both replicas:
//
//   create  POST a new operation (unique operationId, small metadata)  vs pg-boss send()
//   get     GET an operation                                           vs pg-boss getJobById()
//   list    GET the first page of 50, newest first, of a parent holding every operation created
//   wait    waiters on replica A, completions (PATCH done) through replica B: how soon each waiter
//           answers after B acknowledged, and how many completions per second that sustains
//
// and the same scenarios against one longrun on SQLite for reference (--skip-sqlite to leave it
// out). Everything under test runs in child processes: the replicas (`longrun serve --store
// postgres://…`), and pg-boss in two processes (as two application instances would), each with a
// pool of 10 connections like each replica. The load generator (autocannon for HTTP; a loop with
// the same number of requests in flight for pg-boss) runs here. Rounds alternate longrun and
// pg-boss; figures are medians of the rounds. The machine is shared: read the ratios.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { runLoad } from './lib/load.js';
import { COLLECTION_PATH, createBody, operationPath, PATCH_BODY } from './lib/scenarios.js';
import { longrun, REPO } from './lib/targets.js';

const SELF = fileURLToPath(import.meta.url);
const QUEUE = 'bench';
const JOB_DATA = { '@type': 'type.googleapis.com/bench.Meta', progress: 0 };

if (process.argv[2] === '--pgboss-child') {
  await pgBossChild();
  process.exit(0);
}

const HELP = `Usage: node bench/postgres.js [options]   (build first: npx tsc -b)

  --database <url>     PostgreSQL to use; a fresh schema is created in it and dropped afterwards
                       (default $LONGRUN_BENCH_POSTGRES_URL, $LONGRUN_TEST_POSTGRES_URL, or
                       postgres://postgres@127.0.0.1:5432/test)
  --duration <s>       measured seconds of each run (default 3)
  --warmup <s>         warmup seconds before each measured run (default 1)
  --rounds <n>         rounds; each runs longrun then pg-boss (or the reverse); figures and ratios are
                       medians over the rounds (default 5)
  --connections <n>    requests in flight, split over the two replicas / two pg-boss processes (default 50)
  --waits <n>          operations in each wait run (default 1000)
  --wait-rate <n>      completions a second in the paced wait run (default 200)
  --pool <n>           connections per replica and per pg-boss process (default 10)
  --skip-sqlite        leave out the single-SQLite reference
  --keep               keep the schemas
  -h, --help           this text
`;

const { values: flags } = parseArgs({
  options: {
    database: { type: 'string' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    waits: { type: 'string', default: '1000' },
    'wait-rate': { type: 'string', default: '200' },
    pool: { type: 'string', default: '10' },
    'skip-sqlite': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const options = {
  database:
    flags.database ??
    process.env.LONGRUN_BENCH_POSTGRES_URL ??
    process.env.LONGRUN_TEST_POSTGRES_URL ??
    'postgres://postgres@127.0.0.1:5432/test',
  duration: Number(flags.duration),
  warmup: Number(flags.warmup),
  rounds: Math.max(1, Math.round(Number(flags.rounds))),
  connections: Math.max(2, Math.round(Number(flags.connections))),
  waits: Math.max(10, Math.round(Number(flags.waits))),
  waitRate: Math.max(1, Number(flags['wait-rate'])),
  pool: Math.max(1, Math.round(Number(flags.pool))),
};

const log = (line = '') => process.stdout.write(`${line}\n`);
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)];
}
function percentile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** CPU seconds (user + system) of a process, from /proc; 0 off Linux. */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Runs `work`, adding to its result the CPU µs per successful request of the processes `pids` and
 * of the PostgreSQL backends serving connections named `applicationName` (the server's background
 * processes, such as the WAL writer, are not counted).
 */
async function withCpu(pids, applicationName, work) {
  const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  const backends = rows.map((row) => row.pid);
  const sum = (list) => list.reduce((total, pid) => total + cpuOf(pid), 0);
  const before = sum(pids);
  const postgresBefore = sum(backends);
  const harnessBefore = process.cpuUsage();
  const result = await work();
  const count = result.count;
  const harness = process.cpuUsage(harnessBefore);
  return {
    ...result,
    cpuUsPerOp: ((sum(pids) - before) / count) * 1e6,
    postgresCpuUsPerOp: ((sum(backends) - postgresBefore) / count) * 1e6,
    harnessCpuUsPerOp: (harness.user + harness.system) / count,
  };
}

function withSchema(url, schema) {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  parsed.searchParams.set('application_name', schema);
  return parsed.toString();
}

// ---------------------------------------------------------------------------------------------
// longrun over HTTP

/** Runs one plan against every server at once, connections split evenly; rps is the sum. */
async function loadAll(servers, makePlan, seconds, connections) {
  const each = Math.max(1, Math.floor(connections / servers.length));
  const results = await Promise.all(
    servers.map((server, i) => runLoad(server.url, makePlan(i), { connections: each, duration: seconds })),
  );
  const bad = results.reduce((n, r) => n + r.non2xx + r.errors, 0);
  return {
    rps: results.reduce((n, r) => n + r.ok / r.seconds, 0),
    count: results.reduce((n, r) => n + r.ok, 0),
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    failed: bad,
    statusCodes: results.map((r) => r.statusCodes),
  };
}

/** Ids `cA-00000001`: a letter per server, so replicas never collide; every id has one width. */
function createPlan(created, letters, counters) {
  return (i) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest(request, context) {
      const id = `c${letters[i]}-${String(counters[i]++).padStart(8, '0')}`;
      context.id = id;
      request.path = COLLECTION_PATH;
      request.body = createBody(id);
      return request;
    },
    onResponse(status, _body, context) {
      if (status === 200) created.push(context.id);
    },
  });
}

function getPlan(ids) {
  return (i) => {
    let n = i * 7919;
    return {
      method: 'GET',
      setupRequest(request) {
        request.path = operationPath(ids[n++ % ids.length]);
        return request;
      },
    };
  };
}

function listPlan() {
  return () => ({
    method: 'GET',
    setupRequest(request) {
      request.path = `${COLLECTION_PATH}?pageSize=50`;
      return request;
    },
  });
}

async function call(url, method, path, body) {
  const response = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text;
}

/**
 * The wait scenario: `count` operations created through `waiter`; a :wait on each, held open on
 * `waiter`; then every one completed through `completer`: `rate` PATCHes a second (paced: the wake
 * latency at a load the servers sustain), or without `rate` as fast as `concurrency` PATCHes in
 * flight allow (the most completions a second that still wake their waiters).
 */
async function waitScenario(waiter, completer, count, { rate, concurrency }, tag) {
  const ids = Array.from({ length: count }, (_, i) => `w${tag}-${String(i).padStart(8, '0')}`);
  let created = 0;
  await runLoad(
    waiter.url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest(request) {
        request.path = COLLECTION_PATH;
        request.body = createBody(ids[created++]);
        return request;
      },
    },
    { connections: 20, amount: count, recordLatency: false },
  );
  const woke = new Map();
  const acked = new Map();
  const waits = ids.map((id) =>
    call(waiter.url, 'POST', `${operationPath(id)}:wait`, '{"timeout":"120s"}').then((text) => {
      woke.set(id, performance.now());
      if (!text.includes('"done":true')) throw new Error(`wait on ${id} returned before done: ${text}`);
    }),
  );
  await sleep(Math.max(1000, count / 2)); // every wait subscribed
  if (woke.size > 0) throw new Error(`${woke.size} waits returned before any completion`);
  const started = performance.now();
  const complete = async (id) => {
    await call(completer.url, 'PATCH', operationPath(id), PATCH_BODY);
    acked.set(id, performance.now());
  };
  if (rate) {
    await Promise.all(
      ids.map(async (id, i) => {
        await sleep(Math.max(0, started + (i * 1000) / rate - performance.now()));
        await complete(id);
      }),
    );
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < ids.length) await complete(ids[next++]);
      }),
    );
  }
  await Promise.all(waits);
  const elapsed = (Math.max(...woke.values()) - started) / 1000;
  const latencies = ids.map((id) => Math.max(0, woke.get(id) - acked.get(id)));
  return {
    completionsPerSecond: count / elapsed,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: Math.max(...latencies),
  };
}

// ---------------------------------------------------------------------------------------------
// pg-boss, in child processes

async function pgBossChild() {
  const { default: PgBoss } = await import('pg-boss');
  const boss = new PgBoss({
    connectionString: process.env.BENCH_PGBOSS_URL,
    schema: process.env.BENCH_PGBOSS_SCHEMA,
    max: Number(process.env.BENCH_PGBOSS_POOL ?? 10),
  });
  boss.on('error', (error) => process.stderr.write(`pg-boss: ${error.message}\n`));
  await boss.start();
  if (process.env.BENCH_PGBOSS_CREATE_QUEUE === '1') await boss.createQueue(QUEUE);
  const ids = [];
  const reply = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
  reply({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    const command = JSON.parse(line);
    if (command.cmd === 'stop') break;
    const deadline = performance.now() + command.seconds * 1000;
    const latencies = [];
    let ok = 0;
    let failed = 0;
    let n = command.offset ?? 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: command.concurrency }, async () => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          try {
            if (command.cmd === 'send') {
              const id = await boss.send(QUEUE, JOB_DATA);
              if (command.keep) ids.push(id);
            } else {
              const job = await boss.getJobById(QUEUE, ids[n++ % ids.length]);
              if (!job) throw new Error('job not found');
            }
            ok++;
            latencies.push(performance.now() - t0);
          } catch (error) {
            failed++;
            if (failed < 3) process.stderr.write(`pg-boss ${command.cmd}: ${error.message}\n`);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    reply({
      rps: ok / seconds,
      count: ok,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      failed,
    });
  }
  await boss.stop({ graceful: false, wait: true });
}

async function startPgBoss(url, schema, createQueue) {
  const child = spawn(process.execPath, [SELF, '--pgboss-child'], {
    cwd: REPO,
    env: {
      ...process.env,
      BENCH_PGBOSS_URL: url,
      BENCH_PGBOSS_SCHEMA: schema,
      BENCH_PGBOSS_POOL: String(options.pool),
      BENCH_PGBOSS_CREATE_QUEUE: createQueue ? '1' : '0',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.on('error', () => {});
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('pg-boss child exited');
    return JSON.parse(value);
  };
  await next();
  return {
    pid: child.pid,
    async run(command) {
      child.stdin.write(`${JSON.stringify(command)}\n`);
      return next();
    },
    async stop() {
      if (child.exitCode === null) child.stdin.write('{"cmd":"stop"}\n');
      await exited;
    },
  };
}

async function pgBossAll(children, command, concurrency) {
  const each = Math.max(1, Math.floor(concurrency / children.length));
  const results = await Promise.all(children.map((child) => child.run({ ...command, concurrency: each })));
  return {
    rps: results.reduce((n, r) => n + r.rps, 0),
    count: results.reduce((n, r) => n + r.count, 0),
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    failed: results.reduce((n, r) => n + r.failed, 0),
  };
}

// ---------------------------------------------------------------------------------------------

const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
const schema = `longrun_bench_${process.pid}`;
const bossSchema = `pgboss_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: options.database });
await admin.connect();
const { rows: versionRows } = await admin.query('SHOW server_version');
await admin.query(`CREATE SCHEMA ${schema}`);
const storeUrl = withSchema(options.database, schema);
const workDir = mkdtempSync(join(tmpdir(), 'longrun-bench-pg-'));
const running = [];
const cleanup = async () => {
  await Promise.allSettled(running.splice(0).map((r) => r.stop()));
  if (!flags.keep) {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.query(`DROP SCHEMA IF EXISTS ${bossSchema} CASCADE`).catch(() => {});
  }
  await admin.end().catch(() => {});
  rmSync(workDir, { recursive: true, force: true });
};
process.once('SIGINT', () => {
  process.stderr.write('\nbench: interrupted\n');
  cleanup().then(() => process.exit(130));
});

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  node: process.version,
  postgres: versionRows[0].server_version,
  loadavgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
};
log(`bench/postgres.js: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, PostgreSQL ${machine.postgres}`);
log(
  `load average at start: ${machine.loadavgAtStart.join(' ')}; ${options.rounds} round(s) of ${options.warmup}+${options.duration} s, ${options.connections} in flight`,
);

const results = { longrun: {}, pgboss: {}, sqlite: {} };
const push = (side, scenario, result) => {
  results[side][scenario] ??= [];
  results[side][scenario].push(result);
};

try {
  process.env.LONGRUN_POSTGRES_POOL_SIZE = String(options.pool);
  // Both replicas start together on the fresh schema: the migrations run once, under the lock.
  const replicas = await Promise.all([longrun.start({ store: storeUrl }), longrun.start({ store: storeUrl })]);
  running.push(...replicas);
  const bossUrl = withSchema(options.database, bossSchema); // application_name, for its backends' CPU
  const bosses = [await startPgBoss(bossUrl, bossSchema, true)];
  bosses.push(await startPgBoss(bossUrl, bossSchema, false));
  running.push(...bosses);
  const sqlite = flags['skip-sqlite'] ? undefined : await longrun.start({ store: join(workDir, 'bench.db') });
  if (sqlite) running.push(sqlite);
  log(`longrun replicas: ${replicas.map((r) => r.url).join(', ')}${sqlite ? `; SQLite reference: ${sqlite.url}` : ''}`);

  const replicaPids = replicas.map((r) => r.pid);
  const bossPids = bosses.map((b) => b.pid);
  const created = [];
  const counters = [0, 0];
  const sqliteCreated = [];
  const sqliteCounter = [0];
  const { warmup, duration, connections } = options;

  for (let round = 0; round < options.rounds; round++) {
    log(`round ${round + 1}…`);
    const longrunFirst = round % 2 === 0;
    const createLongrun = async () => {
      if (warmup > 0) await loadAll(replicas, createPlan(created, 'AB', counters), warmup, connections);
      push(
        'longrun',
        'create',
        await withCpu(replicaPids, schema, () =>
          loadAll(replicas, createPlan(created, 'AB', counters), duration, connections),
        ),
      );
    };
    const sendBoss = async () => {
      if (warmup > 0) await pgBossAll(bosses, { cmd: 'send', seconds: warmup, keep: true }, connections);
      push(
        'pgboss',
        'create',
        await withCpu(bossPids, bossSchema, () =>
          pgBossAll(bosses, { cmd: 'send', seconds: duration, keep: true }, connections),
        ),
      );
    };
    for (const step of longrunFirst ? [createLongrun, sendBoss] : [sendBoss, createLongrun]) await step();

    const getLongrun = async () => {
      if (warmup > 0) await loadAll(replicas, getPlan(created), warmup, connections);
      push(
        'longrun',
        'get',
        await withCpu(replicaPids, schema, () => loadAll(replicas, getPlan(created), duration, connections)),
      );
    };
    const getBoss = async () => {
      if (warmup > 0) await pgBossAll(bosses, { cmd: 'get', seconds: warmup }, connections);
      push(
        'pgboss',
        'get',
        await withCpu(bossPids, bossSchema, () =>
          pgBossAll(bosses, { cmd: 'get', seconds: duration, offset: round * 1000 }, connections),
        ),
      );
    };
    for (const step of longrunFirst ? [getLongrun, getBoss] : [getBoss, getLongrun]) await step();

    if (warmup > 0) await loadAll(replicas, listPlan(), warmup, connections);
    push(
      'longrun',
      'list',
      await withCpu(replicaPids, schema, () => loadAll(replicas, listPlan(), duration, connections)),
    );

    if (sqlite) {
      const one = [sqlite];
      if (warmup > 0) await loadAll(one, createPlan(sqliteCreated, 'S', sqliteCounter), warmup, connections);
      push(
        'sqlite',
        'create',
        await withCpu([sqlite.pid], 'no PostgreSQL', () =>
          loadAll(one, createPlan(sqliteCreated, 'S', sqliteCounter), duration, connections),
        ),
      );
      if (warmup > 0) await loadAll(one, getPlan(sqliteCreated), warmup, connections);
      push(
        'sqlite',
        'get',
        await withCpu([sqlite.pid], 'no PostgreSQL', () => loadAll(one, getPlan(sqliteCreated), duration, connections)),
      );
      if (warmup > 0) await loadAll(one, listPlan(), warmup, connections);
      push(
        'sqlite',
        'list',
        await withCpu([sqlite.pid], 'no PostgreSQL', () => loadAll(one, listPlan(), duration, connections)),
      );
    }
  }

  log('wait…');
  const concurrency = Math.max(1, Math.floor(connections / 2));
  const paced = { rate: options.waitRate };
  const flat = { concurrency };
  // A short run of each first, unrecorded, like the other scenarios' warmups (JIT, pools).
  await waitScenario(replicas[0], replicas[1], 200, paced, 'WA');
  await waitScenario(replicas[1], replicas[0], 200, paced, 'WB');
  if (sqlite) await waitScenario(sqlite, sqlite, 200, paced, 'WS');
  // Paced: the wake latency; flat out: how many completions a second wake their waiters.
  push('longrun', 'wait', await waitScenario(replicas[0], replicas[1], options.waits, paced, 'A'));
  push('longrun', 'wait', await waitScenario(replicas[1], replicas[0], options.waits, paced, 'B'));
  push('longrun', 'waitMax', await waitScenario(replicas[0], replicas[1], options.waits, flat, 'C'));
  if (sqlite) {
    push('sqlite', 'wait', await waitScenario(sqlite, sqlite, options.waits, paced, 'S'));
    push('sqlite', 'waitMax', await waitScenario(sqlite, sqlite, options.waits, flat, 'T'));
  }

  const stats = await admin.query(
    `SELECT count(*)::int AS operations, pg_size_pretty(pg_total_relation_size('${schema}.longrun_operations')) AS size
     FROM ${schema}.longrun_operations`,
  );

  // -------------------------------------------------------------------------------------------
  const summary = {};
  for (const [side, scenarios] of Object.entries(results)) {
    for (const [scenario, runs] of Object.entries(scenarios)) {
      summary[side] ??= {};
      // Wait latencies: the worse of the runs (one per direction); everything else: the median.
      const worst = (values) => Math.max(...values);
      const aggregate = (key) => (scenario.startsWith('wait') && key.endsWith('Ms') ? worst : median);
      summary[side][scenario] = Object.fromEntries(
        Object.keys(runs[0])
          .filter((key) => key !== 'statusCodes')
          .map((key) => [key, aggregate(key)(runs.map((r) => r[key]))]),
      );
    }
  }
  const fmt = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
  log();
  log('                                                                          CPU µs per request');
  log('scenario  system                          req/s     p50 ms   p99 ms  failed   server  postgres  client');
  const row = (scenario, name, s) =>
    log(
      `${scenario.padEnd(9)} ${name.padEnd(31)} ${fmt(s.rps ?? s.completionsPerSecond).padStart(7)} ${fmt(s.p50Ms, 2).padStart(9)} ${fmt(s.p99Ms, 2).padStart(8)} ${fmt(s.failed ?? 0).padStart(7)} ${fmt(s.cpuUsPerOp).padStart(8)} ${fmt(s.postgresCpuUsPerOp).padStart(9)} ${fmt(s.harnessCpuUsPerOp).padStart(7)}`,
    );
  const names = { create: 'pg-boss send()', get: 'pg-boss getJobById()' };
  for (const scenario of ['create', 'get', 'list', 'wait', 'waitMax']) {
    const label = scenario === 'wait' ? `wait ${options.waitRate}/s` : scenario === 'waitMax' ? 'wait max' : scenario;
    if (summary.longrun[scenario]) row(label, 'longrun, 2 replicas, PostgreSQL', summary.longrun[scenario]);
    if (summary.pgboss[scenario]) row('', names[scenario], summary.pgboss[scenario]);
    if (summary.sqlite?.[scenario]) row('', 'longrun, 1 process, SQLite', summary.sqlite[scenario]);
  }
  // Each round's ratio is taken between runs seconds apart; the median of the rounds' ratios
  // resists the load others put on a shared machine better than a ratio of medians.
  const roundRatios = (side, other, scenario) =>
    results[side][scenario].map((run, i) => run.rps / results[other][scenario][i].rps);
  // Everything each request costs, wherever it ran: the server processes (or pg-boss's), their
  // PostgreSQL backends, and the load generator (for pg-boss, its calling loop is in its process).
  const totalCpu = (s) => s.cpuUsPerOp + s.postgresCpuUsPerOp + s.harnessCpuUsPerOp;
  const ratios = {
    createVsPgBossSend: median(roundRatios('longrun', 'pgboss', 'create')),
    createVsPgBossSendByRound: roundRatios('longrun', 'pgboss', 'create'),
    getVsPgBossGetJobById: median(roundRatios('longrun', 'pgboss', 'get')),
    getVsPgBossGetJobByIdByRound: roundRatios('longrun', 'pgboss', 'get'),
    createCpuVsPgBoss: totalCpu(summary.pgboss.create) / totalCpu(summary.longrun.create),
    createPostgresCpuVsPgBoss: summary.pgboss.create.postgresCpuUsPerOp / summary.longrun.create.postgresCpuUsPerOp,
    getCpuVsPgBoss: totalCpu(summary.pgboss.get) / totalCpu(summary.longrun.get),
    ...(summary.sqlite?.create
      ? {
          createVsSqlite: median(roundRatios('longrun', 'sqlite', 'create')),
          getVsSqlite: median(roundRatios('longrun', 'sqlite', 'get')),
          listVsSqlite: median(roundRatios('longrun', 'sqlite', 'list')),
        }
      : {}),
  };
  const list = (values) => values.map((v) => fmt(v, 2)).join(', ');
  log();
  log(
    `create: longrun ${fmt(ratios.createVsPgBossSend, 2)}x pg-boss send() (median of rounds: ${list(ratios.createVsPgBossSendByRound)}; goal: at least 2x)`,
  );
  log(
    `        CPU per request, all processes: pg-boss ${fmt(totalCpu(summary.pgboss.create))} µs, longrun ${fmt(totalCpu(summary.longrun.create))} µs (${fmt(ratios.createCpuVsPgBoss, 2)}x); PostgreSQL backends alone: ${fmt(ratios.createPostgresCpuVsPgBoss, 1)}x`,
  );
  log(
    `get:    longrun ${fmt(ratios.getVsPgBossGetJobById, 2)}x pg-boss getJobById() (median of rounds: ${list(ratios.getVsPgBossGetJobByIdByRound)}); CPU per request ${fmt(ratios.getCpuVsPgBoss, 2)}x`,
  );
  if (ratios.createVsSqlite !== undefined) {
    log(
      `2 PostgreSQL replicas vs 1 SQLite process: create ${fmt(ratios.createVsSqlite, 2)}x, get ${fmt(ratios.getVsSqlite, 2)}x, list ${fmt(ratios.listVsSqlite, 2)}x`,
    );
  }
  log(
    `wait: at ${options.waitRate} completions/s, a waiter on one replica answered ${fmt(summary.longrun.wait.p50Ms, 1)} ms (p50) / ${fmt(summary.longrun.wait.p99Ms, 1)} ms (p99) after the other replica acknowledged the completion`,
  );
  log(`table at the end: ${stats.rows[0].operations} operations, ${stats.rows[0].size}`);
  log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const dir = join(REPO, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${stamp}-postgres.json`);
  writeFileSync(file, `${JSON.stringify({ machine, options, summary, ratios, runs: results }, null, 2)}\n`);
  log(`figures: ${file}`);
} finally {
  await cleanup();
}
