/** The parent chooser: a text box with the parents that exist (and wildcard patterns) as suggestions. */
import { grantParents, knownParents } from './context.js';
import { h } from './dom.js';

let nextId = 0;

/** Describes how a parent is shown: the top level has no parent. */
export function parentLabel(parent: string): string {
  return parent === '' ? '(top level)' : parent;
}

export function parentChooser(current: string, onChoose: (parent: string) => void): HTMLElement {
  const listId = `parents-${nextId++}`;
  const datalist = h('datalist', { attrs: { id: listId } });
  const input = h('input', {
    class: 'parent-input',
    attrs: {
      type: 'text',
      list: listId,
      name: 'parent',
      placeholder: 'projects/my-project (empty: top level)',
      spellcheck: false,
      autocomplete: 'off',
      'aria-label': 'Parent',
    },
  });
  input.value = current;
  const note = h('span', { class: 'hint' });
  const choose = () => {
    // A focused input removed with the view still fires change: it no longer speaks for anyone.
    if (!input.isConnected) return;
    const value = input.value.trim().replace(/\/operations$/, '');
    if (value !== current) onChoose(value === 'operations' ? '' : value);
  };
  input.addEventListener('change', choose);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      choose();
    }
  });
  void knownParents().then((known) => {
    const seen = new Set<string>();
    const add = (value: string, label: string) => {
      if (seen.has(value)) return;
      seen.add(value);
      datalist.appendChild(h('option', { attrs: { value }, text: label }));
    };
    for (const entry of known?.parents ?? []) add(entry.parent, parentLabel(entry.parent));
    for (const pattern of known?.patterns ?? []) add(pattern, `${pattern} (every ${pattern.split('/').at(-2) ?? ''})`);
    for (const parent of grantParents()) add(parent, `${parent} (granted)`);
    if (known?.supported && known.parents.length > 0) {
      note.textContent = `${known.parents.length}${known.complete ? '' : '+'} parent${known.parents.length === 1 ? '' : 's'}`;
    }
  });
  return h(
    'label',
    { class: 'field parent-field' },
    h('span', { class: 'field-label', text: 'Parent' }),
    input,
    datalist,
    note,
  );
}
