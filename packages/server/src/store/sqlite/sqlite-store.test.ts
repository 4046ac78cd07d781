import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreContract } from '../store.contract.js';
import { SqliteStore } from './sqlite-store.js';

let dir: string | undefined;

describeStoreContract('sqlite', {
  async open() {
    dir = mkdtempSync(join(tmpdir(), 'longrun-sqlite-'));
    return new SqliteStore(join(dir, 'store.db'));
  },
  async reopen() {
    return new SqliteStore(join(dir!, 'store.db'));
  },
  async destroy() {
    if (dir) rmSync(dir, { recursive: true, force: true });
  },
});
