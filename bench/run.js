#!/usr/bin/env node
// `npm run bench`: longrun against a bare node:http server answering the same JSON, in the
// same run, scenario by scenario (get, create, patch). Each server is a child process; the
// load generator (autocannon) runs here. Prints req/s, latency, peak RSS and CPU per request
// for each, and longrun's ratio to the baseline; writes the figures (and, with --cpu-prof,
// the profiles) to bench/results/<date>/. Absolute numbers depend on the machine and on
// whatever else it runs: read the ratios. Run `node bench/run.js --help` for the flags.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './lib/load.js';
import { analyzeProfile, formatProfile } from './lib/profile.js';
import { COLLECTION_PATH, createBody, operationPath, PATCH_BODY, probeId, SCENARIOS, seedId } from './lib/scenarios.js';
import { baseline, LONGRUN_CLI, longrun, REPO, TARGETS } from './lib/targets.js';

const DEFAULT_TARGETS = TARGETS.filter((t) => !t.optional)
  .map((t) => t.name)
  .join(',');

const HELP = `Usage: npm run bench -- [options]     (or: node bench/run.js [options], after npm run build)

  --duration <s>      measured seconds of each run (default 4)
  --warmup <s>        warmup seconds before each measured run, on a fresh server (default 2)
  --rounds <n>        runs of each scenario on each server, alternating which goes first; the
                      figures are medians and the ratio the median of the rounds' ratios (default 3)
  --connections <n>   concurrent connections (default 50)
  --ops <n>           operations seeded for get (and patched by patch) (default 10000)
  --scenarios <list>  comma-separated subset of ${SCENARIOS.map((s) => s.name).join(',')} (default all)
  --targets <list>    servers to measure, comma-separated, from ${TARGETS.map((t) => t.name).join(',')}
                      (default ${DEFAULT_TARGETS}; the baseline always runs)
  --cpu-prof          run longrun with --cpu-prof (one profile per run, in bench/results/<date>/)
                      and print its top self-time functions per scenario; profiled runs are slower
  --cpu-prof-all      profile every server, not only longrun (to compare where the time goes)
  --top <n>           profile entries to print (default 15)
  --pin               pin the load generator to CPU 0 and each server to CPU 1 (taskset), so
                      neither preempts the other; each then has exactly one core
  --keep              keep the temporary SQLite store
  -h, --help          this text
`;

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    ops: { type: 'string', default: '10000' },
    scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
    targets: { type: 'string', default: DEFAULT_TARGETS },
    'cpu-prof': { type: 'boolean', default: false },
    'cpu-prof-all': { type: 'boolean', default: false },
    top: { type: 'string', default: '15' },
    keep: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
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
  rounds: Math.round(numberFlag('rounds', 1, 100)),
  connections: Math.round(numberFlag('connections', 1, 1000)),
  ops: Math.round(numberFlag('ops', 1, 10_000_000)),
  top: Math.round(numberFlag('top', 1, 200)),
  cpuProf: flags['cpu-prof'] || flags['cpu-prof-all'],
  cpuProfAll: flags['cpu-prof-all'],
  keep: flags.keep,
  pin: flags.pin,
};
const wanted = flags.scenarios.split(',').map((s) => s.trim());
const scenarios = SCENARIOS.filter((s) => wanted.includes(s.name));
const unknown = wanted.filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length > 0 || scenarios.length === 0) {
  process.stderr.write(
    `bench: unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}

const wantedTargets = flags.targets.split(',').map((s) => s.trim());
const unknownTargets = wantedTargets.filter((name) => !TARGETS.some((t) => t.name === name));
if (unknownTargets.length > 0) {
  process.stderr.write(
    `bench: unknown target ${unknownTargets.join(', ')}; choose from ${TARGETS.map((t) => t.name).join(', ')}\n`,
  );
  process.exit(2);
}
const targets = TARGETS.filter((t) => t.baseline || wantedTargets.includes(t.name));

for (const built of [
  LONGRUN_CLI,
  join(REPO, 'packages', 'cli', 'dist', 'bin.js'),
  join(REPO, 'packages', 'server', 'dist', 'server.js'),
]) {
  try {
    readFileSync(built);
  } catch {
    process.stderr.write(
      `bench: ${relative(REPO, built)} is missing; build first (npm run build, or use npm run bench)\n`,
    );
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------

if (options.pin) {
  try {
    if (availableParallelism() < 2) throw new Error('needs two CPUs');
    // -a: every thread of this process (autocannon's, V8's, libuv's).
    execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
  } catch (error) {
    process.stderr.write(`bench: --pin: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}

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
      throw new Error(
        `seeding created ${seeded.ok} of ${options.ops} operations (${JSON.stringify(seeded.statusCodes)})`,
      );
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

/** One run: one scenario on one target, on a fresh server: start, warm up, measure, stop. */
async function measure(scenario, target, round, state, baselineConfig) {
  const profiling = options.cpuProf && (options.cpuProfAll || target === longrun);
  const server = await startTarget(target, {
    store,
    baseline: baselineConfig,
    ...(options.pin ? { cpu: 1 } : {}),
    ...(profiling
      ? {
          profileDir: resultsDir,
          profileName: `${target.name.replace(/\W/g, '-')}-${scenario.name}-${round}.cpuprofile`,
        }
      : {}),
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
      amount = Math.min(left, warm ? Math.ceil(warm.rps * options.duration) : left);
      if (!Number.isFinite(amount)) amount = undefined;
      else if (amount < options.connections) {
        throw new Error(`${scenario.name}: only ${left} operations left to use; raise --ops or lower --rounds`);
      }
    }
    const cpuBefore = server.usage();
    const genBefore = process.cpuUsage();
    const loaded = await runLoad(
      server.url,
      run.plan,
      amount === undefined ? { ...load, duration: options.duration } : { ...load, amount },
    );
    const genAfter = process.cpuUsage(genBefore);
    const cpuAfter = server.usage();
    const peak = server.peakRssBytes();
    const serverCpu = cpuBefore && cpuAfter ? cpuAfter.cpuSeconds - cpuBefore.cpuSeconds : undefined;
    const serverSys = cpuBefore && cpuAfter ? cpuAfter.systemSeconds - cpuBefore.systemSeconds : undefined;
    const notes = [];
    const note = run.note?.();
    if (note) notes.push(note);
    if (loaded.non2xx > 0 || loaded.errors > 0) {
      notes.push(`INVALID: ${loaded.non2xx} non-2xx ${JSON.stringify(loaded.statusCodes)}, ${loaded.errors} errors`);
    }
    result = {
      scenario: scenario.name,
      target: target.name,
      round,
      baseline: Boolean(target.baseline),
      profiled: profiling,
      fixedCount: amount,
      ...loaded,
      peakRssMiB: peak === undefined ? undefined : peak / 1024 ** 2,
      serverCpuPct: serverCpu === undefined ? undefined : (100 * serverCpu) / loaded.seconds,
      cpuUsPerRequest: serverCpu === undefined ? undefined : (serverCpu * 1e6) / loaded.requests,
      sysUsPerRequest: serverSys === undefined ? undefined : (serverSys * 1e6) / loaded.requests,
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
  if (profiling) {
    result.profilePath = server.profilePath;
    result.startupMs = server.startupMs;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

function median(values) {
  const known = values.filter((v) => v !== undefined && !Number.isNaN(v)).sort((a, b) => a - b);
  if (known.length === 0) return undefined;
  const mid = known.length >> 1;
  return known.length % 2 ? known[mid] : (known[mid - 1] + known[mid]) / 2;
}

/** One line per scenario and target: medians over the rounds, the peak of the peaks. */
function summarize(runs) {
  const summary = [];
  for (const scenario of scenarios) {
    const baseRuns = runs.filter((r) => r.scenario === scenario.name && r.baseline);
    for (const target of targets) {
      const mine = runs.filter((r) => r.scenario === scenario.name && r.target === target.name);
      if (mine.length === 0) continue;
      const row = {
        scenario: scenario.name,
        target: target.name,
        baseline: Boolean(target.baseline),
        profiled: mine.some((r) => r.profiled),
        // The goals are longrun's; other targets are there for comparison.
        goal: target === longrun ? scenario.goal : undefined,
        rounds: mine.length,
        rps: median(mine.map((r) => r.rps)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        peakRssMiB: Math.max(...mine.map((r) => r.peakRssMiB ?? Number.NaN)),
        serverCpuPct: median(mine.map((r) => r.serverCpuPct)),
        cpuUsPerRequest: median(mine.map((r) => r.cpuUsPerRequest)),
        sysUsPerRequest: median(mine.map((r) => r.sysUsPerRequest)),
        loadgenCpuPct: median(mine.map((r) => r.loadgenCpuPct)),
        requests: mine.reduce((n, r) => n + r.requests, 0),
        invalid: mine.some((r) => r.non2xx > 0 || r.errors > 0),
        notes: [...new Set(mine.flatMap((r) => r.notes))],
      };
      if (!target.baseline && baseRuns.length > 0) {
        // Each round's ratio pairs the two servers measured back to back; the median of those
        // pairs shrugs off a round disturbed by other work on the machine.
        row.ratios = mine.map((r) => r.rps / (baseRuns.find((b) => b.round === r.round) ?? baseRuns[0]).rps);
        row.ratio = median(row.ratios);
        const baseCpu = median(baseRuns.map((b) => b.cpuUsPerRequest));
        if (baseCpu && row.cpuUsPerRequest) row.cpuRatio = baseCpu / row.cpuUsPerRequest;
      }
      summary.push(row);
    }
  }
  return summary;
}

const fmt = {
  int: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US')),
  ms: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(2) : n.toFixed(1)),
  mib: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(0)),
  pct: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : `${n.toFixed(0)}%`),
  ratio: (n) => (n === undefined || Number.isNaN(n) ? '' : `${n.toFixed(2)}x`),
};

function goalCell(row) {
  if (row.baseline || row.goal === undefined) return '';
  if (row.invalid) return 'INVALID';
  return `≥${row.goal.toFixed(2)}x ${row.ratio >= row.goal ? 'met' : 'NOT met'}`;
}

const COLUMNS = [
  ['scenario', (r) => r.scenario],
  ['server', (r) => r.target + (r.profiled ? ' (profiled)' : '')],
  ['req/s', (r) => fmt.int(r.rps)],
  ['p50 ms', (r) => fmt.ms(r.p50Ms)],
  ['p99 ms', (r) => fmt.ms(r.p99Ms)],
  ['peak RSS MiB', (r) => fmt.mib(r.peakRssMiB)],
  ['server CPU', (r) => fmt.pct(r.serverCpuPct)],
  ['CPU µs/req', (r) => fmt.int(r.cpuUsPerRequest)],
  ['of it kernel', (r) => fmt.int(r.sysUsPerRequest)],
  ['loadgen CPU', (r) => fmt.pct(r.loadgenCpuPct)],
  ['vs node:http', (r) => (r.baseline ? '1.00x' : fmt.ratio(r.ratio))],
  ['rounds', (r) => (r.ratios ? r.ratios.map((x) => x.toFixed(2)).join(' ') : '')],
  ['goal', goalCell],
];

function textTable(rows) {
  const cells = [COLUMNS.map(([title]) => title), ...rows.map((r) => COLUMNS.map(([, cell]) => cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i < 2 || i >= COLUMNS.length - 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function markdownTable(rows) {
  const lines = [
    `| ${COLUMNS.map(([title]) => title).join(' | ')} |`,
    `|${COLUMNS.map((_, i) => (i < 2 || i >= COLUMNS.length - 2 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const r of rows) lines.push(`| ${COLUMNS.map(([, cell]) => cell(r)).join(' | ')} |`);
  return lines.join('\n');
}

function machineLine() {
  return (
    `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM, Node ${machine.node}, ${machine.os}, ` +
    `load average at start ${machine.loadavgAtStart.join(' ')}` +
    (machine.loadavgAtEnd ? `, at end ${machine.loadavgAtEnd.join(' ')}` : '')
  );
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const command = `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim();
  log(`longrun benchmark, ${startedAt.toISOString()}`);
  log(`machine: ${machineLine()}`);
  log(
    `settings: ${options.rounds} rounds of ${options.duration} s measured after ${options.warmup} s warmup, ` +
      `${options.connections} connections, ${options.ops} seeded operations` +
      `${options.pin ? ', load generator pinned to CPU 0 and servers to CPU 1' : ''}` +
      `${options.cpuProf ? `, ${options.cpuProfAll ? 'every server' : 'longrun'} profiled (--cpu-prof)` : ''}`,
  );
  log(`store: ${store}`);
  if (machine.loadavgAtStart[0] > machine.cores * 0.75) {
    log(`note: the machine is busy (load average ${machine.loadavgAtStart[0]}); expect noisy figures, read the ratios`);
  }
  log();

  log(`seeding ${options.ops} operations through longrun...`);
  const answers = await seed();
  log(
    `  done in ${answers.seconds.toFixed(1)} s; a seeded operation reads ${Buffer.byteLength(answers.getText)} bytes`,
  );
  const baselineConfig = { getBody: answers.getText, patchMetadata: JSON.parse(answers.patchText).metadata ?? null };
  const problems = await checkBaseline(baselineConfig, answers);
  if (problems.length > 0) {
    log(`  WARNING: the baseline does not mirror longrun: ${problems.join('; ')}`);
  } else {
    log('  the baseline answers the same sizes as longrun (get: the same bytes)');
  }
  log();

  /** @type {import('./lib/scenarios.js').BenchState} */
  const state = { ops: options.ops, created: new Map(), scratch: new Map() };
  const runs = [];
  for (const scenario of scenarios) {
    for (let round = 1; round <= options.rounds; round++) {
      // Alternate which server goes first, so a drift in the machine's load favours neither.
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const target of order) {
        if (interrupted) return;
        process.stdout.write(`${scenario.name} round ${round} on ${target.name}... `);
        const run = await measure(scenario, target, round, state, baselineConfig);
        runs.push(run);
        const extra = [...(run.fixedCount ? [`fixed count of ${run.fixedCount}`] : []), ...run.notes];
        log(
          `${fmt.int(run.rps)} req/s, ${fmt.int(run.cpuUsPerRequest)} µs CPU/req (${fmt.int(run.sysUsPerRequest)} in the kernel)` +
            `${extra.length ? ` [${extra.join('; ')}]` : ''}`,
        );
      }
    }
  }

  const summary = summarize(runs);
  machine.loadavgAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  log();
  log(textTable(summary));
  log();
  for (const row of summary) {
    if (row.baseline) continue;
    const cpu =
      row.cpuRatio === undefined ? '' : `; per request it uses ${fmt.ratio(1 / row.cpuRatio)} node:http's CPU`;
    const goal =
      row.goal === undefined
        ? 'no goal set'
        : `goal ≥${row.goal.toFixed(2)}x ${row.ratio >= row.goal ? 'met' : 'NOT met'}`;
    log(
      `${row.scenario}: ${row.target} ${fmt.ratio(row.ratio)} of node:http's req/s (median of ${row.rounds}), ${goal}${cpu}`,
    );
  }

  const profiles = {};
  if (options.cpuProf) {
    for (const scenario of scenarios) {
      for (const target of targets) {
        const profiled = runs.filter((r) => r.scenario === scenario.name && r.target === target.name && r.profilePath);
        if (profiled.length === 0) continue;
        const files = profiled.map((r) => r.profilePath);
        const key = `${target.name} ${scenario.name}`;
        try {
          // The process's startup (loading modules, opening the store) is left out.
          const summaryOf = analyzeProfile(
            files.map((file) => JSON.parse(readFileSync(file, 'utf8'))),
            REPO,
            profiled.map((r) => r.startupMs),
          );
          profiles[key] = {
            files: files.map((file) => relative(REPO, file)),
            totalMs: summaryOf.totalMs,
            idleMs: summaryOf.idleMs,
            busyMs: summaryOf.busyMs,
            self: summaryOf.self.slice(0, 40),
            categories: summaryOf.categories.slice(0, 20),
            ownInclusive: summaryOf.ownInclusive.slice(0, 25),
          };
          log();
          log(`profile of ${target.name}, ${scenario.name} (${files.length} run${files.length > 1 ? 's' : ''}):`);
          log(formatProfile(summaryOf, options.top));
        } catch (error) {
          log(`no profile for ${key}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
  }

  const report = {
    date: startedAt.toISOString(),
    command,
    machine,
    options,
    seeding: { seconds: answers.seconds, baselineProblems: problems },
    scenarios: scenarios.map((s) => ({ name: s.name, description: s.description, goal: s.goal })),
    targets: targets.map((t) => ({ name: t.name, baseline: Boolean(t.baseline), description: t.description })),
    summary,
    runs: runs.map(({ profilePath, startupMs: _startup, ...run }) => ({
      ...run,
      profile: profilePath && relative(REPO, profilePath),
    })),
    profiles,
  };
  writeFileSync(join(resultsDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  const md = [
    `Date: ${startedAt.toISOString()}`,
    `Machine: ${machineLine()}`,
    `Command: \`${command}\``,
    '',
    markdownTable(summary),
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
