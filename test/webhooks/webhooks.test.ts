/**
 * Webhooks end to end: the management API, signed deliveries to a real local receiver that fails,
 * times out and recovers, FAILED deliveries and redelivery, and deliveries that survive a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../packages/client/src/index.js';
import type { ServerConfig } from '../../packages/server/src/config.js';
import { startServer } from '../../packages/server/src/server.js';
import { SqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import { EMPTY_ANY, errorInfo, type TestServer } from '../helpers.js';
import { PUSH_BACKEND, startPushTestServer as startTestServer } from '../watch/backend.js';
import { Receiver } from './receiver.js';

/** Fast retries for tests: 50 ms doubling to at most 400 ms, 300 ms per attempt, 4 attempts. */
const FAST: Partial<ServerConfig> = {
  webhookRetryBaseMs: 50,
  webhookRetryMaxMs: 400,
  webhookTimeoutMs: 300,
  webhookMaxAttempts: 4,
  watchPollIntervalMs: 100,
};

let server: TestServer | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await server?.stop();
  await receiver?.close();
  server = undefined;
  receiver = undefined;
});

async function finish(s: TestServer, name: string) {
  const response = await s.call('PATCH', `/v1/${name}`, { operation: { done: true, response: EMPTY_ANY } });
  expect(response.status).toBe(200);
  return response.json;
}

async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the webhook API', () => {
  it('creates (showing the secret once), gets, lists, updates and deletes webhooks', async () => {
    server = await startTestServer();
    const created = await server.call('POST', '/v1/projects/p/webhooks?webhookId=ci', {
      uri: 'https://ci.example.com/hook',
      filter: 'done = true',
      events: ['cancel_requested', 'done'],
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      name: 'projects/p/webhooks/ci',
      uri: 'https://ci.example.com/hook',
      filter: 'done = true',
      events: ['done', 'cancel_requested'],
    });
    expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const got = await server.call('GET', '/v1/projects/p/webhooks/ci');
    expect(got.json.secret).toBeUndefined();
    expect(got.json.createTime).toBe(created.json.createTime);

    const assigned = await server.call('POST', '/v1/projects/p/webhooks', { uri: 'http://127.0.0.1:9/x' });
    expect(assigned.json.name).toMatch(/^projects\/p\/webhooks\/[0-9a-f-]{36}$/);
    expect(assigned.json.events).toEqual(['done']);
    await server.call('POST', '/v1/webhooks?webhookId=top', { uri: 'http://127.0.0.1:9/top' });

    const list = await server.call('GET', '/v1/projects/p/webhooks?pageSize=1');
    expect(list.json.webhooks).toHaveLength(1);
    const next = await server.call('GET', `/v1/projects/p/webhooks?pageSize=1&pageToken=${list.json.nextPageToken}`);
    expect(next.json.webhooks).toHaveLength(1);
    expect(next.json.nextPageToken).toBeUndefined();
    expect([list.json.webhooks[0].name, next.json.webhooks[0].name].sort()).toEqual(
      [assigned.json.name, 'projects/p/webhooks/ci'].sort(),
    );
    expect((await server.call('GET', '/v1/webhooks')).json.webhooks.map((w: any) => w.name)).toEqual(['webhooks/top']);

    const patched = await server.call('PATCH', '/v1/projects/p/webhooks/ci?updateMask=uri,events', {
      uri: 'https://ci.example.com/v2',
      events: ['done'],
    });
    expect(patched.json).toMatchObject({ uri: 'https://ci.example.com/v2', events: ['done'], filter: 'done = true' });
    expect(patched.json.secret).toBeUndefined();
    const rotated = await server.call('PATCH', '/v1/projects/p/webhooks/ci?updateMask=secret', {});
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(created.json.secret);

    expect((await server.call('DELETE', '/v1/projects/p/webhooks/ci')).status).toBe(200);
    const gone = await server.call('GET', '/v1/projects/p/webhooks/ci');
    expect(gone.status).toBe(404);
    expect(errorInfo(gone.json).reason).toBe('WEBHOOK_NOT_FOUND');
  });

  it('refuses bad webhooks with AIP-193 errors', async () => {
    server = await startTestServer();
    const s = server;
    const post = (body: unknown, query = '') => s.call('POST', `/v1/projects/p/webhooks${query}`, body);
    expect((await post({})).status).toBe(400);
    expect((await post({ uri: 'ftp://x/y' })).status).toBe(400);
    expect((await post({ uri: 'not a url' })).status).toBe(400);
    expect(errorInfo((await post({ uri: 'http://x/y', filter: 'done = = 1' })).json).reason).toBe('INVALID_FILTER');
    expect((await post({ uri: 'http://x/y', events: ['created'] })).status).toBe(400);
    expect((await post({ uri: 'http://x/y', secret: 'short' })).status).toBe(400);
    expect(errorInfo((await post({ uri: 'http://x/y', color: 'red' })).json).reason).toBe('UNKNOWN_FIELD');
    expect((await post({ uri: 'http://x/y' }, '?webhookId=bad%20id')).status).toBe(400);
    expect((await post({ uri: 'http://x/y' }, '?webhookId=dup')).status).toBe(200);
    const dup = await post({ uri: 'http://x/y' }, '?webhookId=dup');
    expect(dup.status).toBe(409);
    expect(errorInfo(dup.json).reason).toBe('WEBHOOK_ALREADY_EXISTS');
    expect((await s.call('PUT', '/v1/projects/p/webhooks/dup', {})).status).toBe(405);
    expect((await s.call('GET', '/v1/projects/p/webhooks/dup/deliveries/nope')).status).toBe(404);
    expect((await s.call('GET', '/v1/projects/p/webhooks/nope/deliveries')).status).toBe(404);
    expect((await s.call('GET', '/v1/projects/p/webhooks/dup/deliveries?state=LOST')).status).toBe(400);
  });
});

