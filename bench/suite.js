#!/usr/bin/env node
// `npm run bench:suite` (or `node bench/suite.js` after a build): the benchmark suite of issue 10
// in one command. Runs each part as its own process, one after the other (never two loads at
// once), collects their JSON, and writes the report: BENCHMARKS.md (between the `suite` markers;
// the hand-written analysis around them is kept) and bench/results/<date>-suite/results.json.
//
//   rest     bench/run.js: get, create, patch vs bare node:http            (the HTTP limit)
//   waiters  bench/waiters.js: wake-up of 10,000 concurrent :wait, memory  vs bare node:http
//   cycle    bench/cycle.js: create → progress → complete → read           vs BullMQ on Redis
//   list     bench/list.js: a filtered page at 10k and 100k stored (1M with --million), and raw
//            better-sqlite3 insert/get/update rates                      (the storage limit)
//   and, only with --with: watch (bench/watch.js), grpc (bench/grpc.js), postgres (bench/postgres.js),
//   short settings, their own output quoted in the report.
//
// Everything runs against 127.0.0.1, each load bounded in time. Run `node bench/suite.js --help`.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO } from './lib/targets.js';

const PARTS = ['rest', 'waiters', 'cycle', 'list'];
const EXTRAS = ['watch', 'grpc', 'postgres'];
const HELP = `Usage: node bench/suite.js [options]    (build first: npm run build)

  --only <list>      parts to run, from ${PARTS.join(',')} (default all)
  --with <list>      also run ${EXTRAS.join(',')} (short settings; their output is quoted)
  --rounds <n>       rounds of the REST and cycle parts (default 2)
  --duration <s>     measured seconds per run of the REST, cycle and list parts (default 3)
  --waiters <n>      concurrent waits (default 10000)
  --million          add the 1,000,000-operation size to the list part (adds a minute or two)
  --no-write         print the report, leave BENCHMARKS.md alone
  -h, --help         this text
`;
const { values: flags } = parseArgs({
  options: {
    only: { type: 'string', default: PARTS.join(',') },
    with: { type: 'string', default: '' },
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '3' },
    waiters: { type: 'string', default: '10000' },
    million: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const parts = flags.only.split(',').filter(Boolean);
const extras = flags.with.split(',').filter(Boolean);
for (const p of parts) if (!PARTS.includes(p)) throw new Error(`unknown part ${p}`);
for (const p of extras) if (!EXTRAS.includes(p)) throw new Error(`unknown extra ${p}`);

const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
const outDir = join(REPO, 'bench', 'results', `${stamp}-suite`);
mkdirSync(outDir, { recursive: true });
const command = `node bench/suite.js ${process.argv.slice(2).join(' ')}`.trim();
const log = (line = '') => process.stdout.write(`${line}\n`);

/** Runs `node <args>`, echoing its stderr (progress) and keeping its stdout. */
function run(args, { echo = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (t) => {
      stdout += t;
      if (echo) process.stdout.write(t);
    });
    child.stderr.on('data', (t) => process.stderr.write(t));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`node ${args.join(' ')} exited with ${code}\n${stdout.slice(-2000)}`)),
    );
  });
}

function sqliteVersion() {
  return run([
    '-e',
    "const D=require('better-sqlite3');process.stdout.write(new D(':memory:').prepare('select sqlite_version() v').get().v)",
  ]).catch(() => 'unknown');
}
async function redisVersion() {
  try {
    const { execFileSync } = await import('node:child_process');
    const info = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'INFO', 'server'], {
      timeout: 5000,
    }).toString();
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const machine = {
  cpuModel: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  node: process.version,
  os: `${type()} ${release()}`,
  sqlite: await sqliteVersion(),
  redis: parts.includes('cycle') ? await redisVersion() : undefined,
  loadavgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
};

