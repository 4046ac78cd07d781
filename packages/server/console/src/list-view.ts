/**
 * The operations list: one page at a time through the API (never everything), newest first, with
 * the parent chooser, the AIP-160 filter box (errors inline, at their column), state badges,
 * progress bars and relative times, and live updates from the collection's watch stream.
 */
import { ApiFailure, api, collectionPath, type Operation, type Times } from './api.js';
import { parentChooser, parentLabel } from './chooser.js';
import {
  app,
  debounce,
  errorMessage,
  every,
  go,
  grantParents,
  knownParents,
  liveIndicator,
  routeHash,
  type View,
} from './context.js';
import { h, mount } from './dom.js';
import {
  badge,
  operationTimes,
  progressBar,
  progressOf,
  STATE_FILTERS,
  STATE_LABELS,
  type State,
  splitName,
  stateOf,
  timeElement,
  typeName,
} from './format.js';
import { watch } from './watch.js';

const PAGE_SIZES = [25, 50, 100, 200];
const DEFAULT_PAGE_SIZE = 50;

/** Page tokens of the pages before the current one, per list (parent, filter, size), for "Newer". */
const history = new Map<string, string[]>();

export interface ListParams {
  parent: string | undefined;
  filter: string;
  pageToken: string | undefined;
  pageSize: number;
}

export function listHash(params: Partial<ListParams> & { parent: string }): string {
  return routeHash('/operations', {
    parent: params.parent,
    filter: params.filter || undefined,
    pageToken: params.pageToken,
    pageSize: params.pageSize && params.pageSize !== DEFAULT_PAGE_SIZE ? String(params.pageSize) : undefined,
  });
}

export function readListParams(query: URLSearchParams): ListParams {
  const size = Number(query.get('pageSize'));
  return {
    parent: query.get('parent') ?? undefined,
    filter: query.get('filter') ?? '',
    pageToken: query.get('pageToken') ?? undefined,
    pageSize: PAGE_SIZES.includes(size) ? size : DEFAULT_PAGE_SIZE,
  };
}

/** The parent to show when the route names none: the most recently active one the caller may list. */
async function defaultParent(): Promise<string | undefined> {
  const known = await knownParents();
  return known?.parents[0]?.parent ?? grantParents()[0];
}

/** The filter text with a caret under the column the server named. */
function filterErrorView(filter: string, failure: ApiFailure): HTMLElement {
  const description = failure.violation?.description ?? failure.message;
  const column = Number(/column (\d+)/.exec(description)?.[1]);
  const parts: (HTMLElement | string)[] = [h('strong', { text: 'Invalid filter: ' }), description];
  const box = h('div', { class: 'filter-error', attrs: { role: 'alert' } }, ...parts);
  if (Number.isInteger(column) && column >= 1 && column <= filter.length + 1) {
    box.appendChild(h('pre', { class: 'caret' }, `${filter}\n${' '.repeat(column - 1)}^`));
  }
  return box;
}

