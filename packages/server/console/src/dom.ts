/**
 * The one way the console builds DOM. Everything an operation carries is untrusted, so text only
 * ever becomes a Text node (or `textContent`), attribute names come from this code and never from
 * data, links may only point inside the console (`#/…`), and nothing is ever parsed as HTML. The
 * page's CSP also requires Trusted Types with no policy, so an `innerHTML` assignment would throw.
 */

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** Text content (set before the children). */
  text?: string;
  title?: string;
  /** Only in-console links (`#/…`); anything else is dropped. */
  href?: string;
  /** Attributes, by names this code chooses; `false`/`undefined` leaves one out. */
  attrs?: Record<string, string | number | boolean | undefined>;
  /** `data-*` attributes. */
  data?: Record<string, string>;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (event: HTMLElementEventMap[K]) => void }>;
}

const ALLOWED_ATTRIBUTE =
  /^(aria-[a-z]+|role|type|name|value|placeholder|for|id|autocomplete|spellcheck|disabled|readonly|required|min|max|step|rows|open|colspan|datetime|list|tabindex|hidden|selected|checked|lang|maxlength|inputmode|enterkeyhint)$/;

function setAttributes(element: Element, props: Props): void {
  if (props.class) element.setAttribute('class', props.class);
  if (props.title !== undefined) element.setAttribute('title', props.title);
  if (props.href?.startsWith('#')) element.setAttribute('href', props.href);
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (!ALLOWED_ATTRIBUTE.test(name)) throw new Error(`attribute ${name} is not allowed`);
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [key, value] of Object.entries(props.data ?? {})) {
    if (!/^[a-z][a-zA-Z0-9]*$/.test(key)) throw new Error(`data key ${key} is not allowed`);
    (element as HTMLElement).dataset[key] = value;
  }
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element with props and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props) {
    setAttributes(element, props);
    if (props.text !== undefined) element.textContent = props.text;
    for (const [type, listener] of Object.entries(props.on ?? {})) {
      element.addEventListener(type, listener as EventListener);
    }
  }
  append(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const SVG_ATTRIBUTE =
  /^(x|y|x1|x2|y1|y2|width|height|viewBox|class|role|aria-label|text-anchor|dominant-baseline|rx|preserveAspectRatio|focusable)$/;

/** An SVG element (the summary chart); attributes are numbers and names from this code. */
export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const element = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [name, value] of Object.entries(attrs)) {
    if (!SVG_ATTRIBUTE.test(name)) throw new Error(`SVG attribute ${name} is not allowed`);
    element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/** Replaces an element's children (never through HTML). */
export function mount(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Copies text to the clipboard: the async API where the page is a secure context, else a selection. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the selection.
  }
  const area = h('textarea', { class: 'offscreen', attrs: { readonly: true } });
  area.value = text;
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/** A modal confirmation in the page (a <dialog>), resolving true when confirmed. */
export function confirmDialog(options: {
  title: string;
  body: Child[];
  confirm: string;
  danger?: boolean;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', attrs: { 'aria-labelledby': 'confirm-title' } });
    const finish = (result: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(result);
    };
    const cancelButton = h('button', {
      text: 'Keep it',
      attrs: { type: 'button' },
      on: { click: () => finish(false) },
    });
    const confirmButton = h('button', {
      class: options.danger ? 'danger' : 'primary',
      text: options.confirm,
      attrs: { type: 'button' },
      data: { confirm: '' },
      on: { click: () => finish(true) },
    });
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    append(dialog, [
      h('h2', { text: options.title, attrs: { id: 'confirm-title' } }),
      h('div', { class: 'confirm-body' }, ...options.body),
      h('div', { class: 'confirm-actions' }, cancelButton, confirmButton),
    ]);
    document.body.appendChild(dialog);
    dialog.showModal();
    cancelButton.focus();
  });
}
