/**
 * The web console in a real browser (Debian's chromium through playwright-core): the list, its
 * parent chooser, filter (and a filter error inline), paging, the detail view, live updates while
 * a provider works, cancel and delete from the UI, the summary, and untrusted content that must
 * stay text.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers.js';
import { type ConsolePage, launchBrowser, NO_BROWSER, openConsole } from './browser.js';

const PROGRESS = (percent: number) => ({ '@type': 'type.googleapis.com/demo.ExportMetadata', percent });
const RESULT = { '@type': 'type.googleapis.com/demo.ExportResult', rows: 1234 };

async function patch(server: TestServer, name: string, operation: unknown, updateMask?: string): Promise<void> {
  const response = await server.call('PATCH', `/v1/${name}`, { operation, ...(updateMask && { updateMask }) });
  if (response.status !== 200) throw new Error(`patch failed: ${response.text}`);
}

/** The names of the rows shown, top to bottom. */
function rowNames(page: Page): Promise<string[]> {
  return page
    .locator('table.ops tbody tr[data-name]')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-name') ?? ''));
}

function rowState(page: Page, name: string): Promise<string | null> {
  return page.locator(`table.ops tbody tr[data-name="${name}"]`).getAttribute('data-state');
}

describe.skipIf(NO_BROWSER)('the web console in chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let tab: ConsolePage | undefined;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startTestServer({ cancelGracePeriodMs: 60_000 }), launchBrowser()]);
    // projects/acme: one operation in each state, created oldest first.
    await server.createOperation('projects/acme', 'export-1', { done: true, response: RESULT });
    await server.createOperation('projects/acme', 'export-2', {
      done: true,
      error: { code: 9, message: 'the bucket is locked' },
    });
    await server.createOperation('projects/acme', 'export-3', { done: true, error: { code: 1, message: 'cancelled' } });
    await server.createOperation('projects/acme', 'export-4', { metadata: PROGRESS(10) });
    await server.call('POST', '/v1/projects/acme/operations/export-4:cancel');
    await server.createOperation('projects/acme', 'export-5', { metadata: PROGRESS(40) });
    await server.createOperation('projects/beta', 'b-1');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  afterEach(async () => {
    if (!tab) return;
    const { errors, dialogs, consoleErrors } = tab;
    await tab.close();
    tab = undefined;
    expect(errors, 'uncaught errors in the page').toEqual([]);
    expect(dialogs, 'dialogs opened by the page').toEqual([]);
    // The console itself never trips its own policy.
    expect(consoleErrors.filter((message) => /Content Security Policy|Trusted ?Type/i.test(message))).toEqual([]);
  });

  async function open(hash: string): Promise<Page> {
    tab = await openConsole(browser);
    await tab.page.goto(`${server.url}/${hash}`);
    return tab.page;
  }

  it('lists a parent newest first, with state badges, progress bars and relative times', async () => {
    const page = await open('#/operations?parent=projects/acme');
    await page.locator('table.ops tbody tr[data-name]').first().waitFor();
    expect(await rowNames(page)).toEqual([5, 4, 3, 2, 1].map((n) => `projects/acme/operations/export-${n}`));
    const states = await page
      .locator('table.ops tbody tr[data-name]')
      .evaluateAll((rows) => rows.map((row) => row.querySelector('.badge')?.textContent));
    expect(states).toEqual(['running', 'cancel requested', 'cancelled', 'failed', 'succeeded']);
    const running = page.locator('tr[data-name="projects/acme/operations/export-5"]');
    expect(await running.locator('progress').getAttribute('value')).toBe('400');
    expect(await running.locator('.progress-label').textContent()).toBe('40%');
    await expect.poll(() => running.locator('time.rel').first().textContent()).toMatch(/just now|\d+ s ago/);
    expect(await running.locator('time.rel').first().getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    // Done operations show no progress bar.
    expect(await page.locator('tr[data-name="projects/acme/operations/export-1"] progress').count()).toBe(0);
  });

  it('chooses a parent among those that exist, wildcard patterns included', async () => {
    // No parent in the route: the most recently active one.
    const page = await open('');
    await page.locator('table.ops tbody tr[data-name]').first().waitFor();
    expect(await page.inputValue('input.parent-input')).toBe('projects/beta');
    const options = await page
      .locator('datalist option')
      .evaluateAll((list) => list.map((o) => o.getAttribute('value')));
    expect(options).toEqual(expect.arrayContaining(['projects/acme', 'projects/beta', 'projects/-']));
    await page.fill('input.parent-input', 'projects/-');
    await page.press('input.parent-input', 'Enter');
    await page.waitForURL(/parent=projects%2F-/);
    await expect.poll(() => rowNames(page)).toHaveLength(6);
    expect((await rowNames(page))[0]).toBe('projects/beta/operations/b-1');
    // Across parents, each row names its parent.
    expect(await page.locator('tr[data-name="projects/beta/operations/b-1"] .op-parent').textContent()).toBe(
      'projects/beta',
    );
  });

  it('filters with AIP-160, from the box and the state chips, and shows a filter error inline at its column', async () => {
    const page = await open('#/operations?parent=projects/acme');
    await page.locator('table.ops tbody tr[data-name]').first().waitFor();
    await page.fill('input.filter-input', 'done = false');
    await page.click('form.filter-form button[type=submit]');
    await expect
      .poll(() => rowNames(page))
      .toEqual(['projects/acme/operations/export-5', 'projects/acme/operations/export-4']);
    await page.click('.chips button:text-is("failed")');
    await expect.poll(() => rowNames(page)).toEqual(['projects/acme/operations/export-2']);
    await page.click('.chips button:text-is("cancel requested")');
    await expect.poll(() => rowNames(page)).toEqual(['projects/acme/operations/export-4']);
    await page.fill('input.filter-input', 'metadata.percent >= 20');
    await page.press('input.filter-input', 'Enter');
    await expect.poll(() => rowNames(page)).toEqual(['projects/acme/operations/export-5']);

    await page.fill('input.filter-input', 'done = false AND');
    await page.press('input.filter-input', 'Enter');
    const error = page.locator('.filter-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('column 17: expected a restriction after AND');
    // The caret sits under the column the server named.
    expect(await error.locator('pre.caret').textContent()).toBe(`done = false AND\n${' '.repeat(16)}^`);
    expect(await page.getAttribute('input.filter-input', 'aria-invalid')).toBe('true');
    expect(await page.locator('table.ops tbody tr[data-name]').count()).toBe(0);
  });

  it('pages through the API, newer and older', async () => {
    for (let i = 0; i < 30; i++) await server.createOperation('projects/paged', `op-${String(i).padStart(2, '0')}`);
    const page = await open('#/operations?parent=projects/paged&pageSize=25');
    await page.locator('table.ops tbody tr[data-name]').first().waitFor();
    expect(await rowNames(page)).toHaveLength(25);
    expect((await rowNames(page))[0]).toBe('projects/paged/operations/op-29');
    expect(await page.textContent('.page-info')).toBe('page 1 · 1–25');
    await page.click('button:text("Older →")');
    await expect.poll(() => page.textContent('.page-info')).toBe('page 2 · 26–30 (end)');
    expect(await rowNames(page)).toEqual([4, 3, 2, 1, 0].map((n) => `projects/paged/operations/op-0${n}`));
    expect(await page.isDisabled('button:text("Older →")')).toBe(true);
    await page.click('button:text("← Newer")');
    await expect.poll(() => page.textContent('.page-info')).toBe('page 1 · 1–25');
  });

  it('shows an operation: state, timeline, foldable metadata and error, raw JSON, CLI and curl commands', async () => {
    const page = await open('#/operations?parent=projects/acme');
    await page.click('a[href="#/operation/projects/acme/operations/export-2"]');
    await page.locator('.detail-head h1').waitFor();
    expect(await page.textContent('.detail-head h1')).toBe('export-2');
    expect(await page.textContent('.detail-head .badge')).toBe('failed');
    const timeline = await page.locator('.timeline li .tl-label').allTextContents();
    expect(timeline).toEqual(['Created', 'Done']);
    expect(await page.textContent('.timeline li.tl-done .tl-detail')).toBe('FAILED_PRECONDITION: the bucket is locked');
    expect(await page.textContent('.error-line')).toContain('FAILED_PRECONDITION (9) the bucket is locked');

    // Foldable: the error's tree folds and unfolds.
    const errorTree = page.locator('section.card:has(h2:text-is("Error")) .json > .j-node');
    expect(await errorTree.getAttribute('class')).not.toContain('collapsed');
    await errorTree.locator('> .j-line > .j-toggle').click();
    expect(await errorTree.getAttribute('class')).toContain('collapsed');
    expect(await errorTree.locator('> .j-line > .j-summary').textContent()).toBe(' … 2 keys }');
    await errorTree.locator('> .j-line > .j-toggle').click();
    expect(await errorTree.getAttribute('class')).not.toContain('collapsed');

    await page.click('details.raw summary');
    const raw = JSON.parse((await page.textContent('pre[data-copy="Operation JSON"]'))!);
    expect(raw).toEqual({
      name: 'projects/acme/operations/export-2',
      done: true,
      error: { code: 9, message: 'the bucket is locked' },
    });
    expect(await page.textContent('pre[data-copy="CLI"]')).toBe(
      `longrun get projects/acme/operations/export-2 --endpoint ${server.url}`,
    );
    expect(await page.textContent('pre[data-copy="curl"]')).toBe(
      `curl -sS ${server.url}/v1/projects/acme/operations/export-2`,
    );
    // Copy works (a secure context on loopback, so the async clipboard API).
    await tab!.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.click('button[aria-label="Copy CLI"]');
    await expect
      .poll(() => page.evaluate('navigator.clipboard.readText()'))
      .toBe(`longrun get projects/acme/operations/export-2 --endpoint ${server.url}`);
  });

  it('updates the detail live while a provider works, without reloading', async () => {
    await server.createOperation('projects/live', 'job', { metadata: PROGRESS(5) });
    const page = await open('#/operation/projects/live/operations/job');
    await page.locator('.live[data-state="live"]').waitFor();
    await page.evaluate('window.__sameDocument = true');
    expect(await page.textContent('.detail-head .progress-label')).toBe('5%');

    await patch(server, 'projects/live/operations/job', { metadata: PROGRESS(70) }, 'metadata');
    await expect.poll(() => page.textContent('.detail-head .progress-label')).toBe('70%');
    expect(await page.textContent('section.card:has(h2:text-is("Metadata")) .j-num')).toBe('70');

    await patch(server, 'projects/live/operations/job', { done: true, response: RESULT });
    await expect.poll(() => page.textContent('.detail-head .badge')).toBe('succeeded');
    await page.locator('section.card:has(h2:text-is("Response"))').waitFor();
    await expect.poll(() => page.locator('.timeline li .tl-label').allTextContents()).toEqual(['Created', 'Done']);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
  });

  it('updates the list live: a new operation appears, and a provider completes it', async () => {
    const page = await open('#/operations?parent=projects/stream');
    await page.locator('.live[data-state="live"]').waitFor();
    await server.createOperation('projects/stream', 'first', { metadata: PROGRESS(0) });
    await expect.poll(() => rowNames(page)).toEqual(['projects/stream/operations/first']);
    await server.createOperation('projects/stream', 'second');
    await expect
      .poll(() => rowNames(page))
      .toEqual(['projects/stream/operations/second', 'projects/stream/operations/first']);
    await patch(server, 'projects/stream/operations/first', { metadata: PROGRESS(60) }, 'metadata');
    await expect
      .poll(() => page.locator('tr[data-name="projects/stream/operations/first"] .progress-label').textContent())
      .toBe('60%');
    await patch(server, 'projects/stream/operations/first', { done: true, error: { code: 13, message: 'disk full' } });
    await expect.poll(() => rowState(page, 'projects/stream/operations/first')).toBe('failed');
    await server.call('DELETE', '/v1/projects/stream/operations/second');
    await expect.poll(() => rowState(page, 'projects/stream/operations/second')).toBe('deleted');
  });

  it('falls back to polling where the server has no watch streams', async () => {
    await server.createOperation('projects/polled', 'job', { metadata: PROGRESS(5) });
    tab = await openConsole(browser);
    const { page } = tab;
    // As a store without an event log answers a watch.
    await page.route(/:watch(\?|$)/, (route) =>
      route.fulfill({
        status: 501,
        contentType: 'application/json',
        body: JSON.stringify({
          error: {
            code: 501,
            message: 'Watch streams and webhooks are not available on this store',
            status: 'UNIMPLEMENTED',
            details: [
              { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'NOT_SUPPORTED', domain: 'longrun' },
            ],
          },
        }),
      }),
    );
    await page.goto(`${server.url}/#/operation/projects/polled/operations/job`);
    await page.locator('.live[data-state="polling"]').waitFor();
    await patch(server, 'projects/polled/operations/job', { metadata: PROGRESS(55) }, 'metadata');
    await expect.poll(() => page.textContent('.detail-head .progress-label')).toBe('55%');

    await page.goto(`${server.url}/#/operations?parent=projects/polled`);
    await page.locator('.live[data-state="polling"]').waitFor();
    await server.createOperation('projects/polled', 'second');
    await expect
      .poll(() => rowNames(page), { timeout: 10_000 })
      .toEqual(['projects/polled/operations/second', 'projects/polled/operations/job']);
    tab.consoleErrors.length = 0;
  });

  it('cancels from the UI after a confirmation', async () => {
    await server.createOperation('projects/acme', 'to-cancel', { metadata: PROGRESS(30) });
    const page = await open('#/operation/projects/acme/operations/to-cancel');
    await page.locator('button[data-action="cancel"]').waitFor();
    // Backing out of the confirmation changes nothing.
    await page.click('button[data-action="cancel"]');
    await page.locator('dialog.confirm').waitFor();
    expect(await page.textContent('dialog.confirm h2')).toBe('Cancel this operation?');
    await page.click('dialog.confirm button:text("Keep it")');
    await expect.poll(() => page.locator('dialog.confirm').count()).toBe(0);
    let got = await server.call('GET', '/v1/projects/acme/operations/to-cancel');
    expect(got.headers.get('x-longrun-cancel-requested')).toBeNull();

    await page.click('button[data-action="cancel"]');
    await page.click('dialog.confirm button[data-confirm]');
    await expect.poll(() => page.textContent('.detail-head .badge')).toBe('cancel requested');
    got = await server.call('GET', '/v1/projects/acme/operations/to-cancel');
    expect(got.headers.get('x-longrun-cancel-requested')).toMatch(/Z$/);
    expect(await page.locator('button[data-action="cancel"]').count()).toBe(0);
    await expect.poll(() => page.locator('.timeline li .tl-label').allTextContents()).toContain('Cancel requested');

    // The provider acknowledges: the page follows.
    await patch(server, 'projects/acme/operations/to-cancel', { done: true, error: { code: 1, message: 'stopped' } });
    await expect.poll(() => page.textContent('.detail-head .badge')).toBe('cancelled');
  });

  it('deletes from the UI after a confirmation, and follows a delete made elsewhere', async () => {
    await server.createOperation('projects/acme', 'to-delete', { done: true, response: RESULT });
    const page = await open('#/operation/projects/acme/operations/to-delete');
    await page.click('button[data-action="delete"]');
    await page.locator('dialog.confirm').waitFor();
    expect(await page.textContent('dialog.confirm .confirm-body')).toContain('projects/acme/operations/to-delete');
    await page.click('dialog.confirm button[data-confirm]');
    await page.waitForURL(/#\/operations\?parent=projects%2Facme$/);
    expect(await page.textContent('.flash')).toBe('Deleted projects/acme/operations/to-delete.');
    expect((await server.call('GET', '/v1/projects/acme/operations/to-delete')).status).toBe(404);
    await page.locator('table.ops tbody tr[data-name]').first().waitFor();
    expect(await rowNames(page)).not.toContain('projects/acme/operations/to-delete');

    await server.createOperation('projects/acme', 'deleted-elsewhere');
    await page.goto(`${server.url}/#/operation/projects/acme/operations/deleted-elsewhere`);
    await page.locator('.live[data-state="live"]').waitFor();
    await server.call('DELETE', '/v1/projects/acme/operations/deleted-elsewhere');
    await expect.poll(() => page.textContent('.notice-slot')).toBe('This operation was deleted.');
    expect(await page.locator('button[data-action]').count()).toBe(0);
  });

  it('summarises a parent: counts by state (linked to the list) and a chart of created and finished', async () => {
    await server.createOperation('projects/sum', 'a', { done: true, response: RESULT });
    await server.createOperation('projects/sum', 'b', { done: true, error: { code: 2, message: 'boom' } });
    await server.createOperation('projects/sum', 'c');
    const page = await open('#/summary?parent=projects/sum');
    await page.locator('.count-card').first().waitFor();
    const counts = await page
      .locator('.count-card')
      .evaluateAll((cards) =>
        cards.map((card) => [
          card.querySelector('.count-label')?.textContent,
          card.querySelector('.count')?.textContent,
        ]),
      );
    expect(counts).toEqual([
      ['operations under projects/sum', '3'],
      ['running', '1'],
      ['cancel requested', '0'],
      ['succeeded', '1'],
      ['failed', '1'],
      ['cancelled', '0'],
    ]);
    expect(await page.locator('svg.chart rect.bar.created').count()).toBe(1);
    expect(await page.locator('svg.chart rect.bar.finished').count()).toBe(1);
    expect(await page.textContent('.chart-slot + .hint')).toContain('3 created and 2 finished');
    // Live: a new operation updates the counts.
    await page.locator('.live[data-state="live"]').waitFor();
    await server.createOperation('projects/sum', 'd');
    await expect.poll(() => page.textContent('.count-card.state-running .count')).toBe('2');
    await page.click('.count-card.state-failed');
    await page.waitForURL(/#\/operations\?/);
    await expect.poll(() => rowNames(page)).toEqual(['projects/sum/operations/b']);
    expect(await page.inputValue('input.filter-input')).toBe('error:* AND error.code != 1');
  });

  it('renders untrusted operation content as text: no markup, no script, no dialog', async () => {
    const evil = {
      '@type': 'type.googleapis.com/evil.Payload',
      note: '<img src=x onerror="window.__pwned=1;alert(1)">',
      html: '<script>window.__pwned=2;alert(2)</script>',
      '<b onmouseover=alert(3)>key</b>': 'javascript:alert(4)',
      percent: 50,
    };
    await server.createOperation('projects/evil', 'payload', { metadata: evil });
    await server.createOperation('projects/evil', 'failed', {
      done: true,
      error: { code: 3, message: '<svg/onload=alert(5)><iframe src="javascript:alert(6)"></iframe>' },
    });
    const page = await open('#/operations?parent=projects/evil');
    await page.locator('table.ops tbody tr[data-name]').first().waitFor();
    await page.click('a[href="#/operation/projects/evil/operations/payload"]');
    await page.locator('section.card:has(h2:text-is("Metadata")) .json').waitFor();
    const metadataText = await page.textContent('section.card:has(h2:text-is("Metadata")) .json');
    expect(metadataText).toContain('"<img src=x onerror=\\"window.__pwned=1;alert(1)\\">"');
    expect(metadataText).toContain('"<script>window.__pwned=2;alert(2)</script>"');
    expect(metadataText).toContain('"<b onmouseover=alert(3)>key</b>"');
    await page.click('details.raw summary');
    expect(await page.textContent('pre[data-copy="Operation JSON"]')).toContain('<img src=x onerror=');

    await page.goto(`${server.url}/#/operation/projects/evil/operations/failed`);
    await page.locator('.error-message').waitFor();
    expect(await page.textContent('.error-message')).toBe(
      '<svg/onload=alert(5)><iframe src="javascript:alert(6)"></iframe>',
    );
    expect(await page.textContent('.timeline li.tl-done .tl-detail')).toContain('<svg/onload=alert(5)>');
    await page.hover('.error-message');

    // Nothing from the content became an element, ran, or opened a dialog.
    expect(await page.locator('main img, main script, main iframe, main svg:not(.chart), main b').count()).toBe(0);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(tab!.dialogs).toEqual([]);
    // And the page refuses any HTML string, whatever code tries it (Trusted Types, from the CSP).
    const refused = await page.evaluate(`(() => {
      try { document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__pwned=7">'); return 'accepted'; }
      catch (error) { return error.name; }
    })()`);
    expect(refused).toBe('TypeError');
    expect(tab!.consoleErrors.join('\n')).toMatch(/TrustedHTML/);
    tab!.consoleErrors.length = 0;
    await page.waitForTimeout(200);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
  });
});