const results = {};
const R = flags.rounds;
const D = flags.duration;
const t0 = performance.now();
const timings = {};
for (const part of parts) {
  const ts = performance.now();
  log(`== ${part}`);
  const json = join(outDir, `${part}.json`);
  if (part === 'rest') {
    const out = await run(['bench/run.js', '--rounds', R, '--duration', D, '--warmup', '1'], { echo: true });
    const dir = /results: (\S+)\//.exec(out)?.[1];
    results.rest = JSON.parse(readFileSync(join(REPO, dir, 'results.json'), 'utf8'));
    results.rest.dir = dir;
  } else if (part === 'waiters') {
    await run(['bench/waiters.js', '--waiters', flags.waiters, '--json', json]);
    results.waiters = JSON.parse(readFileSync(json, 'utf8'));
  } else if (part === 'cycle') {
    await run(['bench/cycle.js', '--rounds', R, '--duration', D, '--json', json]);
    results.cycle = JSON.parse(readFileSync(json, 'utf8'));
  } else if (part === 'list') {
    await run(['bench/list.js', '--duration', D, '--json', json, ...(flags.million ? ['--million'] : [])]);
    results.list = JSON.parse(readFileSync(json, 'utf8'));
  }
  timings[part] = (performance.now() - ts) / 1000;
}
const quoted = {};
for (const extra of extras) {
  log(`== ${extra}`);
  const ts = performance.now();
  const args = {
    watch: ['bench/watch.js', '--duration', '5', '--warmup', '1'],
    grpc: ['bench/grpc.js', '--seconds', D],
    postgres: ['bench/postgres.js', '--rounds', R, '--duration', D, '--waits', '1000'],
  }[extra];
  quoted[extra] = { command: `node ${args.join(' ')}`, output: (await run(args, { echo: true })).trim() };
  timings[extra] = (performance.now() - ts) / 1000;
  // bench/postgres.js ends with the path of its JSON; its goals are read from there.
  const figures = /^figures: (\S+\.json)$/m.exec(quoted[extra].output)?.[1];
  if (extra === 'postgres' && figures) results.postgres = JSON.parse(readFileSync(figures, 'utf8'));
}
machine.loadavgAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
const totalSeconds = (performance.now() - t0) / 1000;

