/**
 * The console's entry point: who is signed in (`/auth/whoami`), the token sign-in when the server
 * requires one, the header, and the hash router:
 *
 *   #/operations?parent=…&filter=…&pageToken=…&pageSize=…   the list
 *   #/operation/{name}                                     one operation
 *   #/summary?parent=…&window=…                            counts and activity
 */
import { ApiFailure, api, session, setUnauthenticatedHandler } from './api.js';
import { app, errorMessage, type View } from './context.js';
import { detailView } from './detail-view.js';
import { h, mount } from './dom.js';
import { refreshTimes } from './format.js';
import { listView, readListParams } from './list-view.js';
import { summaryHash, summaryView, WINDOWS } from './summary-view.js';

const root = document.getElementById('app') as HTMLElement;
const main = h('main', { attrs: { id: 'main' } });
const nav = h('nav', { class: 'top-nav', attrs: { 'aria-label': 'Sections' } });
const who = h('div', { class: 'who' });
let current: AbortController | undefined;

function header(): HTMLElement {
  return h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '#/operations' }, h('span', { class: 'brand-mark', text: '◷' }), 'longrun'),
    nav,
    who,
  );
}

function renderChrome(section: 'operations' | 'summary' | 'signin'): void {
  const signedIn = app.identity !== undefined;
  const parent = new URLSearchParams(location.hash.split('?')[1] ?? '').get('parent') ?? undefined;
  mount(
    nav,
    signedIn
      ? h('a', {
          href: parent === undefined ? '#/operations' : `#/operations?${new URLSearchParams({ parent })}`,
          text: 'Operations',
          class: section === 'operations' ? 'active' : '',
        })
      : null,
    signedIn
      ? h('a', { href: summaryHash(parent), text: 'Summary', class: section === 'summary' ? 'active' : '' })
      : null,
  );
  const identity = app.identity;
  if (!identity) {
    mount(who);
    return;
  }
  const roles = [...new Set(identity.grants.map((grant) => grant.role))].join(', ');
  mount(
    who,
    identity.authEnabled
      ? h(
          'span',
          {
            class: 'principal',
            title: identity.grants.map((g) => `${g.role} on ${[g.resources].flat().join(', ')}`).join('\n'),
          },
          h('span', { class: 'principal-name', text: identity.principal }),
          roles ? h('span', { class: 'role', text: roles }) : null,
        )
      : h('span', { class: 'principal muted', text: 'no authentication (local server)' }),
    identity.authEnabled
      ? h('button', {
          class: 'link',
          text: 'Sign out',
          attrs: { type: 'button' },
          on: {
            click: () => {
              session.token = undefined;
              app.identity = undefined;
              app.parents = undefined;
              void signIn('Signed out.');
            },
          },
        })
      : null,
  );
}

function newView(): View {
  current?.abort();
  current = new AbortController();
  // Each view renders into its own element: a view that is still finishing after the reader moved
  // on writes into a detached one.
  const root = h('div', { class: 'view' });
  mount(main, root);
  return { root, signal: current.signal };
}

async function route(): Promise<void> {
  if (!app.identity) return;
  const hash = location.hash.replace(/^#/, '') || '/operations';
  const [path = '', search = ''] = hash.split('?', 2);
  const query = new URLSearchParams(search);
  const view = newView();
  window.scrollTo(0, 0);
  try {
    if (path.startsWith('/operation/')) {
      renderChrome('operations');
      await detailView(view, decodeURIComponent(path.slice('/operation/'.length)));
    } else if (path === '/summary') {
      renderChrome('summary');
      const seconds = Number(query.get('window'));
      await summaryView(
        view,
        query.get('parent') ?? undefined,
        WINDOWS.some((w) => w.seconds === seconds) ? seconds : 86_400,
      );
    } else {
      renderChrome('operations');
      await listView(view, readListParams(query));
    }
  } catch (error) {
    if (!view.signal.aborted && !(error instanceof ApiFailure && error.status === 401)) {
      mount(view.root, h('div', { class: 'error', attrs: { role: 'alert' }, text: errorMessage(error) }));
    }
  }
}

/** The sign-in form; `message` says why it is shown. */
async function signIn(message?: string): Promise<void> {
  const view = newView();
  renderChrome('signin');
  const input = h('input', {
    attrs: {
      type: 'password',
      name: 'token',
      autocomplete: 'current-password',
      required: true,
      placeholder: 'Bearer token or API key',
      'aria-label': 'Token',
    },
  });
  const error = h('div', { class: 'form-error', attrs: { role: 'alert' } });
  if (message) error.textContent = message;
  const form = h(
    'form',
    { class: 'card signin' },
    h('h1', { text: 'Sign in to longrun' }),
    h('p', {
      class: 'hint',
      text: 'This server requires credentials. Paste a token (one of your principal’s secrets); it stays in this tab only (sessionStorage).',
    }),
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: 'Token' }), input),
    error,
    h('button', { class: 'primary', text: 'Sign in', attrs: { type: 'submit' } }),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (token === '') return;
    session.token = token;
    try {
      app.identity = await api.whoami(undefined, true);
      app.parents = undefined;
      await route();
    } catch (failure) {
      session.token = undefined;
      error.textContent =
        failure instanceof ApiFailure && failure.status === 401
          ? 'That token is not valid here.'
          : `Sign-in failed: ${errorMessage(failure)}`;
      input.select();
    }
  });
  mount(view.root, form);
  input.focus();
}

setUnauthenticatedHandler(() => {
  const hadSession = session.token !== undefined;
  session.token = undefined;
  app.identity = undefined;
  void signIn(hadSession ? 'Your token is no longer accepted; sign in again.' : undefined);
});

async function boot(): Promise<void> {
  mount(root, header(), main);
  try {
    app.identity = await api.whoami(undefined, true);
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 401) {
      const had = session.token !== undefined;
      session.token = undefined;
      await signIn(had ? 'Your token is no longer accepted; sign in again.' : undefined);
      return;
    }
    mount(
      main,
      h('div', { class: 'error', attrs: { role: 'alert' }, text: `Cannot reach the server: ${errorMessage(error)}` }),
    );
    return;
  }
  await route();
}

window.addEventListener('hashchange', () => void route());
setInterval(() => refreshTimes(), 15_000);
void boot();
