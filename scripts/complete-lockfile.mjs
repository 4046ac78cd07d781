#!/usr/bin/env node
// Adds to package-lock.json the platform-specific optional packages (other operating systems and
// CPUs: @biomejs/cli-darwin-arm64 and the like) that this machine's registry mirror does not serve.
// npm leaves them out of the lockfile when it cannot fetch them, and then `npm ci` refuses the
// lockfile as out of sync. Each entry carries its os/cpu (read from the package's name), so npm
// skips it here without fetching it, and installs it where it fits. Runs after `npm install`
// (the root postinstall); a lockfile that is already complete is left untouched.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const PLATFORM =
  /-(aix|android|darwin|freebsd|linux|netbsd|openbsd|sunos|win32)-(arm64|x64|arm|armv7|ia32|ppc64|s390x|riscv64|loong64)(-(musl|gnu|msvc))?$/;

let added = 0;
for (const entry of Object.values(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const match = PLATFORM.exec(name);
    if (packages[key] || !match) continue;
    const stub = { version, optional: true, ...(entry.dev ? { dev: true } : {}) };
    stub.os = [match[1]];
    stub.cpu = [match[2] === 'armv7' ? 'arm' : match[2]];
    if (match[4] === 'musl' || match[4] === 'gnu') stub.libc = [match[4] === 'gnu' ? 'glibc' : 'musl'];
    packages[key] = stub;
    added++;
  }
}
if (added > 0) {
  // npm keeps the root first and the rest in name order.
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)),
  );
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`complete-lockfile: added ${added} platform entries to package-lock.json`);
}