// ---------------------------------------------------------------------------------------------
const f = {
  int: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US')),
  ms: (n) =>
    n === undefined || n === null || Number.isNaN(n) ? 'n/a' : Math.abs(n) < 10 ? n.toFixed(2) : n.toFixed(1),
  mib: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(0)),
  x: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : `${n.toFixed(2)}x`),
};
const goals = [];
const goal = (what, target, measured, met) => goals.push({ what, target, measured, met });
const table = (head, rows) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const md = [];
md.push(`## Latest suite run: ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
md.push('');
md.push(
  `- Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM, ${machine.os}, Node ${machine.node}, ` +
    `SQLite ${machine.sqlite}${machine.redis ? `, Redis ${machine.redis}` : ''}; load average ${machine.loadavgAtStart.join(' ')} at the start, ` +
    `${machine.loadavgAtEnd.join(' ')} at the end.`,
);
md.push(
  `- Command: \`${command}\` (${Math.round(totalSeconds)} s: ${Object.entries(timings)
    .map(([k, v]) => `${k} ${Math.round(v)} s`)
    .join(', ')}).`,
);
md.push(`- Raw figures: \`${relative(REPO, outDir)}/\`${results.rest ? ` and \`${results.rest.dir}/\`` : ''}.`);
md.push('');

if (results.rest) {
  const rows = results.rest.summary;
  md.push('### REST against bare node:http (the HTTP limit)');
  md.push('');
  md.push(
    table(
      ['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'peak RSS MiB', 'CPU µs/req', 'vs node:http', 'rounds'],
      rows.map((r) => [
        r.scenario,
        r.target,
        f.int(r.rps),
        f.ms(r.p50Ms),
        f.ms(r.p99Ms),
        f.mib(r.peakRssMiB),
        f.int(r.cpuUsPerRequest),
        r.baseline ? '1.00x' : f.x(r.ratio),
        r.ratios ? r.ratios.map((x) => x.toFixed(2)).join(' ') : '',
      ]),
    ),
  );
  md.push('');
  for (const [scenario, want] of [
    ['get', 0.7],
    ['create', 0.4],
    ['patch', 0.4],
  ]) {
    const r = rows.find((x) => x.scenario === scenario && x.target === 'longrun');
    if (r) goal(`${scenario} vs node:http`, `≥ ${want}x`, f.x(r.ratio), !r.invalid && r.ratio >= want);
  }
}

if (results.list?.limits?.length) {
  const lim = results.list.limits;
  const rest = results.rest?.summary ?? [];
  const rps = (s) => rest.find((x) => x.scenario === s && x.target === 'longrun')?.rps;
  const against = {
    'insert, one per transaction (autocommit)': 'create',
    'insert, 50 per transaction (what group commit can reach)': 'create',
    'get by name': 'get',
    'update by name, one per transaction': 'patch',
  };
  md.push("### The storage limit: raw better-sqlite3 statements on the server's schema (one thread, no HTTP)");
  md.push('');
  md.push(
    table(
      ['statement', 'per second', 'CPU µs each', 'longrun over HTTP', 'longrun / raw'],
      lim.map((l) => {
        const s = against[l.case];
        const mine = s && rps(s);
        return [
          l.case,
          f.int(l.perSecond),
          l.cpuUsPerCall.toFixed(1),
          mine ? `${s} ${f.int(mine)} req/s` : '',
          mine ? f.x(mine / l.perSecond) : '',
        ];
      }),
    ),
  );
  md.push('');
}

if (results.waiters) {
  const w = results.waiters;
  md.push(`### Wait wake-up with ${f.int(w.waiters)} concurrent waiters (SQLite) against bare node:http`);
  md.push('');
  md.push(
    "Latency: from the PATCH's acknowledgement arriving at the client to the wait's answer arriving (negative: the wait " +
      "was answered before the PATCH). Memory: the server's RSS before and after opening the waits.",
  );
  md.push('');
  md.push(
    table(
      [
        'mode',
        'server',
        'p50 ms',
        'p99 ms',
        'max ms',
        'from PATCH sent p99 ms',
        'PATCH p99 ms',
        'RSS before → after MiB',
        'cost MiB',
        'KiB/waiter',
        'peak RSS MiB',
        'p99 vs node:http',
      ],
      w.results.map((r) => {
        const base = w.results.find((b) => b.mode === r.mode && b.target === 'node:http');
        return [
          r.mode === 'many' ? `many (${f.int(r.operations)} ops, ${r.rate}/s patches)` : 'one (1 op)',
          r.target,
          f.ms(r.p50Ms),
          f.ms(r.p99Ms),
          f.ms(r.maxMs),
          f.ms(r.fromSentP99Ms),
          f.ms(r.patchP99Ms),
          `${f.mib(r.rssBeforeMiB)} → ${f.mib(r.rssAfterMiB)}`,
          r.costMiB.toFixed(1),
          r.costKiBPerWaiter.toFixed(2),
          f.mib(r.peakRssMiB),
          r.target === 'longrun' && base ? f.x(r.p99Ms / base.p99Ms) : '',
        ].concat([]);
      }),
    ),
  );
  const bad = w.results.filter((r) => r.bad || r.earlyAnswers || r.timedOut);
  if (bad.length)
    md.push(
      '',
      `Problems: ${bad.map((r) => `${r.mode}/${r.target}: ${r.bad} bad, ${r.earlyAnswers} early, timed out ${r.timedOut}`).join('; ')}`,
    );
  md.push('');
  for (const r of w.results.filter((x) => x.target === 'longrun')) {
    // The latency goal is for waiters on many operations; 10,000 on one is a stress case (writing
    // 10,000 answers at once takes node:http hundreds of milliseconds too), read against the baseline.
    if (r.mode === 'many') goal(`wake-up p99, ${r.mode}`, '≤ 5 ms', `${f.ms(r.p99Ms)} ms`, !r.bad && r.p99Ms <= 5);
    goal(
      `memory of ${f.int(w.waiters)} waiters, ${r.mode}`,
      '≤ 50 MB',
      `${r.costMiB.toFixed(1)} MiB`,
      r.costMiB * 1.048576 <= 50,
    );
  }
}

if (results.cycle) {
  const c = results.cycle;
  md.push(`### create → progress → complete → read against BullMQ (${c.concurrency} cycles in flight)`);
  md.push('');
  md.push(
    table(
      [
        'system',
        'cycles/s',
        'p50 ms',
        'p99 ms',
        'server CPU µs/cycle',
        'client CPU µs/cycle',
        'server peak RSS MiB',
        'longrun vs BullMQ',
        'rounds',
      ],
      c.summary.map((s) => [
        s.target === 'bullmq' ? 'BullMQ 6.7.0 (Redis)' : 'longrun (SQLite)',
        f.int(s.cps),
        f.ms(s.p50Ms),
        f.ms(s.p99Ms),
        f.int(s.serverCpuUsPerCycle),
        f.int(s.clientCpuUsPerCycle),
        f.mib(s.peakRssMiB),
        s.target === 'longrun' ? f.x(c.ratio) : '1.00x',
        s.target === 'longrun' ? c.ratios.map((x) => x.toFixed(2)).join(' ') : '',
      ]),
    ),
  );
  md.push('');
  md.push(
    "Server CPU: longrun's process; for BullMQ, redis-server's (its peak RSS is the Redis process's, shared with anything else in it). Client CPU: this harness (BullMQ's producer and Worker; longrun's HTTP client).",
  );
  md.push('');
  goal('cycle vs BullMQ', '> 1x (faster)', f.x(c.ratio), c.ratio > 1);
}

