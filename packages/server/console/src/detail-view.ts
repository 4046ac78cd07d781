/**
 * One operation: its state, progress and timeline; metadata and the response or error as foldable
 * JSON; the raw JSON with copyable CLI and curl commands; cancel and delete (with confirmation,
 * shown only to callers who may); and live updates from the operation's watch stream.
 */
import { ApiFailure, api, call, namePath, type Operation, type Times } from './api.js';
import { parentLabel } from './chooser.js';
import { app, debounce, errorMessage, every, go, liveIndicator, type View } from './context.js';
import { type Child, confirmDialog, copyText, h, mount } from './dom.js';
import {
  badge,
  codeName,
  metadataTimes,
  progressBar,
  progressOf,
  shellQuote,
  splitName,
  stateOf,
  timeElement,
  typeName,
} from './format.js';
import { jsonTree, parseExact, prettyJson } from './json-view.js';
import { listHash } from './list-view.js';
import { watch } from './watch.js';

function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', { text: title }), ...children);
}

function copyable(label: string, text: string): HTMLElement {
  const button = h('button', { class: 'copy', text: 'Copy', attrs: { type: 'button', 'aria-label': `Copy ${label}` } });
  button.addEventListener('click', async () => {
    const copied = await copyText(text);
    button.textContent = copied ? 'Copied' : 'Select and copy';
    setTimeout(() => {
      button.textContent = 'Copy';
    }, 1500);
  });
  return h(
    'div',
    { class: 'command' },
    h('div', { class: 'command-head' }, h('span', { text: label }), button),
    h('pre', { class: 'code', data: { copy: label } }, text),
  );
}