describe('deliveries', () => {
  it('POSTs the operation on done, signed, with an idempotency id, to a real receiver', async () => {
    receiver = await Receiver.start();
    server = await startTestServer(FAST);
    const hook = await server.call('POST', '/v1/projects/p/webhooks?webhookId=h', { uri: receiver.url });
    await server.createOperation('projects/p', 'job');
    await server.createOperation('projects/other', 'job'); // Another parent: not covered.
    const done = await finish(server, 'projects/p/operations/job');
    await finish(server, 'projects/other/operations/job');
    await receiver.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received).toHaveLength(1);
    const delivery = receiver.received[0]!;
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers['longrun-event']).toBe('done');
    expect(delivery.headers['longrun-webhook']).toBe('projects/p/webhooks/h');
    expect(delivery.headers['longrun-attempt']).toBe('1');
    const body = JSON.parse(delivery.body);
    expect(body).toMatchObject({
      deliveryId: delivery.headers['longrun-delivery-id'],
      webhook: 'projects/p/webhooks/h',
      event: 'done',
    });
    expect(body.operation).toEqual(done);
    expect(
      await verifyWebhookSignature({
        secret: hook.json.secret,
        signature: delivery.headers['longrun-signature'] as string,
        body: delivery.body,
      }),
    ).toMatchObject({ ok: true });
    expect(
      await verifyWebhookSignature({
        secret: hook.json.secret,
        signature: delivery.headers['longrun-signature'] as string,
        body: delivery.body.replace('"done":true', '"done":false'),
      }),
    ).toEqual({ ok: false, reason: 'mismatch' });

    const listed = await eventually(
      () => server!.call('GET', '/v1/projects/p/webhooks/h/deliveries'),
      (r) => r.json.deliveries?.[0]?.state === 'SUCCEEDED',
    );
    expect(listed.json.deliveries[0]).toMatchObject({
      deliveryId: body.deliveryId,
      name: `projects/p/webhooks/h/deliveries/${body.deliveryId}`,
      operation: 'projects/p/operations/job',
      event: 'done',
      attempts: 1,
      lastStatusCode: 200,
    });
  });

  it('retries a receiver that fails, then times out, then recovers, with backoff and the same delivery id', async () => {
    receiver = await Receiver.start();
    receiver.behaviour = (_delivery, index) => (index === 0 ? 500 : index === 1 ? 'hang' : 200);
    server = await startTestServer(FAST);
    await server.call('POST', '/v1/projects/p/webhooks?webhookId=flaky', { uri: receiver.url });
    await server.createOperation('projects/p', 'job');
    await finish(server, 'projects/p/operations/job');
    await receiver.waitFor(3, 10_000);
    const [first, second, third] = receiver.received;
    const ids = receiver.received.map((d) => d.headers['longrun-delivery-id']);
    expect(new Set(ids).size).toBe(1);
    expect(receiver.received.map((d) => d.headers['longrun-attempt'])).toEqual(['1', '2', '3']);
    expect(third!.body).toBe(first!.body);
    // The second attempt came after a backoff of 25–50 ms; the third after the 300 ms timeout plus 50–100 ms.
    expect(second!.time - first!.time).toBeGreaterThanOrEqual(20);
    expect(third!.time - second!.time).toBeGreaterThanOrEqual(300 + 45);
    const listed = await eventually(
      () => server!.call('GET', '/v1/projects/p/webhooks/flaky/deliveries'),
      (r) => r.json.deliveries?.[0]?.state === 'SUCCEEDED',
    );
    expect(listed.json.deliveries[0]).toMatchObject({ attempts: 3, lastStatusCode: 200 });
    expect(listed.json.deliveries[0].lastError).toBeUndefined();
  });

  it('keeps a delivery FAILED after the last attempt, lists it, and redelivers it on request', async () => {
    receiver = await Receiver.start();
    receiver.behaviour = () => 503;
    server = await startTestServer(FAST);
    await server.call('POST', '/v1/projects/p/webhooks?webhookId=down', { uri: receiver.url });
    await server.createOperation('projects/p', 'job');
    await finish(server, 'projects/p/operations/job');
    const failed = await eventually(
      () => server!.call('GET', '/v1/projects/p/webhooks/down/deliveries?state=FAILED'),
      (r) => r.json.deliveries?.length === 1,
    );
    expect(receiver.received).toHaveLength(4);
    const delivery = failed.json.deliveries[0];
    expect(delivery).toMatchObject({ state: 'FAILED', attempts: 4, lastStatusCode: 503, lastError: 'HTTP 503' });
    expect(delivery.nextAttemptTime).toBeUndefined();
    expect(
      (await server.call('GET', '/v1/projects/p/webhooks/down/deliveries?state=PENDING')).json.deliveries,
    ).toBeUndefined();

    receiver.behaviour = () => 204;
    const redelivered = await server.call('POST', `/v1/${delivery.name}:redeliver`);
    expect(redelivered.status).toBe(200);
    expect(redelivered.json).toMatchObject({ state: 'PENDING', attempts: 0 });
    await receiver.waitFor(5);
    expect(receiver.received[4]!.headers['longrun-delivery-id']).toBe(delivery.deliveryId);
    expect(receiver.received[4]!.headers['longrun-attempt']).toBe('1');
    const after = await eventually(
      () => server!.call('GET', `/v1/${delivery.name}`),
      (r) => r.json.state === 'SUCCEEDED',
    );
    expect(after.json).toMatchObject({ attempts: 1, lastStatusCode: 204 });
    expect((await server.call('POST', `/v1/${delivery.name.replace(/[^/]+$/, 'nope')}:redeliver`)).status).toBe(404);
  });

  it('sends only what a webhook covers: its events, its filter, and changes after it was created', async () => {
    receiver = await Receiver.start();
    server = await startTestServer({ ...FAST, cancelGracePeriodMs: 60_000 });
    await server.createOperation('projects/f', 'before');
    await finish(server, 'projects/f/operations/before'); // Done before the webhook existed.
    await server.call('POST', '/v1/projects/f/webhooks?webhookId=w', {
      uri: receiver.url,
      events: ['done', 'cancel_requested'],
      filter: 'metadata.kind = "export"',
    });
    const meta = (kind: string) => ({ metadata: { '@type': 'type.googleapis.com/t.M', kind } });
    await server.createOperation('projects/f', 'export', meta('export'));
    await server.createOperation('projects/f', 'import', meta('import'));
    await server.call('POST', '/v1/projects/f/operations/export:cancel');
    await server.call('POST', '/v1/projects/f/operations/import:cancel');
    await finish(server, 'projects/f/operations/export');
    await finish(server, 'projects/f/operations/import');
    await receiver.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received.map((d) => `${d.headers['longrun-event']} ${JSON.parse(d.body).operation.name}`)).toEqual([
      'cancel_requested projects/f/operations/export',
      'done projects/f/operations/export',
    ]);
  });
});

