// Servers under test. Each runs in a child process of its own, so the load generator (in the
// harness's process) never shares its event loop; the harness reads the child's CPU time and
// peak RSS from /proc.
//
// A target is { name, baseline?, start(options) → RunningTarget }. Issue 10's comparisons add
// entries here; a scenario's ratio is always taken against the target marked `baseline`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LONGRUN_CLI = join(REPO, 'packages', 'cli', 'bin', 'longrun.js');
const BASELINE_SERVER = join(REPO, 'bench', 'servers', 'baseline.js');
const FASTIFY_SERVER = join(REPO, 'bench', 'servers', 'fastify.js');

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 15_000;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ); 100 on every Linux Node supports. */
const USER_HZ = 100;

/**
 * @typedef {object} StartOptions
 * @property {string} store        the SQLite file longrun uses (shared by every longrun run of one harness run)
 * @property {string} [profileDir] when set, the server runs with --cpu-prof into this directory
 * @property {string} [profileName] the .cpuprofile file name
 * @property {number} [cpu]         pin the server to this CPU (taskset -c)
 * @property {object} [baseline]   the baseline's configuration (answers to mirror)
 */

/**
 * @typedef {object} RunningTarget
 * @property {string} name
 * @property {string} url
 * @property {number} pid
 * @property {() => {cpuSeconds: number, systemSeconds: number} | undefined} usage  CPU time so far (user + system, all threads; and system alone)
 * @property {() => number | undefined} peakRssBytes          VmHWM: the most resident memory the process ever had
 * @property {() => Promise<{code: number | null, signal: string | null, stderr: string}>} stop
 * @property {string | undefined} profilePath
 * @property {number} startupMs  from spawning the process to its `listening` line
 */

/**
 * @typedef {object} Target
 * @property {string} name
 * @property {boolean} [baseline]
 * @property {boolean} [optional]    run only when --targets names it
 * @property {boolean} [stateless]   stores nothing: any request of the right shape succeeds
 * @property {string} description
 * @property {(options: StartOptions) => Promise<RunningTarget>} start
 */

/** @type {Target} */
export const longrun = {
  name: 'longrun',
  description: 'longrun serve (the built CLI), SQLite store in a temporary directory, --log-level warn',
  start(options) {
    const args = [LONGRUN_CLI, 'serve', '--port', '0', '--store', options.store, '--log-level', 'warn'];
    return startChild('longrun', args, {}, options);
  },
};

/** @type {Target} */
export const baseline = {
  name: 'node:http',
  baseline: true,
  stateless: true,
  description:
    'a bare node:http server answering the same bytes (GET) or JSON of the same size built from the parsed body (POST, PATCH)',
  start(options) {
    return startChild(
      'node:http',
      [BASELINE_SERVER],
      { BENCH_BASELINE: JSON.stringify(options.baseline ?? {}) },
      options,
    );
  },
};

/** @type {Target} */
export const fastify = {
  name: 'fastify',
  optional: true,
  stateless: true,
  description:
    'diagnostic: Fastify configured as longrun configures it, answering what node:http answers (no validation, no storage)',
  start(options) {
    return startChild('fastify', [FASTIFY_SERVER], { BENCH_BASELINE: JSON.stringify(options.baseline ?? {}) }, options);
  },
};

/** @type {Target} the wait baseline (bench/waiters.js): parks :wait requests, answers them on PATCH */
export const waitBaseline = {
  name: 'node:http',
  baseline: true,
  optional: true,
  description: 'a bare node:http server parking each :wait in a Map and answering it, with the same bytes, on PATCH',
  start(options) {
    return startChild(
      'node:http',
      [join(REPO, 'bench', 'servers', 'wait-baseline.js')],
      { BENCH_WAIT_BODY: options.waitBody ?? '' },
      options,
    );
  },
};

/** Every target, in the order of the first round; the first is the baseline. */
export const TARGETS = [baseline, fastify, longrun];
export { startChild };

/**
 * Spawns `node <args>` (with --cpu-prof when options.profileDir is set) and resolves once it
 * prints `listening on http://…`.
 * @param {string} name
 * @param {string[]} args
 * @param {Record<string, string>} env
 * @param {StartOptions} [options]
 * @returns {Promise<RunningTarget>}
 */
function startChild(name, args, env, options = {}) {
  let profilePath;
  const nodeFlags = [];
  if (options.profileDir) {
    const file = options.profileName ?? `${name.replace(/\W/g, '-')}.cpuprofile`;
    nodeFlags.push('--cpu-prof', '--cpu-prof-dir', options.profileDir, '--cpu-prof-name', file);
    profilePath = join(options.profileDir, file);
  }
  const spawnedAt = performance.now();
  // taskset execs node, so the child's pid is the server's.
  const command = options.cpu === undefined ? process.execPath : 'taskset';
  const commandArgs = [...nodeFlags, ...args];
  if (options.cpu !== undefined) commandArgs.unshift('-c', String(options.cpu), process.execPath);
  const child = spawn(command, commandArgs, {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    stderr += text;
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms\n${stdout}${stderr}`));
    }, START_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before listening (code ${code}, signal ${signal})\n${stdout}${stderr}`));
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      stdout += text;
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      const pid = /** @type {number} */ (child.pid);
      resolve({
        name,
        url: match[1],
        pid,
        profilePath,
        startupMs: performance.now() - spawnedAt,
        usage: () => cpuOf(pid),
        peakRssBytes: () => peakRssOf(pid),
        rssBytes: () => rssOf(pid),
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          let timeout;
          const result = await Promise.race([
            exited,
            new Promise((done) => {
              timeout = setTimeout(() => done(undefined), STOP_TIMEOUT_MS);
            }),
          ]);
          clearTimeout(timeout);
          if (result) return { ...result, stderr };
          child.kill('SIGKILL');
          return { ...(await exited), stderr: `${stderr}\n(killed: did not stop within ${STOP_TIMEOUT_MS} ms)` };
        },
      });
    });
  });
}

/** CPU seconds (user + system, every thread) the process has used, from /proc; undefined off Linux. */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / USER_HZ,
      systemSeconds: Number(fields[12]) / USER_HZ,
    };
  } catch {
    return undefined;
  }
}

/** The process's resident set now (VmRSS), from /proc; undefined off Linux. */
export function rssOf(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The process's peak resident set (VmHWM), from /proc; undefined off Linux. */
function peakRssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