export async function listView(view: View, params: ListParams): Promise<void> {
  const parent = params.parent ?? (await defaultParent());
  if (view.signal.aborted) return;
  const key = `${parent}|${params.filter}|${params.pageSize}`;
  const previous = history.get(key) ?? [];
  if (!params.pageToken) previous.length = 0;
  history.set(key, previous);

  const filterInput = h('input', {
    class: 'filter-input',
    attrs: {
      type: 'search',
      name: 'filter',
      placeholder: 'AIP-160 filter, e.g. done = false AND metadata.percent >= 50',
      spellcheck: false,
      autocomplete: 'off',
      'aria-label': 'Filter',
    },
  });
  filterInput.value = params.filter;
  const apply = (filter: string) => {
    if (parent === undefined) return;
    go(listHash({ parent, filter, pageSize: params.pageSize }));
  };
  const filterForm = h(
    'form',
    {
      class: 'filter-form',
      on: {
        submit: (event) => {
          event.preventDefault();
          apply(filterInput.value.trim());
        },
      },
    },
    filterInput,
    h('button', { class: 'primary', text: 'Apply', attrs: { type: 'submit' } }),
  );
  const chips = h(
    'div',
    { class: 'chips', attrs: { role: 'group', 'aria-label': 'Quick filters' } },
    h('button', {
      class: params.filter === '' ? 'chip active' : 'chip',
      text: 'all',
      attrs: { type: 'button' },
      on: { click: () => apply('') },
    }),
    ...(Object.keys(STATE_FILTERS) as State[]).map((state) =>
      h('button', {
        class: params.filter === STATE_FILTERS[state] ? `chip active state-${state}` : `chip state-${state}`,
        text: STATE_LABELS[state],
        title: STATE_FILTERS[state],
        attrs: { type: 'button' },
        on: { click: () => apply(STATE_FILTERS[state]) },
      }),
    ),
  );
  const sizeSelect = h(
    'select',
    {
      attrs: { 'aria-label': 'Page size', name: 'pageSize' },
      on: {
        change: () => {
          if (parent !== undefined) go(listHash({ parent, filter: params.filter, pageSize: Number(sizeSelect.value) }));
        },
      },
    },
    ...PAGE_SIZES.map((size) =>
      h('option', { text: `${size} per page`, attrs: { value: size, selected: size === params.pageSize } }),
    ),
  );
  const live = liveIndicator();
  const chooser = parentChooser(parent ?? '', (chosen) => go(listHash({ parent: chosen, filter: params.filter })));
  const errorSlot = h('div', { class: 'error-slot' });
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'ops' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { text: 'State' }),
        h('th', { text: 'Operation' }),
        h('th', { text: 'Progress' }),
        h('th', { text: 'Metadata' }),
        h('th', { text: 'Created' }),
        h('th', { text: 'Updated' }),
      ),
    ),
    body,
  );
  const pager = h('div', { class: 'pager' });
  const tableWrap = h('div', { class: 'table-wrap' }, table);
  const newer = h('div', { class: 'newer-slot', attrs: { role: 'status' } });
  const flash = app.flash ? h('div', { class: 'flash', attrs: { role: 'status' }, text: app.flash }) : null;
  app.flash = undefined;

  mount(
    view.root,
    h(
      'section',
      { class: 'toolbar' },
      h('div', { class: 'toolbar-row' }, chooser, sizeSelect, live.element),
      filterForm,
      chips,
      errorSlot,
    ),
    flash,
    newer,
    tableWrap,
    pager,
  );

  if (parent === undefined) {
    mount(
      errorSlot,
      h('p', { class: 'empty', text: 'No operations yet. Choose a parent above once a provider has created some.' }),
    );
    live.set('off');
    return;
  }

  const operations: Operation[] = [];
  const times = new Map<string, Times>();
  const deleted = new Set<string>();
  const fresh = new Set<string>();
  const rows = new Map<string, HTMLTableRowElement>();
  const wildcard = parent.split('/').includes('-');

  const row = (operation: Operation): HTMLTableRowElement => {
    const recorded = times.get(operation.name);
    const when = operationTimes(operation, recorded);
    const gone = deleted.has(operation.name);
    const state = stateOf(operation, recorded?.cancelRequestTime !== undefined);
    const progress = operation.done ? undefined : progressOf(operation.metadata);
    const { parent: opParent, id } = splitName(operation.name);
    const link = h(
      'a',
      { href: `#/operation/${operation.name}`, class: 'op-link', title: operation.name },
      h('span', { class: 'op-id', text: id }),
    );
    if (wildcard) link.appendChild(h('span', { class: 'op-parent', text: parentLabel(opParent) }));
    const classes = [gone ? 'deleted' : '', fresh.has(operation.name) ? 'fresh' : ''].filter(Boolean).join(' ');
    return h(
      'tr',
      { class: classes, data: { name: operation.name, state: gone ? 'deleted' : state } },
      h('td', null, gone ? h('span', { class: 'badge state-deleted', text: 'deleted' }) : badge(state)),
      h('td', { class: 'name-cell' }, link),
      h('td', null, progress ? progressBar(progress) : null),
      h('td', {
        class: 'type-cell',
        text: typeName(operation.metadata) ?? '',
        title: String(operation.metadata?.['@type'] ?? ''),
      }),
      h('td', null, timeElement(when.createTime)),
      h('td', null, timeElement(operation.done ? (recorded?.doneTime ?? when.updateTime) : when.updateTime)),
    );
  };

  const renderRow = (name: string) => {
    const operation = operations.find((op) => op.name === name);
    const old = rows.get(name);
    if (!operation || !old) return;
    const next = row(operation);
    old.replaceWith(next);
    rows.set(name, next);
  };

  const renderAll = () => {
    rows.clear();
    const elements = operations.map((operation) => {
      const element = row(operation);
      rows.set(operation.name, element);
      return element;
    });
    if (elements.length === 0) {
      mount(body, h('tr', null, h('td', { attrs: { colspan: 6 }, class: 'empty', text: 'No operations match.' })));
    } else mount(body, ...elements);
  };

  const pending = new Set<string>();
  const refreshTimes = debounce(
    () => {
      const names = [...pending];
      pending.clear();
      api.times(names).then(
        (got) => {
          for (const [name, value] of Object.entries(got)) times.set(name, value);
          for (const name of names) renderRow(name);
        },
        () => {},
      );
    },
    150,
    view.signal,
  );

  let result: Awaited<ReturnType<typeof api.list>>;
  try {
    result = await api.list(parent, { filter: params.filter, pageSize: params.pageSize, pageToken: params.pageToken });
  } catch (error) {
    if (view.signal.aborted) return;
    live.set('off');
    if (error instanceof ApiFailure && error.violation?.field === 'filter') {
      mount(errorSlot, filterErrorView(params.filter, error));
      filterInput.classList.add('invalid');
      filterInput.setAttribute('aria-invalid', 'true');
    } else {
      mount(errorSlot, h('div', { class: 'error', attrs: { role: 'alert' }, text: errorMessage(error) }));
    }
    mount(body);
    tableWrap.classList.add('hidden');
    pager.classList.add('hidden');
    return;
  }
  if (view.signal.aborted) return;
  operations.push(...(result.operations ?? []));
  renderAll();
  try {
    const got = await api.times(operations.map((op) => op.name));
    for (const [name, value] of Object.entries(got)) times.set(name, value);
    renderAll();
  } catch {
    // Relative times fall back to metadata's createTime/updateTime.
  }
  if (view.signal.aborted) return;

  const pageNumber = previous.length + 1;
  const first = operations.length === 0 ? 0 : (pageNumber - 1) * params.pageSize + 1;
  mount(
    pager,
    h('button', {
      text: '← Newer',
      attrs: { type: 'button', disabled: pageNumber === 1 },
      on: {
        click: () => {
          const token = previous.pop();
          go(listHash({ ...params, parent, pageToken: token || undefined }));
        },
      },
    }),
    h('span', {
      class: 'page-info',
      text:
        operations.length === 0
          ? `page ${pageNumber}`
          : `page ${pageNumber} · ${first}–${first + operations.length - 1}${result.nextPageToken ? '' : ' (end)'}`,
    }),
    h('button', {
      text: 'Older →',
      attrs: { type: 'button', disabled: !result.nextPageToken },
      on: {
        click: () => {
          previous.push(params.pageToken ?? '');
          go(listHash({ ...params, parent, pageToken: result.nextPageToken }));
        },
      },
    }),
  );

  // Live updates: the collection's watch stream, with the same filter.
  const onFirstPage = !params.pageToken;
  let missed = 0;
  const applyEvent = (type: string, operation: Operation) => {
    const index = operations.findIndex((op) => op.name === operation.name);
    if (type === 'deleted') {
      if (index < 0) return;
      deleted.add(operation.name);
      renderRow(operation.name);
      return;
    }
    if (index >= 0) {
      operations[index] = operation;
      renderRow(operation.name);
    } else if (type === 'created' && onFirstPage && operations.length >= params.pageSize * 2) {
      // A busy parent: count what arrives instead of growing the page without end.
      missed++;
      mount(
        newer,
        h('button', {
          class: 'newer',
          text: `${missed.toLocaleString('en-US')} newer operation${missed === 1 ? '' : 's'} — show the newest`,
          attrs: { type: 'button' },
          on: { click: () => go(listHash({ ...params, parent, pageToken: undefined })) },
        }),
      );
      return;
    } else if (type === 'created' && onFirstPage) {
      operations.unshift(operation);
      fresh.add(operation.name);
      const element = row(operation);
      rows.set(operation.name, element);
      if (operations.length === 1) mount(body, element);
      else body.insertBefore(element, body.firstChild);
    } else return;
    pending.add(operation.name);
    refreshTimes();
  };
  const poll = async () => {
    try {
      const again = await api.list(parent, {
        filter: params.filter,
        pageSize: params.pageSize,
        pageToken: params.pageToken,
      });
      if (view.signal.aborted) return;
      operations.splice(0, operations.length, ...(again.operations ?? []));
      const got = await api.times(operations.map((op) => op.name));
      for (const [name, value] of Object.entries(got)) times.set(name, value);
      renderAll();
    } catch {
      // Try again at the next tick.
    }
  };
  watch(
    `${collectionPath(parent)}:watch`,
    { filter: params.filter || undefined },
    {
      onEvent(event) {
        if (event.type === 'ready') return;
        try {
          applyEvent(event.type, JSON.parse(event.data) as Operation);
        } catch {
          // Not an operation: ignore.
        }
      },
      onStatus(status) {
        live.set(status === 'live' ? 'live' : 'connecting');
      },
      onUnsupported() {
        live.set('polling');
        every(5000, () => void poll(), view.signal);
      },
      onReset() {
        void poll();
      },
    },
    view.signal,
  );
}
