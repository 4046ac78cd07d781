/**
 * The client against HTTP peers other than a healthy longrun: servers that fail, throttle, hang
 * or answer HTML, a proxy without `:wait`. Each is a real node:http server; delays run on a fake
 * clock, so the tests check the exact backoff without waiting for it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../server/src/server.js';
import type { Clock } from './clock.js';
import { Code } from './code.js';
import { ApiError } from './errors.js';
import { OperationsClient } from './operations-client.js';
import type { ClientOptions } from './options.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (request: Seen, response: ServerResponse) => void;

interface Peer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const peers: Peer[] = [];

async function startPeer(handler: Handler): Promise<Peer> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const entry = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body };
      seen.push(entry);
      handler(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const peer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  peers.push(peer);
  return peer;
}

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function rpcError(response: ServerResponse, status: number, name: string, headers: Record<string, string> = {}): void {
  json(response, status, { error: { code: status, message: name.toLowerCase(), status: name } }, headers);
}

/** A clock whose sleeps return at once and move time forward, recording each delay. */
function fakeClock(start = Date.UTC(2030, 0, 1)): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      sleeps.push(ms);
      now += ms;
    },
  };
}

/** Answers with each handler in turn, the last one for good. */
function sequence(...handlers: ((response: ServerResponse) => void)[]): Handler {
  let i = 0;
  return (_request, response) => handlers[Math.min(i++, handlers.length - 1)]!(response);
}

const OPERATION = { name: 'operations/x' };
const ok = (response: ServerResponse) => json(response, 200, OPERATION);

