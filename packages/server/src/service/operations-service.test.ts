/**
 * The service's wait, on its own: every way a wait ends, and that each one leaves nothing behind
 * (no event-hub listener; no timer, or the test process would linger).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../contract/errors.js';
import { PageTokens } from '../contract/page-token.js';
import { EventHub } from '../events/event-hub.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { OperationStore } from '../store/store.js';
import { goneOnAbort, OperationsService } from './operations-service.js';

const EMPTY_ANY = { '@type': 'type.googleapis.com/google.protobuf.Empty' };

let store: SqliteStore;
let events: EventHub;
let service: OperationsService;

function serviceOn(on: OperationStore, waitMaxMs = 60_000): OperationsService {
  return new OperationsService(on, events, {
    cancelGracePeriodMs: 30_000,
    waitMaxMs,
    pageTokens: new PageTokens(randomBytes(32)),
  });
}

beforeEach(() => {
  store = new SqliteStore(':memory:');
  events = new EventHub();
  service = serviceOn(store);
});

afterEach(async () => {
  service.close();
  await store.close();
});

/** Resolves once the wait has subscribed to the event hub (it has read the store and is waiting). */
async function waiting(): Promise<void> {
  await expect.poll(() => events.listenerCount).toBe(1);
}

/** Timers alive in this process: a wait that ended must not leave its own behind. */
function timers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

async function reason(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.catch((e: unknown) => e);
  return error instanceof ApiError ? error.reason : undefined;
}

describe('wait', () => {
  it('answers a done operation at once', async () => {
    await service.create({ parent: '', operationId: 'd', operation: { done: true, response: EMPTY_ANY } });
    expect((await service.wait('operations/d', 60_000)).done).toBe(true);
    expect(events.listenerCount).toBe(0);
  });

  it('wakes on completion with the completed state, and not on an update that is not done', async () => {
    await service.create({ parent: '', operationId: 'w' });
    const timersBefore = timers();
    const wait = service.wait('operations/w', 60_000);
    await waiting();
    const metadata = { '@type': 'type.googleapis.com/t.M', step: 1 };
    await service.patch({ name: 'operations/w', operation: { metadata }, updateMask: 'metadata' });
    expect(events.listenerCount).toBe(1);
    await service.patch({ name: 'operations/w', operation: { done: true, response: EMPTY_ANY } });
    const record = await wait;
    expect(record.done).toBe(true);
    expect(JSON.parse(record.metadata!)).toEqual(metadata);
    expect(events.listenerCount).toBe(0);
    expect(timers()).toBe(timersBefore);
  });

  it('answers NOT_FOUND when the operation is deleted while waiting, or was never there', async () => {
    await service.create({ parent: '', operationId: 'x' });
    const wait = service.wait('operations/x', 60_000);
    await waiting();
    await service.delete('operations/x');
    expect(await reason(wait)).toBe('OPERATION_NOT_FOUND');
    expect(await reason(service.wait('operations/never', 60_000))).toBe('OPERATION_NOT_FOUND');
    expect(events.listenerCount).toBe(0);
  });

  it('answers the latest state when the timeout passes, capped by the maximum', async () => {
    await service.create({ parent: '', operationId: 't' });
    expect((await service.wait('operations/t', 20)).done).toBe(false);
    const capped = serviceOn(store, 20);
    // Asks for a minute; the server's maximum (20 ms) ends it.
    expect((await capped.wait('operations/t', 60_000)).name).toBe('operations/t');
    expect(events.listenerCount).toBe(0);
  });

  it('answers every pending wait with the current state on close, and later ones at once', async () => {
    await service.create({ parent: '', operationId: 'c' });
    const waits = [service.wait('operations/c', 60_000), service.wait('operations/c', 60_000)];
    await expect.poll(() => events.listenerCount).toBe(2);
    service.close();
    for (const record of await Promise.all(waits)) expect(record).toMatchObject({ name: 'operations/c', done: false });
    expect((await service.wait('operations/c', 60_000)).done).toBe(false);
    expect(events.listenerCount).toBe(0);
  });

  it('ends when the caller goes, with the state read at the start, and lets go of its listener', async () => {
    await service.create({ parent: '', operationId: 'g' });
    const timersBefore = timers();
    let leave: (() => void) | undefined;
    const wait = service.wait('operations/g', 60_000, (gone) => {
      leave = gone;
    });
    await waiting();
    leave!();
    leave!(); // a second call changes nothing
    expect((await wait).done).toBe(false);
    expect(events.listenerCount).toBe(0);
    expect(timers()).toBe(timersBefore);
  });

  it('does not wait for a caller already gone, nor for one whose signal aborts', async () => {
    await service.create({ parent: '', operationId: 'a' });
    expect((await service.wait('operations/a', 60_000, (gone) => gone())).done).toBe(false);
    const abort = new AbortController();
    const wait = service.wait('operations/a', 60_000, goneOnAbort(abort.signal));
    await waiting();
    abort.abort();
    expect((await wait).done).toBe(false);
    const aborted = new AbortController();
    aborted.abort();
    expect((await service.wait('operations/a', 60_000, goneOnAbort(aborted.signal))).done).toBe(false);
    expect(events.listenerCount).toBe(0);
  });
});
