/**
 * The summary: operations by state under a parent (each count links to the list, filtered), and
 * a chart of operations created and finished over a time window. Both come from the console's
 * `/console/api/summary`; the view refreshes when the collection's watch stream reports a change.
 */
import { api, collectionPath, type SummaryResponse } from './api.js';
import { parentChooser, parentLabel } from './chooser.js';
import {
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
import { h, mount, svg } from './dom.js';
import { STATE_FILTERS, STATE_LABELS, type State } from './format.js';
import { listHash } from './list-view.js';
import { watch } from './watch.js';

export const WINDOWS: { seconds: number; label: string }[] = [
  { seconds: 3600, label: 'last hour' },
  { seconds: 86_400, label: 'last 24 hours' },
  { seconds: 7 * 86_400, label: 'last 7 days' },
  { seconds: 30 * 86_400, label: 'last 30 days' },
];

export function summaryHash(parent: string | undefined, windowSeconds?: number): string {
  return routeHash('/summary', {
    parent,
    window: windowSeconds && windowSeconds !== 86_400 ? String(windowSeconds) : undefined,
  });
}

function formatTick(ms: number, bucketSeconds: number): string {
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (bucketSeconds < 3600) return time;
  return `${date.getMonth() + 1}/${date.getDate()} ${time}`;
}

/** Grouped bars: created and finished per bucket. */
function chart(summary: SummaryResponse): SVGElement {
  const { created, finished, bucketSeconds, startTime } = summary.activity;
  const width = 960;
  const height = 170;
  const left = 36;
  const bottom = 22;
  const top = 8;
  const plotWidth = width - left - 8;
  const plotHeight = height - bottom - top;
  const max = Math.max(1, ...created, ...finished);
  const n = Math.max(1, created.length);
  const slot = plotWidth / n;
  const bar = Math.max(1, slot / 2 - 1);
  const start = Date.parse(startTime);
  const y = (value: number) => top + plotHeight - (value / max) * plotHeight;
  const parts: SVGElement[] = [
    svg('line', { x1: left, x2: width - 8, y1: top + plotHeight, y2: top + plotHeight, class: 'axis' }),
    svg('text', { x: left - 4, y: top + 8, class: 'tick', 'text-anchor': 'end' }, String(max)),
    svg('text', { x: left - 4, y: top + plotHeight, class: 'tick', 'text-anchor': 'end' }, '0'),
  ];
  for (let i = 0; i < n; i++) {
    const from = start + i * bucketSeconds * 1000;
    const label = `${formatTick(from, bucketSeconds)}: ${created[i] ?? 0} created, ${finished[i] ?? 0} finished`;
    const x = left + i * slot;
    for (const [series, values, offset] of [
      ['created', created, 0],
      ['finished', finished, bar + 1],
    ] as const) {
      const value = values[i] ?? 0;
      if (value === 0) continue;
      parts.push(
        svg(
          'rect',
          {
            x: x + offset,
            y: y(value),
            width: bar,
            height: Math.max(1, top + plotHeight - y(value)),
            class: `bar ${series}`,
          },
          svg('title', {}, label),
        ),
      );
    }
  }
  for (const i of [0, Math.floor(n / 2), n - 1]) {
    const from = start + i * bucketSeconds * 1000;
    parts.push(
      svg(
        'text',
        {
          x: left + i * slot + slot / 2,
          y: height - 6,
          class: 'tick',
          'text-anchor': i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle',
        },
        formatTick(from, bucketSeconds),
      ),
    );
  }
  return svg(
    'svg',
    {
      viewBox: `0 0 ${width} ${height}`,
      class: 'chart',
      role: 'img',
      'aria-label': 'Operations created and finished over time',
    },
    ...parts,
  );
}

export async function summaryView(view: View, requested: string | undefined, windowSeconds: number): Promise<void> {
  const parent = requested ?? (await knownParents())?.parents[0]?.parent ?? grantParents()[0];
  if (view.signal.aborted) return;
  const live = liveIndicator();
  const windowSelect = h(
    'select',
    {
      attrs: { 'aria-label': 'Time window', name: 'window' },
      on: { change: () => go(summaryHash(parent, Number(windowSelect.value))) },
    },
    ...WINDOWS.map((w) =>
      h('option', { text: w.label, attrs: { value: w.seconds, selected: w.seconds === windowSeconds } }),
    ),
  );
  const cards = h('div', { class: 'cards' });
  const chartSlot = h('div', { class: 'chart-slot' });
  const note = h('p', { class: 'hint' });
  mount(
    view.root,
    h(
      'section',
      { class: 'toolbar' },
      h(
        'div',
        { class: 'toolbar-row' },
        parentChooser(parent ?? '', (chosen) => go(summaryHash(chosen, windowSeconds))),
        windowSelect,
        live.element,
      ),
    ),
    cards,
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'chart-head' },
        h('h2', { text: 'Created and finished' }),
        h(
          'span',
          { class: 'legend' },
          h('span', { class: 'swatch created' }),
          'created ',
          h('span', { class: 'swatch finished' }),
          'finished',
        ),
      ),
      chartSlot,
      note,
    ),
  );
  if (parent === undefined) {
    mount(cards, h('p', { class: 'empty', text: 'No operations yet.' }));
    live.set('off');
    return;
  }

  const render = (summary: SummaryResponse) => {
    const states: State[] = ['running', 'cancel-requested', 'succeeded', 'failed', 'cancelled'];
    const value = (state: State) =>
      state === 'cancel-requested'
        ? summary.counts.cancelRequested
        : summary.counts[state as Exclude<State, 'cancel-requested'>];
    mount(
      cards,
      h(
        'a',
        { class: 'count-card total', href: listHash({ parent }) },
        h('span', { class: 'count', text: summary.counts.total.toLocaleString('en-US') }),
        h('span', { class: 'count-label', text: `operations under ${parentLabel(parent)}` }),
      ),
      ...states.map((state) =>
        h(
          'a',
          {
            class: `count-card state-${state}`,
            href: listHash({ parent, filter: STATE_FILTERS[state] }),
            data: { state },
          },
          h('span', { class: 'count', text: value(state).toLocaleString('en-US') }),
          h('span', { class: 'count-label', text: STATE_LABELS[state] }),
        ),
      ),
    );
    mount(chartSlot, chart(summary));
    const createdTotal = summary.activity.created.reduce((a, b) => a + b, 0);
    const finishedTotal = summary.activity.finished.reduce((a, b) => a + b, 0);
    note.textContent =
      `${createdTotal.toLocaleString('en-US')} created and ${finishedTotal.toLocaleString('en-US')} finished in the window, ` +
      `in ${summary.activity.bucketSeconds >= 3600 ? `${summary.activity.bucketSeconds / 3600} h` : `${summary.activity.bucketSeconds / 60} min`} buckets.` +
      (summary.exact ? '' : ` Counted from the newest ${summary.scanned?.toLocaleString('en-US')} operations only.`);
  };

  const load = async () => {
    try {
      render(await api.summary(parent, windowSeconds));
    } catch (error) {
      if (!view.signal.aborted)
        mount(cards, h('div', { class: 'error', attrs: { role: 'alert' }, text: errorMessage(error) }));
    }
  };
  await load();
  if (view.signal.aborted) return;
  const refresh = debounce(() => void load(), 2500, view.signal);
  // The window moves with time even when nothing changes.
  every(30_000, () => void load(), view.signal);
  watch(
    `${collectionPath(parent)}:watch`,
    {},
    {
      onEvent(event) {
        if (event.type !== 'ready') refresh();
      },
      onStatus(status) {
        live.set(status === 'live' ? 'live' : 'connecting');
      },
      onUnsupported() {
        live.set('polling');
        every(5000, () => void load(), view.signal);
      },
      onReset: refresh,
    },
    view.signal,
  );
}
