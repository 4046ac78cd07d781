/**
 * Coalesces concurrent calls of one kind into batches. At most `concurrency` batches run at once;
 * calls that arrive meanwhile wait and leave together, as one batch, when a running one finishes.
 * At low load every call runs alone at once (no timer, no added latency); under load the batches
 * grow by themselves, and one round trip and one commit serve many calls.
 */
export interface Pending<T, R> {
  readonly item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export interface BatcherOptions {
  /** Batches running at once. */
  concurrency: number;
  /** Calls in one batch at most. */
  maxBatch: number;
}

export class Batcher<T, R> {
  readonly #pending: Pending<T, R>[] = [];
  readonly #concurrency: number;
  readonly #maxBatch: number;
  readonly #run: (batch: Pending<T, R>[]) => Promise<void>;
  #running = 0;

  /** `run` settles every call of its batch; if it throws, the calls it left unsettled fail with that error. */
  constructor(options: BatcherOptions, run: (batch: Pending<T, R>[]) => Promise<void>) {
    this.#concurrency = Math.max(1, options.concurrency);
    this.#maxBatch = options.maxBatch;
    this.#run = run;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    while (this.#running < this.#concurrency && this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      this.#running++;
      this.#run(batch)
        .catch((error: unknown) => {
          for (const pending of batch) pending.reject(error);
        })
        .finally(() => {
          this.#running--;
          this.#next();
        });
    }
  }
}
