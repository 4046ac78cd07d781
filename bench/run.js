#!/usr/bin/env node
// `npm run bench`: longrun against a bare node:http server answering the same JSON, in the
// same run, scenario by scenario (get, create, patch). Each server is a child process; the
// load generator (autocannon) runs here. Prints req/s, latency, peak RSS and CPU per request
// for each, and longrun's ratio to the baseline; writes the figures (and, with --cpu-prof,
// the profiles) to bench/results/<date>/. Absolute numbers depend on the machine and on
// whatever else it runs: read the ratios. Run `node bench/run.js --help` for the flags.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, availableParallelism, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './lib/load.js';
import { analyzeProfile, formatProfile } from './lib/profile.js';
import {
  COLLECTION_PATH,
  createBody,
  operationPath,
  PATCH_BODY,
  probeId,
  SCENARIOS,
  seedId,
} from './lib/scenarios.js';
import { baseline, LONGRUN_CLI, longrun, REPO, TARGETS } from './lib/targets.js';

const HELP = `Usage: npm run bench -- [options]     (or: node bench/run.js [options], after tsc -b)

  --duration <s>      measured seconds per scenario and server (default 10)
  --warmup <s>        warmup seconds before each measured run (default 3)
  --connections <n>   concurrent connections (default 10)
  --ops <n>           operations seeded for get (and patched by patch) (default 10000)
  --scenarios <list>  comma-separated subset of ${SCENARIOS.map((s) => s.name).join(',')} (default all)
  --cpu-prof          run longrun with --cpu-prof (one profile per scenario, in bench/results/<date>/)
                      and print the top self-time functions; figures from a profiled run are slower
  --top <n>           profile entries to print (default 15)
  --keep              keep the temporary SQLite store
  -h, --help          this text
`;

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    ops: { type: 'string', default: '10000' },
    scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
    'cpu-prof': { type: 'boolean', default: false },
    top: { type: 'string', default: '15' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function numberFlag(name, min, max) {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value < min || value > max) {
    process.stderr.write(`bench: --${name} must be a number from ${min} to ${max}\n`);
    process.exit(2);
  }
  return value;
}

