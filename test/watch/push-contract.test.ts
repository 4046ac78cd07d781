/** The push storage contract, on SQLite. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import { describePushContract } from '../../packages/server/src/watch/push.contract.js';
import { openPushBackend } from '../../packages/server/src/watch/push.js';

let dir: string | undefined;

describePushContract('sqlite', {
  async open() {
    dir = mkdtempSync(join(tmpdir(), 'longrun-push-'));
    const store = new SqliteStore(join(dir, 'store.db'));
    return { store, ...openPushBackend(store)! };
  },
  async destroy() {
    if (dir) rmSync(dir, { recursive: true, force: true });
  },
});
