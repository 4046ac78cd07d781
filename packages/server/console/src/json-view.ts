/**
 * Pretty-printed, foldable JSON, built from DOM nodes (strings are text, never markup). Numbers
 * are shown exactly as the server sent them, even past 2^53, by parsing with the source text of
 * each number (JSON.parse's reviver context, JSON.rawJSON) where the browser has it.
 */
import { h } from './dom.js';

interface RawJsonApi {
  rawJSON?: (text: string) => unknown;
  isRawJSON?: (value: unknown) => boolean;
}
const RAW = JSON as unknown as RawJsonApi;

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

/** Parses JSON keeping each number's literal (as a raw JSON value) when the browser can. */
export function parseExact(text: string): unknown {
  const rawJSON = RAW.rawJSON;
  if (!rawJSON) return JSON.parse(text);
  const reviver: Reviver = (_key, value, context) =>
    typeof value === 'number' && typeof context?.source === 'string' ? rawJSON(context.source) : value;
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown);
}

/** JSON text indented by two spaces, numbers exactly as given. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(parseExact(text), null, 2);
  } catch {
    return text;
  }
}

function isRaw(value: unknown): value is { rawJSON: string } {
  return RAW.isRawJSON?.(value) === true;
}

function primitive(value: unknown): HTMLElement {
  if (isRaw(value)) return h('span', { class: 'j-num', text: value.rawJSON });
  if (typeof value === 'string') return h('span', { class: 'j-str', text: JSON.stringify(value) });
  if (typeof value === 'number') return h('span', { class: 'j-num', text: String(value) });
  if (typeof value === 'boolean') return h('span', { class: 'j-bool', text: String(value) });
  return h('span', { class: 'j-null', text: 'null' });
}

function keyLabel(key: string | undefined): (HTMLElement | string)[] {
  return key === undefined ? [] : [h('span', { class: 'j-key', text: JSON.stringify(key) }), ': '];
}

/**
 * The tree of a JSON value. `collapsed` holds the paths of folded nodes; toggling updates it, so
 * a view that re-renders after a live update keeps what the reader folded.
 */
export function jsonTree(value: unknown, collapsed: Set<string>, options: { foldDepth?: number } = {}): HTMLElement {
  const foldDepth = options.foldDepth ?? 6;
  const build = (node: unknown, key: string | undefined, path: string, last: boolean, depth: number): HTMLElement => {
    const comma = last ? '' : ',';
    const isArray = Array.isArray(node);
    if (node === null || typeof node !== 'object' || isRaw(node)) {
      return h('div', { class: 'j-line' }, ...keyLabel(key), primitive(node), comma);
    }
    const entries: [string | undefined, unknown][] = isArray
      ? node.map((item) => [undefined, item])
      : Object.entries(node as Record<string, unknown>);
    const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) return h('div', { class: 'j-line' }, ...keyLabel(key), `${open}${close}${comma}`);
    if (!collapsed.has(`!${path}`) && depth >= foldDepth) collapsed.add(path);
    const element = h('div', { class: 'j-node', data: { path } });
    const toggle = h('button', {
      class: 'j-toggle',
      attrs: { type: 'button', 'aria-label': 'fold' },
    });
    const count = `${entries.length} ${isArray ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'}`;
    const set = (folded: boolean) => {
      element.classList.toggle('collapsed', folded);
      toggle.setAttribute('aria-expanded', String(!folded));
      toggle.textContent = folded ? '▸' : '▾';
    };
    toggle.addEventListener('click', () => {
      const folded = !element.classList.contains('collapsed');
      if (folded) {
        collapsed.add(path);
        collapsed.delete(`!${path}`);
      } else {
        collapsed.delete(path);
        collapsed.add(`!${path}`);
      }
      set(folded);
    });
    const children = h('div', { class: 'j-children' });
    entries.forEach(([childKey, child], i) => {
      const childPath = `${path}/${isArray ? i : childKey}`;
      children.appendChild(
        build(child, isArray ? undefined : childKey, childPath, i === entries.length - 1, depth + 1),
      );
    });
    element.append(
      h(
        'div',
        { class: 'j-line' },
        toggle,
        ...keyLabel(key),
        open,
        h('span', { class: 'j-summary', text: ` … ${count} ${close}${comma}` }),
      ),
      children,
      h('div', { class: 'j-line j-close', text: `${close}${comma}` }),
    );
    set(collapsed.has(path));
    return element;
  };
  return h('div', { class: 'json' }, build(value, undefined, '', true, 0));
}
