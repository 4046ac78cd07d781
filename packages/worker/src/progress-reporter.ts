/**
 * Progress, throttled and coalesced: the latest metadata wins, at most one patch is in flight,
 * and patches start at least `intervalMs` apart. A patch that fails keeps its metadata for the
 * next one (unless newer metadata has come), so progress survives a server restart.
 */
import type { Any } from '@longrun/client';

export class ProgressReporter {
  readonly #send: (metadata: Any) => Promise<void>;
  readonly #intervalMs: number;
  /** The latest metadata not yet recorded. */
  #pending: Any | undefined;
  #inFlight: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #stopped = false;

  /** `send` records metadata; it rejects when the metadata should be sent again later. */
  constructor(send: (metadata: Any) => Promise<void>, intervalMs: number) {
    this.#send = send;
    this.#intervalMs = intervalMs;
  }

  report(metadata: Any): void {
    if (this.#stopped) return;
    this.#pending = metadata;
    this.#schedule();
  }

  /** Stops sending, lets the patch in flight finish, and returns the metadata still unrecorded. */
  async stop(): Promise<Any | undefined> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#inFlight;
    return this.#pending;
  }

  #schedule(): void {
    if (this.#stopped || this.#inFlight || this.#timer || this.#pending === undefined) return;
    const wait = this.#lastSentAt + this.#intervalMs - Date.now();
    if (wait <= 0) {
      this.#flush();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#schedule();
    }, wait);
  }

  #flush(): void {
    const metadata = this.#pending!;
    this.#pending = undefined;
    this.#lastSentAt = Date.now();
    this.#inFlight = this.#send(metadata)
      .catch(() => {
        this.#pending ??= metadata;
      })
      .finally(() => {
        this.#inFlight = undefined;
        this.#schedule();
      });
  }
}