const options = {
  duration: numberFlag('duration', 1, 600),
  warmup: numberFlag('warmup', 0, 600),
  connections: Math.round(numberFlag('connections', 1, 1000)),
  ops: Math.round(numberFlag('ops', 1, 10_000_000)),
  top: Math.round(numberFlag('top', 1, 200)),
  cpuProf: flags['cpu-prof'],
  keep: flags.keep,
};
const wanted = flags.scenarios.split(',').map((s) => s.trim());
const scenarios = SCENARIOS.filter((s) => wanted.includes(s.name));
const unknown = wanted.filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length > 0 || scenarios.length === 0) {
  process.stderr.write(`bench: unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}

for (const built of [LONGRUN_CLI, join(REPO, 'packages', 'cli', 'dist', 'bin.js'), join(REPO, 'packages', 'server', 'dist', 'server.js')]) {
  try {
    readFileSync(built);
  } catch {
    process.stderr.write(`bench: ${relative(REPO, built)} is missing; build first (npx tsc -b, or use npm run bench)\n`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------

const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
const resultsDir = join(REPO, 'bench', 'results', stamp);
mkdirSync(resultsDir, { recursive: true });
const workDir = mkdtempSync(join(tmpdir(), 'longrun-bench-'));
const store = join(workDir, 'bench.db');

const machine = {
  cpuModel: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  node: process.version,
  os: `${type()} ${release()}`,
  loadavgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
};

/** Targets still running, so an interrupt stops them. */
const live = new Set();
let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  process.stderr.write('\nbench: interrupted, stopping the servers\n');
  Promise.allSettled([...live].map((t) => t.stop())).then(() => process.exit(130));
});

async function startTarget(target, startOptions) {
  const running = await target.start(startOptions);
  live.add(running);
  return {
    ...running,
    async stop() {
      live.delete(running);
      return running.stop();
    },
  };
}

function log(line = '') {
  process.stdout.write(`${line}\n`);
}

async function request(url, method, path, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text;
}

/** Creates the seeded operations through longrun itself, and records what its answers look like. */
async function seed() {
  const server = await startTarget(longrun, { store });
  try {
    let i = 0;
    const seeded = await runLoad(
      server.url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest(req) {
          req.path = COLLECTION_PATH;
          req.body = createBody(seedId(i++));
          return req;
        },
      },
      { connections: Math.min(options.connections, options.ops), amount: options.ops, recordLatency: false },
    );
    if (seeded.ok !== options.ops) {
      throw new Error(`seeding created ${seeded.ok} of ${options.ops} operations (${JSON.stringify(seeded.statusCodes)})`);
    }
    const getText = await request(server.url, 'GET', operationPath(seedId(0)));
    const createText = await request(server.url, 'POST', COLLECTION_PATH, createBody(probeId(0)));
    const patchText = await request(server.url, 'PATCH', operationPath(probeId(0)), PATCH_BODY);
    return { seconds: seeded.seconds, getText, createText, patchText };
  } finally {
    await server.stop();
  }
}

/** Checks that the baseline answers what longrun answers, byte for byte in size. */
async function checkBaseline(config, answers) {
  const server = await startTarget(baseline, { store, baseline: config });
  try {
    const got = {
      get: await request(server.url, 'GET', operationPath(seedId(0))),
      create: await request(server.url, 'POST', COLLECTION_PATH, createBody(probeId(1))),
      patch: await request(server.url, 'PATCH', operationPath(probeId(1)), PATCH_BODY),
    };
    const want = { get: answers.getText, create: answers.createText, patch: answers.patchText };
    const problems = [];
    for (const key of Object.keys(want)) {
      const a = Buffer.byteLength(want[key]);
      const b = Buffer.byteLength(got[key]);
      if (a !== b) problems.push(`${key}: longrun answers ${a} bytes, the baseline ${b}`);
    }
    if (got.get !== want.get) problems.push('get: the bytes differ');
    return problems;
  } finally {
    await server.stop();
  }
}

/** One scenario against one target: start, warm up, measure, stop. */
async function measure(scenario, target, state, baselineConfig) {
  const profiling = options.cpuProf && !target.baseline;
  const server = await startTarget(target, {
    store,
    baseline: baselineConfig,
    ...(profiling ? { profileDir: resultsDir, profileName: `longrun-${scenario.name}.cpuprofile` } : {}),
  });
  let result;
  let stopped;
  try {
    const run = scenario.start(state, target);
    const load = { connections: options.connections };
    let warm;
    if (options.warmup > 0) {
      warm = await runLoad(server.url, run.plan, { ...load, duration: options.warmup, recordLatency: false });
      if (warm.non2xx > 0 || warm.errors > 0) {
        throw new Error(
          `${scenario.name} on ${target.name}: the warmup got ${warm.non2xx} non-2xx answers ` +
            `${JSON.stringify(warm.statusCodes)} and ${warm.errors} errors`,
        );
      }
    }
    let amount;
    if (scenario.finite && run.remaining) {
      const left = run.remaining();
      const wantedCount = warm ? Math.ceil(warm.rps * options.duration) : left;
      amount = Math.min(left, wantedCount);
      if (!Number.isFinite(amount)) amount = undefined;
      else if (amount < options.connections) throw new Error(`${scenario.name}: only ${left} operations left to use; raise --ops`);
    }
    const cpuBefore = server.usage();
    const genBefore = process.cpuUsage();
    const loaded = await runLoad(server.url, run.plan, amount === undefined ? { ...load, duration: options.duration } : { ...load, amount });
    const genAfter = process.cpuUsage(genBefore);
    const cpuAfter = server.usage();
    const peak = server.peakRssBytes();
    const serverCpu = cpuBefore && cpuAfter ? cpuAfter.cpuSeconds - cpuBefore.cpuSeconds : undefined;
    const notes = [];
    if (amount !== undefined) notes.push(`fixed count of ${amount} requests`);
    const note = run.note?.();
    if (note) notes.push(note);
    if (loaded.non2xx > 0 || loaded.errors > 0) {
      notes.push(`INVALID: ${loaded.non2xx} non-2xx ${JSON.stringify(loaded.statusCodes)}, ${loaded.errors} errors`);
    }
    result = {
      scenario: scenario.name,
      target: target.name,
      baseline: Boolean(target.baseline),
      profiled: profiling,
      ...loaded,
      peakRssMiB: peak === undefined ? undefined : peak / 1024 ** 2,
      serverCpuPct: serverCpu === undefined ? undefined : (100 * serverCpu) / loaded.seconds,
      cpuUsPerRequest: serverCpu === undefined ? undefined : (serverCpu * 1e6) / loaded.requests,
      loadgenCpuPct: ((genAfter.user + genAfter.system) / 1e6 / loaded.seconds) * 100,
      notes,
    };
  } finally {
    stopped = await server.stop();
  }
  if (stopped.code !== 0 && !interrupted) {
    result.notes.push(`the server exited with code ${stopped.code}, signal ${stopped.signal}`);
  }
  const stderr = stopped.stderr.trim();
  if (stderr) result.notes.push(`server stderr: ${stderr.slice(0, 500)}`);
  if (profiling && server.profilePath) {
    try {
      const summary = analyzeProfile(JSON.parse(readFileSync(server.profilePath, 'utf8')), REPO);
      result.profile = {
        file: relative(REPO, server.profilePath),
        totalMs: summary.totalMs,
        idleMs: summary.idleMs,
        busyMs: summary.busyMs,
        self: summary.self.slice(0, 40),
        categories: summary.categories.slice(0, 20),
        ownInclusive: summary.ownInclusive.slice(0, 25),
      };
      result.profileText = formatProfile(summary, options.top);
    } catch (error) {
      result.notes.push(`no profile: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

const fmt = {
  int: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US')),
  ms: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(2) : n.toFixed(1)),
  mib: (n) => (n === undefined ? 'n/a' : n.toFixed(0)),
  pct: (n) => (n === undefined ? 'n/a' : `${n.toFixed(0)}%`),
  ratio: (n) => (n === undefined ? '' : `${n.toFixed(2)}x`),
};

const COLUMNS = [
  ['scenario', (r) => r.scenario],
  ['server', (r) => r.target + (r.profiled ? ' (profiled)' : '')],
  ['req/s', (r) => fmt.int(r.rps)],
  ['p50 ms', (r) => fmt.ms(r.p50Ms)],
  ['p99 ms', (r) => fmt.ms(r.p99Ms)],
  ['peak RSS MiB', (r) => fmt.mib(r.peakRssMiB)],
  ['server CPU', (r) => fmt.pct(r.serverCpuPct)],
  ['CPU µs/req', (r) => fmt.int(r.cpuUsPerRequest)],
  ['loadgen CPU', (r) => fmt.pct(r.loadgenCpuPct)],
  ['vs node:http', (r) => (r.baseline ? '1.00x' : fmt.ratio(r.ratio))],
  ['goal', (r) => (r.goal === undefined || r.baseline ? '' : `≥${r.goal.toFixed(2)}x ${r.ratio >= r.goal ? 'met' : 'NOT met'}`)],
];

function textTable(rows) {
  const cells = [COLUMNS.map(([title]) => title), ...rows.map((r) => COLUMNS.map(([, cell]) => cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells
    .map((row) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '))
    .join('\n');
}

function markdownTable(rows) {
  const lines = [`| ${COLUMNS.map(([title]) => title).join(' | ')} |`, `|${COLUMNS.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows) lines.push(`| ${COLUMNS.map(([, cell]) => cell(r)).join(' | ')} |`);
  return lines.join('\n');
}

function machineLine() {
  return (
    `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM, Node ${machine.node}, ${machine.os}, ` +
    `load average at start ${machine.loadavgAtStart.join(' ')}`
  );
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const command = `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim();
  log(`longrun benchmark, ${startedAt.toISOString()}`);
  log(`machine: ${machineLine()}`);
  log(
    `settings: ${options.duration} s measured + ${options.warmup} s warmup per run, ${options.connections} connections, ` +
      `${options.ops} seeded operations${options.cpuProf ? ', longrun profiled (--cpu-prof)' : ''}`,
  );
  log(`store: ${store}`);
  log();

  log(`seeding ${options.ops} operations through longrun...`);
  const answers = await seed();
  log(`  done in ${answers.seconds.toFixed(1)} s; a seeded operation reads ${Buffer.byteLength(answers.getText)} bytes`);
  const baselineConfig = { getBody: answers.getText, patchMetadata: JSON.parse(answers.patchText).metadata ?? null };
  const problems = await checkBaseline(baselineConfig, answers);
  if (problems.length > 0) {
    log(`  WARNING: the baseline does not mirror longrun: ${problems.join('; ')}`);
  } else {
    log('  the baseline answers the same sizes as longrun (get: the same bytes)');
  }
  log();

  /** @type {import('./lib/scenarios.js').BenchState} */
  const state = { ops: options.ops, created: new Map() };
  const rows = [];
  for (const scenario of scenarios) {
    const base = [];
    for (const target of TARGETS) {
      if (interrupted) return;
      process.stdout.write(`${scenario.name} on ${target.name}... `);
      const row = await measure(scenario, target, state, baselineConfig);
      row.goal = scenario.goal;
      if (target.baseline) base.push(row);
      else if (base[0]) {
        row.ratio = row.rps / base[0].rps;
        if (row.cpuUsPerRequest && base[0].cpuUsPerRequest) row.cpuRatio = base[0].cpuUsPerRequest / row.cpuUsPerRequest;
      }
      rows.push(row);
      log(`${fmt.int(row.rps)} req/s${row.ratio === undefined ? '' : ` (${fmt.ratio(row.ratio)})`}${row.notes.length ? ` [${row.notes.join('; ')}]` : ''}`);
    }
  }

  log();
  log(textTable(rows));
  log();
  for (const row of rows) {
    if (row.baseline) continue;
    const cpu = row.cpuRatio === undefined ? '' : `; CPU per request ${fmt.ratio(row.cpuRatio)} of node:http's efficiency`;
    const goal = row.goal === undefined ? 'no goal set' : `goal ≥${row.goal.toFixed(2)}x ${row.ratio >= row.goal ? 'met' : 'NOT met'}`;
    log(`${row.scenario}: longrun ${fmt.ratio(row.ratio)} of node:http's req/s, ${goal}${cpu}`);
  }
  for (const row of rows) {
    if (!row.profileText) continue;
    log();
    log(`profile of longrun, ${row.scenario} (${row.profile.file}):`);
    log(row.profileText);
  }

  const report = {
    date: startedAt.toISOString(),
    command,
    machine,
    options,
    seeding: { seconds: answers.seconds, baselineProblems: problems },
    scenarios: scenarios.map((s) => ({ name: s.name, description: s.description, goal: s.goal })),
    targets: TARGETS.map((t) => ({ name: t.name, baseline: Boolean(t.baseline), description: t.description })),
    rows: rows.map(({ profileText: _text, ...row }) => row),
  };
  writeFileSync(join(resultsDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  const md = [
    `Date: ${startedAt.toISOString()}`,
    `Machine: ${machineLine()}`,
    `Command: \`${command}\``,
    '',
    markdownTable(rows),
    '',
  ].join('\n');
  writeFileSync(join(resultsDir, 'results.md'), md);
  log();
  log(`results: ${relative(REPO, resultsDir)}/ (results.json, results.md${options.cpuProf ? ', *.cpuprofile' : ''})`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await Promise.allSettled([...live].map((t) => t.stop()));
  if (!options.keep) rmSync(workDir, { recursive: true, force: true });
}