if (results.list) {
  const l = results.list;
  md.push(`### A filtered page (\`${l.filter}\`, pageSize ${l.pageSize}) against the raw statement`);
  md.push('');
  md.push(
    table(
      [
        'stored',
        'file MiB',
        'longrun req/s',
        'p50 ms',
        'p99 ms',
        'CPU µs/req',
        'peak RSS MiB',
        'raw statement /s',
        'raw CPU µs',
        'longrun / raw',
      ],
      l.sizes.map((s) => [
        f.int(s.operations),
        f.mib(s.fileMiB),
        f.int(s.rps),
        f.ms(s.p50Ms),
        f.ms(s.p99Ms),
        f.int(s.cpuUsPerRequest),
        f.mib(s.peakRssMiB),
        f.int(s.rawPerSecond),
        s.rawCpuUsPerCall.toFixed(0),
        f.x(s.ratio),
      ]),
    ),
  );
  md.push('');
  if (l.sizes[0]) md.push(`Query plan: ${l.sizes[0].plan}.`, '');
  const big = l.sizes.find((s) => s.operations >= 1_000_000);
  const small = l.sizes[0];
  if (big && small) {
    goal(
      'memory flat at 1M operations',
      'peak RSS within 25 % of 10k',
      `${f.mib(small.peakRssMiB)} → ${f.mib(big.peakRssMiB)} MiB`,
      big.peakRssMiB <= small.peakRssMiB * 1.25,
    );
  } else {
    goal('memory flat at 1M operations', 'peak RSS within 25 % of 10k', 'not run (add --million)', undefined);
  }
}
const pgWait = results.postgres?.summary?.longrun?.wait;
goal(
  'wake-up p99 across PostgreSQL replicas',
  '≤ 50 ms',
  pgWait ? `${f.ms(pgWait.p99Ms)} ms` : 'not run (add --with postgres)',
  pgWait ? pgWait.p99Ms <= 50 : undefined,
);
const pgCreate = results.postgres?.ratios?.createVsPgBossSend;
goal(
  'PostgreSQL creates vs pg-boss send',
  '≥ 2x',
  pgCreate ? f.x(pgCreate) : 'not run (add --with postgres)',
  pgCreate ? pgCreate >= 2 : undefined,
);

for (const [name, q] of Object.entries(quoted)) {
  md.push(`### ${name} (\`${q.command}\`)`, '', '```', q.output.slice(-6000), '```', '');
}

const goalLines = [
  '### Goals',
  '',
  table(
    ['goal', 'target', 'measured', ''],
    goals.map((g) => [
      g.what,
      g.target,
      g.measured,
      g.met === undefined ? 'not measured' : g.met ? 'met' : '**NOT met**',
    ]),
  ),
  '',
];
md.splice(6, 0, ...goalLines);
const report = md.join('\n');
writeFileSync(
  join(outDir, 'results.json'),
  `${JSON.stringify({ date: startedAt.toISOString(), command, machine, timings, goals, results, quoted }, null, 2)}\n`,
);
writeFileSync(join(outDir, 'results.md'), `${report}\n`);
log();
log(report);

if (!flags['no-write']) {
  const file = join(REPO, 'BENCHMARKS.md');
  const START = '<!-- suite:start (written by node bench/suite.js; edits between these markers are replaced) -->';
  const END = '<!-- suite:end -->';
  let text = readFileSync(file, 'utf8');
  const block = `${START}\n${report}\n${END}`;
  const a = text.indexOf('<!-- suite:start');
  const b = text.indexOf(END);
  if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + END.length);
  else {
    const at = text.indexOf('\n## ');
    text = at >= 0 ? `${text.slice(0, at + 1)}${block}\n\n${text.slice(at + 1)}` : `${text}\n${block}\n`;
  }
  writeFileSync(file, text);
  log(`\nBENCHMARKS.md updated; raw figures in ${relative(REPO, outDir)}/`);
}
