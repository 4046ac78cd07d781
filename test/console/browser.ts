/**
 * The console's browser tests drive Debian's chromium (scripts/ensure-chromium.sh installs it)
 * with playwright-core; no browser is ever downloaded. Without chromium the tests skip with a
 * message naming the script, except under CI (CI=true), where they fail.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { CONSOLE_UI_DIR } from '../../packages/server/src/console/assets.js';

export const CHROMIUM = process.env.LONGRUN_CHROMIUM ?? '/usr/bin/chromium';

/** True when the browser tests cannot run here (and are skipped, with a message). */
export const NO_BROWSER = !existsSync(CHROMIUM);

if (NO_BROWSER) {
  const message = `${CHROMIUM} is missing: run scripts/ensure-chromium.sh (as root, it installs Debian's chromium)`;
  if (process.env.CI === 'true') throw new Error(`console browser tests cannot run under CI: ${message}`);
  console.warn(`SKIPPING the console's browser tests: ${message}`);
}

if (!existsSync(join(CONSOLE_UI_DIR, 'main.js'))) {
  throw new Error(`the console's scripts are not built (${CONSOLE_UI_DIR}): run npx tsc -b first`);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A page in a fresh context (its own sessionStorage), recording what must never happen. */
export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page. */
  errors: string[];
  /** alert/confirm/prompt dialogs the page opened (the console never uses them). */
  dialogs: string[];
  /** Console messages of type error (CSP violations are reported there). */
  consoleErrors: string[];
  close(): Promise<void>;
}

export async function openConsole(
  browser: Browser,
  options: { width?: number; height?: number } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1200, height: options.height ?? 760 },
    deviceScaleFactor: 1,
    // Fixed so screenshots do not depend on the machine.
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  return { context, page, errors, dialogs, consoleErrors, close: () => context.close() };
}