function clientFor(peer: Peer, options: Partial<ClientOptions> = {}) {
  const clock = fakeClock();
  const client = new OperationsClient({ endpoint: peer.url, clock, retry: { jitter: 0 }, ...options });
  return { client, clock };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('retries', () => {
  it('retries UNAVAILABLE with exponential delays', async () => {
    const unavailable = (r: ServerResponse) => rpcError(r, 503, 'UNAVAILABLE');
    const peer = await startPeer(sequence(unavailable, unavailable, ok));
    const { client, clock } = clientFor(peer);
    expect(await client.get('operations/x')).toEqual(OPERATION);
    expect(peer.seen).toHaveLength(3);
    expect(clock.sleeps).toEqual([500, 1000]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const peer = await startPeer((_request, response) => rpcError(response, 503, 'UNAVAILABLE'));
    const { client, clock } = clientFor(peer);
    const error = await rejection(client.get('operations/x'));
    expect(error).toMatchObject({ code: Code.UNAVAILABLE, httpStatus: 503 });
    expect(peer.seen).toHaveLength(5);
    expect(clock.sleeps).toEqual([500, 1000, 2000, 4000]);
  });

  it('honours Retry-After on RESOURCE_EXHAUSTED, in seconds or as a date', async () => {
    const clock = fakeClock();
    // A date 7 s after the second attempt, which comes 3 s after the first.
    const date = new Date(clock.now() + 3000 + 7000).toUTCString();
    const peer = await startPeer(
      sequence(
        (r) => rpcError(r, 429, 'RESOURCE_EXHAUSTED', { 'retry-after': '3' }),
        (r) => rpcError(r, 429, 'RESOURCE_EXHAUSTED', { 'retry-after': date }),
        ok,
      ),
    );
    const client = new OperationsClient({ endpoint: peer.url, clock, retry: { jitter: 0 } });
    expect(await client.get('operations/x')).toEqual(OPERATION);
    expect(clock.sleeps).toEqual([3000, 7000]);
  });

  it('waits the backoff when it is longer than Retry-After', async () => {
    const peer = await startPeer(
      sequence(
        (r) => rpcError(r, 503, 'UNAVAILABLE', { 'retry-after': '0' }),
        (r) => rpcError(r, 503, 'UNAVAILABLE', { 'retry-after': '0' }),
        ok,
      ),
    );
    const { client, clock } = clientFor(peer);
    await client.get('operations/x');
    expect(clock.sleeps).toEqual([500, 1000]);
  });

  it('does not wait out a Retry-After longer than maxDelayMs', async () => {
    const peer = await startPeer((_r, response) =>
      rpcError(response, 429, 'RESOURCE_EXHAUSTED', { 'retry-after': '60' }),
    );
    const { client, clock } = clientFor(peer);
    const error = await rejection(client.get('operations/x'));
    expect(error).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, retryAfterMs: 60_000 });
    expect(peer.seen).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries a create only when it carries its operationId', async () => {
    const unavailable = (r: ServerResponse) => rpcError(r, 503, 'UNAVAILABLE');
    const peer = await startPeer(sequence(unavailable, unavailable, ok));
    const { client } = clientFor(peer);
    await rejection(client.create({ parent: 'projects/p' }));
    expect(peer.seen).toHaveLength(1);
    expect((await client.create({ parent: 'projects/p', operationId: 'x' })).operation).toEqual(OPERATION);
    expect(peer.seen).toHaveLength(3);
    expect(JSON.parse(peer.seen[2]!.body)).toEqual({ operationId: 'x' });
  });

  it('does not retry other errors, such as a proxy page for a 502', async () => {
    const peer = await startPeer((_r, response) =>
      response.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>'),
    );
    const { client } = clientFor(peer);
    const error = await rejection(client.get('operations/x'));
    expect(error).toMatchObject({ code: Code.INTERNAL, httpStatus: 502 });
    expect(error.message).toContain('Bad Gateway');
    expect(peer.seen).toHaveLength(1);
  });

  it('retries a refused connection as UNAVAILABLE, with no HTTP status', async () => {
    const peer = await startPeer(sequence(ok));
    await peer.close();
    const { client, clock } = clientFor(peer, { retry: { maxAttempts: 3, jitter: 0 } });
    const error = await rejection(client.get('operations/x'));
    expect(error).toMatchObject({ code: Code.UNAVAILABLE, httpStatus: undefined });
    expect(error.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/v1\/operations\/x: /);
    expect(clock.sleeps).toEqual([500, 1000]);
  });

  it('fails an attempt that gets no answer in time like a lost connection', async () => {
    const peer = await startPeer(() => {}); // Never answers.
    const { client } = clientFor(peer, { attemptTimeoutMs: 200, retry: { maxAttempts: 1 } });
    const error = await rejection(client.get('operations/x'));
    expect(error).toMatchObject({ code: Code.UNAVAILABLE });
    expect(error.message).toContain('no response within 200 ms');
  });

  it('stops retrying when the signal aborts', async () => {
    const peer = await startPeer((_r, response) => rpcError(response, 503, 'UNAVAILABLE', { 'retry-after': '5' }));
    const client = new OperationsClient({ endpoint: peer.url });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(client.get('operations/x', { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(peer.seen).toHaveLength(1);
  });
});

describe('requests', () => {
  it('sends the credentials, the headers, and JSON bodies', async () => {
    const peer = await startPeer(sequence(ok));
    const { client } = clientFor(peer, { token: 't0k', apiKey: 'k3y', headers: { 'x-trace': 'abc' } });
    await client.get('operations/x');
    await client.cancel('projects/p/operations/a/b');
    const [get, cancel] = peer.seen;
    expect(get).toMatchObject({ method: 'GET', url: '/v1/operations/x', body: '' });
    expect(get!.headers).toMatchObject({ authorization: 'Bearer t0k', 'x-goog-api-key': 'k3y', 'x-trace': 'abc' });
    expect(get!.headers['content-type']).toBeUndefined();
    expect(cancel).toMatchObject({ method: 'POST', url: '/v1/projects/p/operations/a/b:cancel', body: '{}' });
    expect(cancel!.headers['content-type']).toBe('application/json');
  });

  it('builds paths from the endpoint, the version and the name', async () => {
    const peer = await startPeer((_r, response) => json(response, 200, {}));
    await clientFor(peer, { endpoint: `${peer.url}/lro/`, version: 'v2beta1' }).client.list({
      name: 'projects/p',
      filter: 'done = true',
      pageSize: 5,
    });
    await clientFor(peer, { version: '' }).client.wait('operations/x', { timeoutMs: 1500 });
    expect(peer.seen.map((seen) => seen.url)).toEqual([
      '/lro/v2beta1/projects/p/operations?filter=done+%3D+true&pageSize=5',
      '/operations/x:wait',
    ]);
    expect(JSON.parse(peer.seen[1]!.body)).toEqual({ timeout: '1.500s' });
  });

  it('rejects a success answer that is not JSON', async () => {
    const peer = await startPeer((_r, response) => response.writeHead(200).end('<html></html>'));
    expect(await rejection(clientFor(peer).client.get('operations/x'))).toMatchObject({
      code: Code.UNKNOWN,
      httpStatus: 200,
    });
  });
});

describe('polling', () => {
  it('spaces gets by the backoff and gives up at the total timeout', async () => {
    const peer = await startPeer((request, response) =>
      request.url.endsWith(':wait') ? rpcError(response, 501, 'UNIMPLEMENTED') : ok(response),
    );
    const { client, clock } = clientFor(peer);
    const error = await rejection(client.pollUntilDone('operations/x', { timeoutMs: 5000, jitter: 0 }));
    expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(clock.sleeps).toEqual([500, 750, 1125, 1687.5, 937.5]);
    expect(peer.seen.map((seen) => seen.method)).toEqual(['POST', 'GET', 'GET', 'GET', 'GET', 'GET']);
  });

  it('honours Retry-After while polling', async () => {
    const peer = await startPeer(
      sequence(
        (r) => rpcError(r, 429, 'RESOURCE_EXHAUSTED', { 'retry-after': '2' }),
        (r) => json(r, 200, { ...OPERATION, done: true }),
      ),
    );
    const { client, clock } = clientFor(peer);
    expect(await client.pollUntilDone('operations/x')).toEqual({ ...OPERATION, done: true });
    expect(clock.sleeps).toEqual([2000]);
  });

  describe('behind a proxy that does not serve :wait', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ port: 0, store: ':memory:', logLevel: 'silent' });
    });
    afterAll(() => server.close());

    /** Forwards everything to longrun except `:wait`, which it answers 404, as most Google APIs do. */
    const proxy = () =>
      startPeer((request, response) => {
        if (request.url.includes(':wait')) {
          rpcError(response, 404, 'NOT_FOUND');
          return;
        }
        fetch(`${server.url}${request.url}`, {
          method: request.method,
          headers: { 'content-type': 'application/json' },
          ...(request.body && { body: request.body }),
        }).then(async (answer) => {
          response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
        });
      });

    it('polls with get', async () => {
      const peer = await proxy();
      const client = new OperationsClient({ endpoint: peer.url });
      const { operation } = await client.create({ parent: 'projects/p' });
      setTimeout(() => client.complete(operation.name!, { '@type': 'type.googleapis.com/google.protobuf.Empty' }), 300);
      const done = await client.pollUntilDone(operation.name!, { initialDelayMs: 50 });
      expect(done.done).toBe(true);
      const polls = peer.seen.filter((seen) => seen.url.startsWith(`/v1/${operation.name}`) && seen.method !== 'PATCH');
      expect(polls[0]!.url).toContain(':wait');
      expect(polls.slice(1).every((seen) => seen.method === 'GET')).toBe(true);
      expect(polls.length).toBeGreaterThan(2);
    });

    it('still reports a missing operation as NOT_FOUND', async () => {
      const client = new OperationsClient({ endpoint: (await proxy()).url });
      const error = await rejection(client.pollUntilDone('projects/p/operations/missing'));
      expect(error).toMatchObject({ code: Code.NOT_FOUND, reason: 'OPERATION_NOT_FOUND' });
    });
  });
});
