/**
 * The dispatcher without webhooks: writes stop costing a fan-out each, and a webhook created here
 * brings them back at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventHub } from '../events/event-hub.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { OperationRecord } from '../store/store.js';
import { counting, record } from '../watch/push.contract.js';
import { openPushBackend } from '../watch/push.js';
import { WebhookDispatcher } from './dispatcher.js';
import type { WebhookStore } from './webhook-store.js';

let dir: string;
let store: SqliteStore;
let webhooks: WebhookStore;
let fanOuts: () => number;
let events: EventHub;
let dispatcher: WebhookDispatcher;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'longrun-dispatcher-'));
  store = new SqliteStore(join(dir, 'store.db'));
  ({ object: webhooks, calls: fanOuts } = counting(openPushBackend(store)!.webhooks, 'fanOut'));
  events = new EventHub();
  dispatcher = new WebhookDispatcher(webhooks, events, {
    maxAttempts: 3,
    retryBaseMs: 1000,
    retryMaxMs: 10_000,
    timeoutMs: 1000,
    concurrency: 1,
    // A long poll: in these tests only writes and wake() fan out.
    pollIntervalMs: 60_000,
  });
  await dispatcher.start();
});

afterEach(async () => {
  await dispatcher.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Creates an operation done at once, as the service does: the write, then the local announcement. */
async function writeDone(id: string): Promise<OperationRecord> {
  const now = Date.now();
  const done = { done: true, response: '{"@type":"type.googleapis.com/google.protobuf.Empty"}', doneTime: now };
  const result = await store.create(record(`projects/p/operations/${id}`, done));
  if (!result.created) throw new Error(`${id} existed`);
  events.publish({ type: 'created', name: result.record.name, record: result.record });
  return result.record;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WebhookDispatcher', () => {
  it('does not fan out on writes while there is no webhook, and does again once one is created', async () => {
    await vi.waitFor(() => expect(dispatcher.fannedOutThrough).toBeGreaterThanOrEqual(0));
    await pause(50);
    const atRest = fanOuts();
    for (let i = 0; i < 10; i++) {
      await writeDone(`quiet${i}`);
      await pause(10);
    }
    expect(fanOuts()).toBe(atRest);

    const now = Date.now();
    await webhooks.createWebhook({
      name: 'projects/p/webhooks/w',
      parent: 'projects/p',
      uri: 'http://127.0.0.1:9/never',
      filter: '',
      events: ['done'],
      secret: 's'.repeat(24),
      createTime: now,
      updateTime: now,
    });
    dispatcher.wake(); // What the webhook API does after a create.
    await writeDone('heard');
    await vi.waitFor(async () => {
      const deliveries = await webhooks.listDeliveries('projects/p/webhooks/w', { limit: 10 });
      expect(deliveries.map((delivery) => delivery.operation)).toEqual(['projects/p/operations/heard']);
    });
    const woken = fanOuts();
    await writeDone('heard2');
    await vi.waitFor(() => expect(fanOuts()).toBeGreaterThan(woken));
  });
});
