/** A real webhook receiver for tests: a local node:http server whose answers a test scripts. */
import http from 'node:http';

export interface ReceivedDelivery {
  headers: http.IncomingHttpHeaders;
  body: string;
  time: number;
}

/** What to do with a request: answer with a status, or hang (never answer) to make the sender time out. */
export type Behaviour = number | 'hang';

export class Receiver {
  readonly received: ReceivedDelivery[] = [];
  url = '';
  /** Decides each answer; by default 200. */
  behaviour: (delivery: ReceivedDelivery, index: number) => Behaviour = () => 200;
  readonly #server: http.Server;
  readonly #hanging = new Set<http.ServerResponse>();
  readonly #waiters = new Set<() => void>();

  private constructor() {
    this.#server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const delivery = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), time: Date.now() };
        const index = this.received.length;
        this.received.push(delivery);
        const action = this.behaviour(delivery, index);
        for (const waiter of [...this.#waiters]) waiter();
        if (action === 'hang') {
          this.#hanging.add(response);
          response.on('close', () => this.#hanging.delete(response));
          return;
        }
        response.writeHead(action, { 'content-type': 'text/plain' }).end(action === 200 ? 'ok' : 'no');
      });
    });
  }

  static async start(port = 0): Promise<Receiver> {
    const receiver = new Receiver();
    await new Promise<void>((resolve) => receiver.#server.listen(port, '127.0.0.1', resolve));
    const address = receiver.#server.address() as { port: number };
    receiver.url = `http://127.0.0.1:${address.port}/hook`;
    return receiver;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Resolves once `count` requests arrived. */
  waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${count} deliveries (got ${this.received.length})`));
      }, timeoutMs);
      const check = () => {
        if (this.received.length < count) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  async close(): Promise<void> {
    for (const response of this.#hanging) response.destroy();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