// It writes to the SQLite file directly while the server is down.
describe.skipIf(PUSH_BACKEND !== 'sqlite')('durability', () => {
  it('delivers, after a restart on the same file, deliveries that were pending when the server stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'longrun-webhooks-'));
    const store = join(dir, 'store.db');
    receiver = await Receiver.start();
    receiver.behaviour = () => 503;
    const config = { host: '127.0.0.1', port: 0, store, logLevel: 'silent' };
    const first = await startServer({ ...config, ...FAST, webhookRetryBaseMs: 1500, webhookRetryMaxMs: 1500 });
    const call = (base: string, method: string, path: string, body?: unknown) =>
      fetch(base + path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
    await call(first.url, 'POST', '/v1/projects/d/webhooks?webhookId=w', { uri: receiver.url });
    for (let i = 0; i < 5; i++) {
      await call(first.url, 'POST', '/v1/projects/d/operations', { operationId: `op${i}` });
      await call(first.url, 'PATCH', `/v1/projects/d/operations/op${i}`, {
        operation: { done: true, response: EMPTY_ANY },
      });
    }
    // Each delivery fails once and waits 0.75–1.5 s for its retry: stop the server now.
    await receiver.waitFor(5);
    await first.close();
    const pending = receiver.received.map((d) => d.headers['longrun-delivery-id']);
    expect(new Set(pending).size).toBe(5);

    // While it is down, an operation is finished straight in the file (as a crash right after the
    // write would leave it): its event is in the log, its delivery not yet made.
    const offline = new SqliteStore(store);
    await offline.create({
      name: 'projects/d/operations/offline',
      parent: 'projects/d',
      done: true,
      metadata: null,
      error: null,
      response: JSON.stringify(EMPTY_ANY),
      createTime: Date.now(),
      updateTime: Date.now(),
      doneTime: Date.now(),
      cancelRequestTime: null,
      createHash: null,
    });
    await offline.close();

    receiver.behaviour = () => 200;
    const second = await startServer({ ...config, ...FAST });
    try {
      await receiver.waitFor(11, 15_000);
      const retried = receiver.received.slice(5);
      const ids = new Set(retried.map((d) => d.headers['longrun-delivery-id']));
      for (const id of pending) expect(ids.has(id)).toBe(true);
      expect(retried.map((d) => JSON.parse(d.body).operation.name)).toContain('projects/d/operations/offline');
      const listed = await eventually(
        () => call(second.url, 'GET', '/v1/projects/d/webhooks/w/deliveries?state=SUCCEEDED'),
        (r) => r.json.deliveries?.length === 6,
      );
      expect(listed.json.deliveries.every((d: any) => d.state === 'SUCCEEDED')).toBe(true);
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
