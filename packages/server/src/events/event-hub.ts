/**
 * Changes to operations, fanned out in-process to whoever waits on them. A listener is a map
 * entry and a closure: thousands of waiters cost little memory, and nothing polls the store.
 */
import type { OperationRecord } from '../store/store.js';

export type OperationEvent =
  | { type: 'created' | 'updated'; name: string; record: OperationRecord }
  | { type: 'deleted'; name: string };

export type Listener = (event: OperationEvent) => void;

export class EventHub {
  readonly #byName = new Map<string, Set<Listener>>();
  readonly #all = new Set<Listener>();

  /** Calls `listener` for each change to the named operation until the returned function is called. */
  subscribe(name: string, listener: Listener): () => void {
    this.listen(name, listener);
    return () => {
      this.unlisten(name, listener);
    };
  }

  /**
   * `subscribe` without the function to undo it, for callers that keep the name and the listener
   * anyway (a pending wait): one closure fewer each. `unlisten` undoes it.
   */
  listen(name: string, listener: Listener): void {
    let listeners = this.#byName.get(name);
    if (!listeners) {
      listeners = new Set();
      this.#byName.set(name, listeners);
    }
    listeners.add(listener);
  }

  /** Stops calling `listener` for the named operation. */
  unlisten(name: string, listener: Listener): void {
    const listeners = this.#byName.get(name);
    if (listeners?.delete(listener) && listeners.size === 0) this.#byName.delete(name);
  }

  /**
   * Calls `listener` for each change to any operation until the returned function is called (the
   * watch streams' log tailer and the webhook fan-out use it as a wake-up).
   */
  subscribeAll(listener: Listener): () => void {
    this.#all.add(listener);
    return () => {
      this.#all.delete(listener);
    };
  }

  publish(event: OperationEvent): void {
    // Over copies, so a listener that subscribes or unsubscribes others does not change who hears
    // this event. One array per publish, even with 10,000 waiters on the operation: cheap beside
    // what each of them then does.
    for (const listener of [...this.#all]) listener(event);
    const listeners = this.#byName.get(event.name);
    if (!listeners) return;
    for (const listener of [...listeners]) listener(event);
  }

  /** True when someone listens to the named operation. */
  hasListeners(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The names of every operation with at least one listener. */
  listenedNames(): string[] {
    return [...this.#byName.keys()];
  }

  /** How many listeners wait, across all operations. */
  get listenerCount(): number {
    let count = 0;
    for (const listeners of this.#byName.values()) count += listeners.size;
    return count;
  }
}