export async function detailView(view: View, name: string): Promise<void> {
  const { parent, id } = splitName(name);
  const live = liveIndicator();
  const head = h('div', { class: 'detail-head' });
  const actions = h('div', { class: 'actions' });
  const notice = h('div', { class: 'notice-slot' });
  const timeline = h('div');
  const metadata = h('div');
  const result = h('div');
  const raw = h('div');
  const commands = h('div');
  const folds = { metadata: new Set<string>(), result: new Set<string>() };

  mount(
    view.root,
    h(
      'nav',
      { class: 'crumbs' },
      h('a', { href: listHashFor(parent), text: 'Operations' }),
      ' › ',
      h('a', { href: listHashFor(parent), text: parentLabel(parent) }),
      ' › ',
      h('span', { text: id }),
    ),
    h('div', { class: 'detail-top' }, head, h('div', { class: 'detail-side' }, live.element, actions)),
    notice,
    h(
      'div',
      { class: 'detail-grid' },
      h('div', { class: 'detail-main' }, metadata, result, raw),
      h('div', { class: 'detail-aside' }, timeline, commands),
    ),
  );

  let operation: Operation | undefined;
  let rawText = '';
  let times: Times | undefined;
  let cancelRequested: string | undefined;
  let permissions = new Set<string>();
  let gone = false;
  let busy = false;

  const render = () => {
    if (!operation) return;
    const state = stateOf(operation, (times?.cancelRequestTime ?? cancelRequested) !== undefined && !operation.done);
    const progress = operation.done ? undefined : progressOf(operation.metadata);
    mount(
      head,
      h('h1', { class: 'op-title', title: name }, h('span', { class: 'op-title-id', text: id })),
      h(
        'div',
        { class: 'head-badges' },
        gone ? h('span', { class: 'badge state-deleted', text: 'deleted' }) : badge(state),
        progress ? progressBar(progress) : null,
        operation.metadata ? h('span', { class: 'type-cell', text: typeName(operation.metadata) ?? '' }) : null,
      ),
      h('div', { class: 'op-fullname', text: name }),
    );

    const canCancel = !gone && !operation.done && permissions.has('cancel') && state !== 'cancel-requested';
    const canDelete = !gone && permissions.has('delete');
    mount(
      actions,
      canCancel
        ? h('button', {
            class: 'warn',
            text: 'Cancel…',
            attrs: { type: 'button', disabled: busy },
            data: { action: 'cancel' },
            on: { click: () => void cancel() },
          })
        : null,
      canDelete
        ? h('button', {
            class: 'danger',
            text: 'Delete…',
            attrs: { type: 'button', disabled: busy },
            data: { action: 'delete' },
            on: { click: () => void remove() },
          })
        : null,
    );

    // Timeline: what the server recorded, else what metadata says.
    const fromMetadata = metadataTimes(operation.metadata);
    const events: { label: string; time: string | undefined; detail?: string; kind: string }[] = [
      { label: 'Created', time: times?.createTime ?? fromMetadata.createTime, kind: 'created' },
    ];
    const cancelTime = times?.cancelRequestTime ?? cancelRequested;
    if (cancelTime) events.push({ label: 'Cancel requested', time: cancelTime, kind: 'cancel' });
    const updated = times?.updateTime ?? fromMetadata.updateTime;
    const created = times?.createTime ?? fromMetadata.createTime;
    if (updated && updated !== created && !operation.done)
      events.push({ label: 'Last updated', time: updated, kind: 'updated' });
    if (operation.done) {
      const outcome = operation.error
        ? `${codeName(operation.error.code)}${operation.error.message ? `: ${operation.error.message}` : ''}`
        : 'succeeded';
      events.push({ label: 'Done', time: times?.doneTime ?? updated, detail: outcome, kind: 'done' });
    } else {
      events.push({ label: 'Done', time: undefined, detail: 'not yet', kind: 'pending' });
    }
    events.sort((a, b) => (a.time && b.time ? Date.parse(a.time) - Date.parse(b.time) : a.time ? -1 : 1));
    mount(
      timeline,
      section(
        'Timeline',
        h(
          'ol',
          { class: 'timeline' },
          ...events.map((event) =>
            h(
              'li',
              { class: `tl-${event.kind}` },
              h('span', { class: 'tl-label', text: event.label }),
              event.time ? timeElement(event.time) : null,
              event.time ? h('span', { class: 'tl-exact', text: new Date(event.time).toISOString() }) : null,
              event.detail ? h('span', { class: 'tl-detail', text: event.detail }) : null,
            ),
          ),
        ),
        times ? null : h('p', { class: 'hint', text: 'Times from metadata; the server did not say.' }),
      ),
    );

    const exact = parseExact(rawText) as Record<string, unknown>;
    mount(
      metadata,
      section(
        'Metadata',
        exact.metadata === undefined
          ? h('p', { class: 'muted', text: 'No metadata.' })
          : jsonTree(exact.metadata, folds.metadata),
      ),
    );
    if (operation.error) {
      mount(
        result,
        section(
          'Error',
          h(
            'p',
            { class: 'error-line' },
            h('span', { class: 'code-name', text: codeName(operation.error.code) }),
            ` (${operation.error.code ?? 0}) `,
            h('span', { class: 'error-message', text: operation.error.message ?? '' }),
          ),
          jsonTree(exact.error, folds.result),
        ),
      );
    } else if (exact.response !== undefined) {
      mount(result, section('Response', jsonTree(exact.response, folds.result)));
    } else {
      mount(
        result,
        section(
          'Result',
          h('p', { class: 'muted', text: operation.done ? 'Done, without a response.' : 'Not done yet.' }),
        ),
      );
    }
    const pretty = prettyJson(rawText);
    mount(
      raw,
      h(
        'section',
        { class: 'card' },
        h('details', { class: 'raw' }, h('summary', { text: 'Raw JSON' }), copyable('Operation JSON', pretty)),
      ),
    );
    const endpoint = location.origin;
    const auth = app.identity?.authEnabled === true;
    // The CLI reads LONGRUN_TOKEN from the environment by itself.
    const cli = `longrun get ${shellQuote(name)} --endpoint ${shellQuote(endpoint)}`;
    const curl = `curl -sS${auth ? ' -H "Authorization: Bearer $LONGRUN_TOKEN"' : ''} ${shellQuote(`${endpoint}/v1/${namePath(name)}`)}`;
    mount(
      commands,
      section(
        'Commands',
        copyable('CLI', cli),
        copyable('curl', curl),
        auth
          ? h('p', {
              class: 'hint',
              text: 'Both read your token from LONGRUN_TOKEN: export it first (the console never shows it).',
            })
          : null,
      ),
    );
  };

  const showNotice = (text: string, kind: 'error' | 'info' = 'error') =>
    mount(notice, h('div', { class: kind === 'error' ? 'error' : 'flash', attrs: { role: 'alert' }, text }));

  const markGone = () => {
    gone = true;
    live.set('off');
    showNotice('This operation was deleted.', 'info');
    render();
  };

  const loadTimes = async () => {
    try {
      times = (await api.times([name]))[name] ?? times;
    } catch {
      // Keep the previous times.
    }
  };
  const refreshTimes = debounce(() => void loadTimes().then(render), 150, view.signal);

  const load = async () => {
    const got = await call<Operation>('GET', `/v1/${namePath(name)}`);
    operation = got.body;
    rawText = got.text;
    cancelRequested = got.headers.get('x-longrun-cancel-requested') ?? undefined;
    await loadTimes();
  };

  async function cancel(): Promise<void> {
    const confirmed = await confirmDialog({
      title: 'Cancel this operation?',
      body: [
        h('p', null, 'The provider is asked to stop ', h('code', { text: name }), '.'),
        h('p', {
          class: 'hint',
          text: 'It may still finish; if it does not acknowledge, the server ends it as cancelled.',
        }),
      ],
      confirm: 'Cancel operation',
    });
    if (!confirmed || view.signal.aborted) return;
    busy = true;
    render();
    try {
      await api.cancel(name);
      await load();
    } catch (error) {
      showNotice(`Cancel failed: ${errorMessage(error)}`);
    } finally {
      busy = false;
      render();
    }
  }

  async function remove(): Promise<void> {
    const confirmed = await confirmDialog({
      title: 'Delete this operation?',
      body: [
        h('p', null, 'This removes ', h('code', { text: name }), ' and its result for good.'),
        operation?.done
          ? null
          : h('p', { class: 'hint', text: 'It is not done: its consumers will no longer find it.' }),
      ],
      confirm: 'Delete',
      danger: true,
    });
    if (!confirmed || view.signal.aborted) return;
    busy = true;
    render();
    try {
      await api.delete(name);
      app.flash = `Deleted ${name}.`;
      go(listHashFor(parent));
    } catch (error) {
      busy = false;
      showNotice(`Delete failed: ${errorMessage(error)}`);
      render();
    }
  }

  try {
    const [, me] = await Promise.all([load(), api.whoami(name).catch(() => undefined)]);
    permissions = new Set(me?.permissions ?? []);
  } catch (error) {
    if (view.signal.aborted) return;
    live.set('off');
    if (error instanceof ApiFailure && error.status === 404) {
      mount(head, h('h1', { class: 'op-title', text: id }));
      showNotice(`Operation ${name} not found.`);
    } else {
      showNotice(errorMessage(error));
    }
    return;
  }
  if (view.signal.aborted) return;
  render();

  const poll = async () => {
    if (gone) return;
    try {
      await load();
      render();
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 404) markGone();
    }
  };
  watch(
    `/v1/${namePath(name)}:watch`,
    {},
    {
      onEvent(event) {
        if (event.type === 'deleted') {
          markGone();
          return;
        }
        try {
          operation = JSON.parse(event.data) as Operation;
          rawText = event.data;
        } catch {
          return;
        }
        if (event.type === 'cancel_requested' && !cancelRequested) cancelRequested = new Date().toISOString();
        render();
        refreshTimes();
      },
      onStatus(status) {
        if (!gone) live.set(status === 'live' ? 'live' : 'connecting');
      },
      onUnsupported() {
        live.set('polling');
        every(2000, () => void poll(), view.signal);
      },
      onReset() {
        void poll();
      },
      onGone() {
        markGone();
      },
    },
    view.signal,
  );
}

function listHashFor(parent: string): string {
  return listHash({ parent });
}
