/**
 * The screenshots in docs/console.md, taken from a server with a day of made-up operations.
 * Runs only when asked (it rewrites docs/images/console-*.png):
 *
 *   LONGRUN_SCREENSHOTS=1 npx vitest run test/console/screenshots.test.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { digestSecret } from '../../packages/server/src/auth/access.js';
import { type RunningServer, startServer } from '../../packages/server/src/server.js';
import { SqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import { launchBrowser, NO_BROWSER, openConsole } from './browser.js';

const WANTED = process.env.LONGRUN_SCREENSHOTS === '1';
const IMAGES = join(import.meta.dirname, '../../docs/images');
const PARENT = 'projects/acme';
const TOKEN = 'screenshot-token';

/** A day of exports under projects/acme (and a few elsewhere), written straight into the store. */
function seedDay(path: string): void {
  const store = new SqliteStore(path);
  const insert = store.connection.prepare(
    `INSERT INTO operations (name, parent, done, metadata, error, response, create_time, update_time, done_time,
       cancel_request_time, create_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
  );
  const now = Date.now();
  const tables = ['events', 'orders', 'sessions', 'invoices', 'clicks'];
  store.connection.transaction(() => {
    for (let i = 0; i < 420; i++) {
      // More work in the (UTC) afternoon: a wave over the day.
      const created = now - 24 * 3600_000 + Math.round(((i + 0.5) / 420) ** 0.8 * 23.5 * 3600_000);
      const parent = i % 7 === 0 ? 'projects/billing' : PARENT;
      const table = tables[i % tables.length];
      const id = `export-${table}-${String(1000 + i)}`;
      const metadata = JSON.stringify({
        '@type': 'type.googleapis.com/acme.export.v1.ExportMetadata',
        table,
        destination: `gs://acme-exports/${table}/`,
        percent: 100,
      });
      const roll = (i * 37) % 100;
      const failed = roll < 7;
      const cancelled = roll >= 7 && roll < 10;
      const error = failed
        ? JSON.stringify({ code: 8, message: `quota exceeded for bucket acme-exports (table ${table})` })
        : cancelled
          ? JSON.stringify({ code: 1, message: 'cancelled by ops-admin' })
          : null;
      const response =
        failed || cancelled
          ? null
          : JSON.stringify({
              '@type': 'type.googleapis.com/acme.export.v1.ExportResult',
              rowsWritten: String(100_000 + ((i * 7919) % 900_000)),
              files: [`gs://acme-exports/${table}/part-00000.avro`],
            });
      const done = created + 60_000 + ((i * 131) % 40) * 60_000;
      if (done > now) continue;
      insert.run(`${parent}/operations/${id}`, parent, 1, metadata, error, response, created, done, done, null);
    }
  })();
  void store.close();
}

describe.skipIf(!WANTED || NO_BROWSER)('screenshots for docs/console.md', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${await response.text()}`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'longrun-screenshots-'));
    const path = join(dir, 'demo.db');
    seedDay(path);
    [server, browser] = await Promise.all([
      startServer({
        host: '127.0.0.1',
        port: 0,
        store: path,
        logLevel: 'silent',
        cancelGracePeriodMs: 600_000,
        auth: {
          principals: [
            {
              name: 'ops-admin',
              secrets: [digestSecret(TOKEN)],
              grants: [{ role: 'admin', resources: 'projects/**' }],
            },
          ],
        },
      }),
      launchBrowser(),
    ]);
    // A few running now, with progress; one has a cancel pending.
    const running: [string, number, Record<string, unknown>][] = [
      ['export-events-2042', 12, { table: 'events', rowsWritten: '120433' }],
      ['export-orders-2041', 47, { table: 'orders', rowsWritten: '2210876' }],
      ['export-sessions-2040', 81, { table: 'sessions', rowsWritten: '988120' }],
      ['export-clicks-2039', 64, { table: 'clicks', rowsWritten: '7310442' }],
    ];
    for (const [id, percent, extra] of running) {
      await call('POST', `/v1/${PARENT}/operations`, {
        operationId: id,
        operation: {
          metadata: {
            '@type': 'type.googleapis.com/acme.export.v1.ExportMetadata',
            ...extra,
            destination: `gs://acme-exports/${extra.table}/`,
            percent,
          },
        },
      });
    }
    await call('POST', `/v1/${PARENT}/operations/export-clicks-2039:cancel`);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function signedIn(hash: string, height = 640) {
    const tab = await openConsole(browser, { width: 1180, height });
    await tab.context.addInitScript(`sessionStorage.setItem('longrun.console.token', '${TOKEN}')`);
    await tab.page.goto(`${server.url}/${hash}`);
    return tab;
  }

  it('takes them', async () => {
    let tab = await signedIn(`#/operations?parent=${PARENT}&pageSize=25`, 700);
    await tab.page.locator('table.ops tbody tr[data-name] time.rel').first().waitFor();
    await tab.page.locator('.live[data-state="live"]').waitFor();
    await tab.page.screenshot({ path: join(IMAGES, 'console-list.png') });
    await tab.close();

    tab = await signedIn(`#/operation/${PARENT}/operations/export-orders-2041`, 720);
    await tab.page.locator('.live[data-state="live"]').waitFor();
    await tab.page.screenshot({ path: join(IMAGES, 'console-detail.png') });
    await tab.page.click('button[data-action="cancel"]');
    await tab.page.locator('dialog.confirm').waitFor();
    await tab.page.screenshot({
      path: join(IMAGES, 'console-cancel.png'),
      clip: { x: 290, y: 200, width: 600, height: 260 },
    });
    await tab.close();

    tab = await signedIn(
      `#/operations?parent=${PARENT}&filter=${encodeURIComponent('metadata.percent >= 50 AND')}`,
      340,
    );
    await tab.page.locator('.filter-error').waitFor();
    await tab.page.screenshot({
      path: join(IMAGES, 'console-filter-error.png'),
      clip: { x: 0, y: 52, width: 1180, height: 288 },
    });
    await tab.close();

    tab = await signedIn(`#/summary?parent=${PARENT}`, 560);
    await tab.page.locator('svg.chart rect.bar').first().waitFor();
    await tab.page.screenshot({ path: join(IMAGES, 'console-summary.png') });
    await tab.close();

    tab = await openConsole(browser, { width: 1180, height: 420 });
    await tab.page.goto(`${server.url}/`);
    await tab.page.locator('form.signin').waitFor();
    await tab.page.screenshot({
      path: join(IMAGES, 'console-signin.png'),
      clip: { x: 290, y: 52, width: 600, height: 368 },
    });
    await tab.close();
  }, 120_000);
});
