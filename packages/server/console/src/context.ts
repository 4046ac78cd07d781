/** What every view shares: who is signed in, the known parents, navigation, and a flash message. */
import { api, type ParentsResponse, type Whoami } from './api.js';
import { h } from './dom.js';

export interface View {
  /** The element the view renders into. */
  root: HTMLElement;
  /** Aborted when the reader leaves the view: streams and timers stop on it. */
  signal: AbortSignal;
}

export const app = {
  identity: undefined as Whoami | undefined,
  parents: undefined as Promise<ParentsResponse | undefined> | undefined,
  /** A message shown once on the next page (after a delete, for example). */
  flash: undefined as string | undefined,
};

/** The parents there are, loaded once per page load (and again on demand). */
export function knownParents(reload = false): Promise<ParentsResponse | undefined> {
  if (reload || !app.parents) app.parents = api.parents().catch(() => undefined);
  return app.parents;
}

/** Parents suggested by the principal's grants (`projects/acme/**` suggests `projects/acme`). */
export function grantParents(): string[] {
  const out = new Set<string>();
  for (const grant of app.identity?.grants ?? []) {
    for (const pattern of Array.isArray(grant.resources) ? grant.resources : [grant.resources]) {
      const segments = pattern.split('/');
      const fixed: string[] = [];
      for (const segment of segments) {
        if (segment === '**' || segment === 'operations') break;
        fixed.push(segment === '*' ? '-' : segment);
      }
      if (fixed.length > 0 && fixed.length % 2 === 0) out.add(fixed.join('/'));
    }
  }
  return [...out];
}

/** Navigates to a console route (`#/…`). */
export function go(hash: string): void {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

export function routeHash(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, value);
  const search = query.toString();
  return `#${path}${search === '' ? '' : `?${search}`}`;
}

/** A status line for a view's live updates: live (watch), polling, or reconnecting. */
export function liveIndicator(): { element: HTMLElement; set(state: 'live' | 'polling' | 'connecting' | 'off'): void } {
  const element = h('span', { class: 'live', attrs: { role: 'status' } });
  const labels = { live: 'live', polling: 'polling', connecting: 'connecting…', off: 'not live' };
  const titles = {
    live: 'Updates arrive as they happen (watch stream)',
    polling: 'This server has no watch stream here; the view refreshes every few seconds',
    connecting: 'Connecting to the watch stream',
    off: 'Live updates are off',
  };
  return {
    element,
    set(state) {
      element.textContent = labels[state];
      element.title = titles[state];
      element.dataset.state = state;
    },
  };
}

/** A debounced call: many requests within `ms` make one call. */
export function debounce(fn: () => void, ms: number, signal: AbortSignal): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  return () => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!signal.aborted) fn();
    }, ms);
  };
}

/** Runs `fn` every `ms` until the view closes. */
export function every(ms: number, fn: () => void, signal: AbortSignal): void {
  const timer = setInterval(() => {
    if (!signal.aborted) fn();
  }, ms);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}

/** A user-facing line for an error. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
