// Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and sums where the time went:
// self time per function (functionName + script + line), self time per package, and the
// inclusive time of longrun's own functions. Each sample's time is the gap to the next sample
// (timeDeltas), which is what hitCount × the sampling interval approximates.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @typedef {object} ProfileEntry
 * @property {string} name       the function, `(anonymous)` when it has none
 * @property {string} location   script:line, relative to the repository or to node_modules
 * @property {string} category   the package, `longrun/<file>`, `node:internal`, or `native`/`v8`
 * @property {number} ms
 * @property {number} pct        of the busy (non-idle) time
 */

/**
 * @typedef {object} ProfileSummary
 * @property {number} totalMs    time the profile covers
 * @property {number} idleMs     time the thread waited for I/O
 * @property {number} busyMs
 * @property {ProfileEntry[]} self        by function, largest first
 * @property {ProfileEntry[]} categories  by package, largest first (name = category)
 * @property {ProfileEntry[]} ownInclusive longrun's functions by inclusive time, largest first
 */

const V8_PSEUDO = new Set(['(program)', '(garbage collector)', '(idle)', '(root)']);

/** Where a script belongs: a package, a longrun file, Node's own code, or V8 and native code. */
function categorize(url, functionName, repo) {
  if (url === '') return V8_PSEUDO.has(functionName) ? `v8 ${functionName}` : 'native (C++ builtins and addons)';
  if (url.startsWith('node:')) return 'node: core';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const at = path.lastIndexOf('/node_modules/');
  if (at >= 0) {
    const rest = path.slice(at + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? path);
  }
  const local = relative(repo, path);
  const own = /^packages\/([^/]+)\/dist\/(.*)\.js$/.exec(local);
  if (own) return `longrun ${own[1]}/${own[2]}`;
  return local.startsWith('..') ? path : local;
}

function locationOf(url, line, repo) {
  if (url === '') return '';
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const at = path.lastIndexOf('/node_modules/');
  if (at >= 0) path = path.slice(at + '/node_modules/'.length);
  else if (!url.startsWith('node:')) path = relative(repo, path);
  return `${path}:${line + 1}`;
}

/**
 * @typedef {{nodes: Array<{id: number, callFrame: {functionName: string, url: string, lineNumber: number}, children?: number[]}>, samples: number[], timeDeltas: number[], startTime: number, endTime: number}} CpuProfile
 */

/**
 * Sums one or more profiles (say, one per round of a scenario) into one summary.
 * @param {CpuProfile | CpuProfile[]} profiles
 * @param {string} repo  the repository root, to shorten paths and spot longrun's own code
 * @param {number[]} [skipMs]  per profile, how much of its beginning to leave out (the process's
 *   startup, before it served anything)
 * @returns {ProfileSummary}
 */
export function analyzeProfile(profiles, repo, skipMs = []) {
  const entries = new Map();
  let totalMs = 0;
  let idleMs = 0;
  const list = Array.isArray(profiles) ? profiles : [profiles];
  for (const [index, profile] of list.entries()) {
    const skip = skipMs[index] ?? 0;
    let elapsedMs = 0;
    const parent = new Map();
    const keyOf = new Map();
    for (const node of profile.nodes) {
      for (const child of node.children ?? []) parent.set(child, node.id);
      const { functionName, url, lineNumber } = node.callFrame;
      const name = functionName || '(anonymous)';
      const location = locationOf(url, lineNumber, repo);
      const key = `${name} ${location}`;
      keyOf.set(node.id, key);
      if (!entries.has(key)) {
        entries.set(key, { name, location, category: categorize(url, functionName, repo), ms: 0, inclusiveMs: 0 });
      }
    }
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    const meanMs = samples.length > 0 ? (profile.endTime - profile.startTime) / 1000 / samples.length : 0;
    for (let i = 0; i < samples.length; i++) {
      // timeDeltas[i] is the gap before sample i, so sample i lasts until sample i + 1.
      const next = deltas[i + 1];
      const ms = next !== undefined && next >= 0 ? next / 1000 : meanMs;
      elapsedMs += (deltas[i] ?? 0) / 1000;
      if (elapsedMs < skip) continue;
      const id = samples[i];
      const entry = entries.get(keyOf.get(id));
      if (!entry) continue;
      totalMs += ms;
      entry.ms += ms;
      if (entry.name === '(idle)') {
        idleMs += ms;
        continue;
      }
      // Inclusive time: once per function on the stack, however often it recurses.
      const seen = new Set();
      for (let at = id; at !== undefined; at = parent.get(at)) {
        const key = keyOf.get(at);
        if (seen.has(key)) continue;
        seen.add(key);
        entries.get(key).inclusiveMs += ms;
      }
    }
  }
  const busyMs = totalMs - idleMs;
  const pct = (ms) => (busyMs > 0 ? (100 * ms) / busyMs : 0);

  const self = [...entries.values()]
    .filter((e) => e.name !== '(idle)' && e.ms > 0)
    .sort((a, b) => b.ms - a.ms)
    .map((e) => ({ name: e.name, location: e.location, category: e.category, ms: e.ms, pct: pct(e.ms) }));

  const byCategory = new Map();
  for (const e of self) byCategory.set(e.category, (byCategory.get(e.category) ?? 0) + e.ms);
  const categories = [...byCategory]
    .sort((a, b) => b[1] - a[1])
    .map(([category, ms]) => ({ name: category, location: '', category, ms, pct: pct(ms) }));

  const ownInclusive = [...entries.values()]
    .filter((e) => e.category.startsWith('longrun ') && e.inclusiveMs > 0)
    .sort((a, b) => b.inclusiveMs - a.inclusiveMs)
    .map((e) => ({
      name: e.name,
      location: e.location,
      category: e.category,
      ms: e.inclusiveMs,
      pct: pct(e.inclusiveMs),
    }));

  return { totalMs, idleMs, busyMs, self, categories, ownInclusive };
}

/** A plain-text report of a summary: the top entries of each view. */
export function formatProfile(summary, top = 15) {
  const lines = [];
  const ms = (value) => value.toFixed(0).padStart(7);
  const pct = (value) => `${value.toFixed(1).padStart(5)}%`;
  lines.push(
    `  profiled ${(summary.totalMs / 1000).toFixed(1)} s: busy ${(summary.busyMs / 1000).toFixed(1)} s, ` +
      `idle ${(summary.idleMs / 1000).toFixed(1)} s (percentages are of busy time)`,
  );
  lines.push('  top self time, by function:');
  for (const e of summary.self.slice(0, top)) {
    lines.push(`    ${ms(e.ms)} ms ${pct(e.pct)}  ${e.name}  ${e.location}  [${e.category}]`);
  }
  lines.push('  self time, by package:');
  for (const e of summary.categories.slice(0, Math.min(top, 12)))
    lines.push(`    ${ms(e.ms)} ms ${pct(e.pct)}  ${e.name}`);
  lines.push("  longrun's own functions, inclusive time:");
  for (const e of summary.ownInclusive.slice(0, Math.min(top, 12))) {
    lines.push(`    ${ms(e.ms)} ms ${pct(e.pct)}  ${e.name}  ${e.location}`);
  }
  return lines.join('\n');
}
