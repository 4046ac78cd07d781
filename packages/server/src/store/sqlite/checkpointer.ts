/**
 * Checkpoints the SQLite file from a worker thread. A checkpoint copies the WAL back into the
 * database file and syncs both: some 12 ms for a thousand pages on the reference machine, during
 * which SQLite's automatic checkpoint (run by whichever write crosses the threshold) would hold
 * the event loop and every request with it. The worker's own connection runs a PASSIVE checkpoint
 * every interval instead, beside the server's writes (a PASSIVE checkpoint never blocks them);
 * the server's connection keeps a much higher threshold of its own, so the WAL stays bounded even
 * if the worker falls behind or dies.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The worker, as source: the server runs from TypeScript sources in tests, and a worker cannot. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = ' + workerData.synchronous);
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.run();
  } catch {
    // Busy or failing now: the next interval tries again, and the server's threshold bounds the WAL.
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface CheckpointerOptions {
  path: string;
  synchronous: 'NORMAL' | 'FULL';
  intervalMs: number;
}

export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  constructor(options: CheckpointerOptions) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...options, module } });
    this.#worker.unref();
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    // A worker that fails (it cannot open the file, say) leaves checkpoints to the server's threshold.
    this.#worker.on('error', () => {});
  }

  /** Stops checkpointing and closes the worker's connection. */
  async close(): Promise<void> {
    // Referenced again while it finishes: a program whose last work is closing the store would
    // otherwise end before the worker does, with this promise never settled.
    this.#worker.ref();
    this.#worker.postMessage('close');
    await this.#exited;
  }
}
