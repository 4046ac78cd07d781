/**
 * The console with 100,000 operations stored: it pages through the API and never loads everything,
 * so the list, a filter, paging and the summary render. The times are printed (docs/console.md
 * records them), not asserted: they depend on the machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../packages/server/src/server.js';
import { SqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import { launchBrowser, NO_BROWSER, openConsole } from './browser.js';

const TOTAL = 100_000;
/** The big parent holds 90% of them; 100 small parents share the rest. */
const BIG = 'projects/big';

/** Writes the operations straight into the store's schema, as the server would have, in one statement. */
function seed(path: string): { ms: number; count: number } {
  const started = performance.now();
  const store = new SqliteStore(path);
  const now = Date.now();
  store.connection
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @total),
       o AS (
         SELECT i,
           CASE WHEN i % 10 = 0 THEN 'projects/team-' || printf('%03d', (i / 10) % 100) ELSE @big END AS parent,
           @now - (@total - i) * 6000 AS created,
           CASE WHEN i % 10 < 6 OR i % 10 = 0 THEN 'ok' WHEN i % 10 = 6 THEN 'failed' WHEN i % 10 = 7 THEN 'cancelled'
                ELSE 'running' END AS state
         FROM n
       )
       INSERT INTO operations (name, parent, done, metadata, error, response, create_time, update_time, done_time,
         cancel_request_time, create_hash)
       SELECT parent || '/operations/op-' || printf('%06d', i), parent, state <> 'running',
         '{"@type":"type.googleapis.com/demo.ExportMetadata","percent":' || (i % 100) || ',"rows":' || (i * 7) || '}',
         CASE state WHEN 'failed' THEN '{"code":13,"message":"disk full"}'
                    WHEN 'cancelled' THEN '{"code":1,"message":"cancelled"}' END,
         CASE state WHEN 'ok' THEN '{"@type":"type.googleapis.com/demo.ExportResult","rows":' || (i * 7) || '}' END,
         created, created + 30000, CASE WHEN state <> 'running' THEN created + 60000 END,
         CASE WHEN state = 'running' AND i % 50 = 9 THEN created + 45000 END, NULL
       FROM o`,
    )
    .run({ total: TOTAL, big: BIG, now });
  const count = store.connection.prepare('SELECT count(*) FROM operations').pluck().get() as number;
  void store.close();
  return { ms: Math.round(performance.now() - started), count };
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, Math.round(performance.now() - started)];
}

describe.skipIf(NO_BROWSER)('the console with 100,000 operations', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'longrun-console-scale-'));
    const path = join(dir, 'scale.db');
    const seeded = seed(path);
    expect(seeded.count).toBe(TOTAL);
    figures['seed 100k (ms)'] = seeded.ms;
    [server, browser] = await Promise.all([
      startServer({ host: '127.0.0.1', port: 0, store: path, logLevel: 'silent' }),
      launchBrowser(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`console at ${TOTAL.toLocaleString('en-US')} operations:`, JSON.stringify(figures, null, 2));
  });

  async function rows(page: Page): Promise<number> {
    return page.locator('table.ops tbody tr[data-name]').count();
  }

  it('renders the first page, pages on, filters and summarises, without loading everything', async () => {
    const counted = await server.store.countByState();
    expect(counted.running + counted.succeeded + counted.failed + counted.cancelled).toBe(TOTAL);

    const tab = await openConsole(browser);
    const { page } = tab;
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));

    // Cold load: page, modules, whoami, parents, the first page of 50 and its times.
    let [, ms] = await timed(async () => {
      await page.goto(`${server.url}/#/operations?parent=${BIG}`);
      await page.locator('table.ops tbody tr[data-name] time.rel').first().waitFor();
    });
    figures['list: first page rendered, cold (ms)'] = ms;
    expect(await rows(page)).toBe(50);
    expect(await page.locator('table.ops tbody tr[data-name]').first().getAttribute('data-name')).toBe(
      `${BIG}/operations/op-099999`,
    );
    // Every list call asked for one page, never more.
    const lists = requests.filter((url) => /\/v1\/projects\/big\/operations\?/.test(url));
    expect(lists.every((url) => /pageSize=50\b/.test(url))).toBe(true);

    [, ms] = await timed(async () => {
      for (let pageNumber = 2; pageNumber <= 5; pageNumber++) {
        await page.click('button:text("Older →")');
        await page.locator(`.page-info:text-matches("^page ${pageNumber} ")`).waitFor();
      }
    });
    figures['list: next page, average of 4 (ms)'] = Math.round(ms / 4);

    [, ms] = await timed(async () => {
      await page.fill('input.filter-input', 'done = false AND metadata.percent >= 95');
      await page.press('input.filter-input', 'Enter');
      await page.locator('table.ops tbody tr[data-state="running"]').first().waitFor();
    });
    figures['list: filter done = false AND metadata.percent >= 95 (ms)'] = ms;
    expect(await rows(page)).toBe(50);

    [, ms] = await timed(async () => {
      await page.goto(`${server.url}/#/summary?parent=${BIG}`);
      await page.locator('.count-card.total .count').waitFor();
    });
    figures['summary of projects/big, 90,000 operations (ms)'] = ms;
    expect(await page.textContent('.count-card.total .count')).toBe('90,000');
    expect(await page.locator('svg.chart rect.bar').count()).toBeGreaterThan(0);

    [, ms] = await timed(async () => {
      await page.goto(`${server.url}/#/summary?parent=projects/-&window=604800`);
      await page.locator('.count-card.total .count:text("100,000")').waitFor();
    });
    figures['summary of projects/- over 7 days, 100,000 operations (ms)'] = ms;

    [, ms] = await timed(async () => {
      await page.goto(`${server.url}/#/operation/${BIG}/operations/op-050001`);
      await page.locator('.detail-head .badge').waitFor();
    });
    figures['detail (ms)'] = ms;

    // The read endpoints on their own (no browser).
    let response: Response;
    [response, ms] = await timed(() => fetch(`${server.url}/console/api/parents`));
    const parents = (await response.json()) as { parents: unknown[]; patterns: string[] };
    expect(parents.parents).toHaveLength(101);
    expect(parents.patterns).toEqual(['projects/-']);
    figures['api: parents, 101 of them (ms)'] = ms;
    [response, ms] = await timed(() => fetch(`${server.url}/v1/${BIG}/operations?pageSize=50`));
    expect(response.status).toBe(200);
    figures['api: list first page (ms)'] = ms;
    // A window no view asked for, so no cached summary answers.
    [response, ms] = await timed(() => fetch(`${server.url}/console/api/summary?parent=${BIG}&windowSeconds=2592000`));
    expect(((await response.json()) as { counts: { total: number } }).counts.total).toBe(90_000);
    figures['api: summary of projects/big over 30 days (ms)'] = ms;
    [response, ms] = await timed(() => fetch(`${server.url}/console/api/summary?parent=projects/-&windowSeconds=3600`));
    expect(((await response.json()) as { counts: { total: number } }).counts.total).toBe(TOTAL);
    figures['api: summary of projects/- over 1 hour (ms)'] = ms;

    expect(tab.errors).toEqual([]);
    await tab.close();
  }, 180_000);
});
