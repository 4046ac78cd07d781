/** The console with auth on, in chromium: the token sign-in, and actions shown only to roles that may take them. */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestSecret } from '../../packages/server/src/auth/access.js';
import { startTestServer, type TestServer } from '../helpers.js';
import { type ConsolePage, launchBrowser, NO_BROWSER, openConsole } from './browser.js';

const TOKENS = { admin: 'admin-secret-token', viewer: 'viewer-secret-token', provider: 'provider-secret-token' };

describe.skipIf(NO_BROWSER)('the web console with auth on', () => {
  let server: TestServer;
  let browser: Browser;
  let tab: ConsolePage | undefined;
  const admin = { authorization: `Bearer ${TOKENS.admin}` };

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      startTestServer({
        cancelGracePeriodMs: 60_000,
        auth: {
          principals: [
            {
              name: 'ops-admin',
              secrets: [digestSecret(TOKENS.admin)],
              grants: [{ role: 'admin', resources: 'projects/acme/**' }],
            },
            {
              name: 'dashboard',
              secrets: [digestSecret(TOKENS.viewer)],
              grants: [{ role: 'viewer', resources: 'projects/acme/**' }],
            },
            {
              name: 'exporter',
              secrets: [digestSecret(TOKENS.provider)],
              grants: [{ role: 'provider', resources: 'projects/acme/**' }],
            },
          ],
        },
      }),
      launchBrowser(),
    ]);
    for (const id of ['job-1', 'job-2']) {
      const response = await server.call('POST', '/v1/projects/acme/operations', { operationId: id }, admin);
      expect(response.status).toBe(200);
    }
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  afterEach(async () => {
    if (!tab) return;
    const { errors, dialogs } = tab;
    await tab.close();
    tab = undefined;
    expect(errors).toEqual([]);
    expect(dialogs).toEqual([]);
  });

  async function signIn(token: string, hash = '') {
    tab = await openConsole(browser);
    const { page } = tab;
    await page.goto(`${server.url}/${hash}`);
    await page.locator('form.signin').waitFor();
    await page.fill('form.signin input[name=token]', token);
    await page.click('form.signin button[type=submit]');
    return page;
  }

  it('asks for a token, refuses a wrong one, and keeps a good one in this tab only', async () => {
    const page = await signIn('not-a-token');
    await expect.poll(() => page.textContent('form.signin .form-error')).toBe('That token is not valid here.');
    expect(await page.evaluate(`sessionStorage.getItem('longrun.console.token')`)).toBeNull();

    await page.fill('form.signin input[name=token]', TOKENS.viewer);
    await page.click('form.signin button[type=submit]');
    await page.locator('table.ops tbody tr[data-name]').first().waitFor();
    expect(await page.textContent('.principal-name')).toBe('dashboard');
    expect(await page.textContent('.principal .role')).toBe('viewer');
    // The parent the viewer may list, chosen for it.
    expect(await page.inputValue('input.parent-input')).toBe('projects/acme');
    expect(await page.evaluate(`sessionStorage.getItem('longrun.console.token')`)).toBe(TOKENS.viewer);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    // A reload stays signed in (same tab); a new tab does not.
    await page.reload();
    await page.locator('table.ops tbody tr[data-name]').first().waitFor();
    const other = await tab!.context.newPage();
    await other.goto(`${server.url}/`);
    await other.locator('form.signin').waitFor();
    await other.close();
    // Signing out forgets the token.
    await page.click('button:text("Sign out")');
    await page.locator('form.signin').waitFor();
    expect(await page.evaluate(`sessionStorage.getItem('longrun.console.token')`)).toBeNull();
  });

  it('hides cancel and delete from a viewer and a provider, and shows them to an admin', async () => {
    const detail = '#/operation/projects/acme/operations/job-1';
    for (const role of ['viewer', 'provider'] as const) {
      const page = await signIn(TOKENS[role], detail);
      await page.locator('.detail-head .badge').waitFor();
      await page.locator('.live[data-state="live"]').waitFor();
      expect(await page.locator('button[data-action]').count(), role).toBe(0);
      // The commands name the token without ever showing it.
      const curl = await page.textContent('pre[data-copy="curl"]');
      expect(curl).toContain('-H "Authorization: Bearer $LONGRUN_TOKEN"');
      expect(await page.textContent('body')).not.toContain(TOKENS[role]);
      await tab!.close();
      tab = undefined;
    }

    const page = await signIn(TOKENS.admin, detail);
    await page.locator('button[data-action="cancel"]').waitFor();
    expect(await page.locator('button[data-action="delete"]').count()).toBe(1);
    expect(await page.textContent('.principal .role')).toBe('admin');
    await page.click('button[data-action="cancel"]');
    await page.click('dialog.confirm button[data-confirm]');
    await expect.poll(() => page.textContent('.detail-head .badge')).toBe('cancel requested');
    const got = await server.call('GET', '/v1/projects/acme/operations/job-1', undefined, admin);
    expect(got.headers.get('x-longrun-cancel-requested')).toMatch(/Z$/);
  });

  it('returns to the sign-in when the token stops being accepted', async () => {
    const page = await signIn(TOKENS.viewer, '#/operations?parent=projects/acme');
    await page.locator('table.ops tbody tr[data-name]').first().waitFor();
    await page.evaluate(`sessionStorage.setItem('longrun.console.token', 'revoked')`);
    await page.click('.chips button:text-is("running")');
    await page.locator('form.signin').waitFor();
    expect(await page.textContent('form.signin .form-error')).toBe('Your token is no longer accepted; sign in again.');
  });
});
