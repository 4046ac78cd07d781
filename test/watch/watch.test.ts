/** Watch streams over a real server and real sockets: events, ids, resume, heartbeats, errors. */
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_ANY, errorInfo, type TestServer } from '../helpers.js';
import { startPushTestServer as startTestServer } from './backend.js';
import { openSse, watch } from './sse-client.js';

const META = (n: number) => ({ '@type': 'type.googleapis.com/test.Progress', n });

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function patch(s: TestServer, name: string, operation: unknown, updateMask?: string) {
  const response = await s.call('PATCH', `/v1/${name}`, { operation, ...(updateMask ? { updateMask } : {}) });
  if (response.status !== 200) throw new Error(`patch failed: ${response.text}`);
  return response.json;
}

describe('watching one operation', () => {
  it('sends the current state, then created/progress/cancel_requested/done/deleted with increasing ids', async () => {
    server = await startTestServer({ cancelGracePeriodMs: 60_000 });
    await server.createOperation('projects/p', 'a', { metadata: META(0) });
    const stream = await watch(`${server.url}/v1/projects/p/operations/a:watch`);
    await stream.waitForEvents(1);
    expect(stream.events[0]).toMatchObject({ event: 'snapshot' });
    expect(JSON.parse(stream.events[0]!.data)).toEqual({ name: 'projects/p/operations/a', metadata: META(0) });

    await patch(server, 'projects/p/operations/a', { metadata: META(1) }, 'metadata');
    await server.call('POST', '/v1/projects/p/operations/a:cancel');
    const done = await patch(server, 'projects/p/operations/a', { done: true, response: EMPTY_ANY });
    await server.call('DELETE', '/v1/projects/p/operations/a');
    await stream.waitForEvents(5);
    expect(stream.events.map((e) => e.event)).toEqual(['snapshot', 'progress', 'cancel_requested', 'done', 'deleted']);
    const ids = stream.events.map((e) => Number(e.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    // Each event carries the operation exactly as the contract renders it.
    expect(JSON.parse(stream.events[3]!.data)).toEqual(done);
    expect(JSON.parse(stream.events[4]!.data)).toEqual(done);
    stream.close();
  });

  it('answers NOT_FOUND (AIP-193) before any stream for a missing operation', async () => {
    server = await startTestServer();
    const { stream, result } = await openSse(`${server.url}/v1/projects/p/operations/missing:watch`);
    expect(stream).toBeUndefined();
    expect(result.status).toBe(404);
    expect(result.headers['content-type']).toMatch(/application\/json/);
    const body = JSON.parse(result.body!);
    expect(body.error.status).toBe('NOT_FOUND');
    expect(errorInfo(body).reason).toBe('OPERATION_NOT_FOUND');
  });

  it('logs an operation created done as created then done, and a cancel without grace as cancel_requested then done', async () => {
    server = await startTestServer({ cancelGracePeriodMs: 0 });
    const parent = await watch(`${server.url}/v1/projects/q/operations:watch`);
    await parent.waitForEvents(1);
    await server.createOperation('projects/q', 'born-done', { done: true, response: EMPTY_ANY });
    await server.createOperation('projects/q', 'c');
    await server.call('POST', '/v1/projects/q/operations/c:cancel');
    await parent.waitForEvents(6);
    expect(parent.events.map((e) => `${e.event} ${JSON.parse(e.data).name ?? ''}`)).toEqual([
      'ready ',
      'created projects/q/operations/born-done',
      'done projects/q/operations/born-done',
      'created projects/q/operations/c',
      'cancel_requested projects/q/operations/c',
      'done projects/q/operations/c',
    ]);
    expect(JSON.parse(parent.events[5]!.data).error.code).toBe(1);
    parent.close();
  });

  it('refuses a filter on a single operation, and POST on :watch', async () => {
    server = await startTestServer();
    await server.createOperation('projects/p', 'a');
    const filtered = await openSse(`${server.url}/v1/projects/p/operations/a:watch?filter=done%3Dtrue`);
    expect(filtered.result.status).toBe(400);
    const post = await server.call('POST', '/v1/projects/p/operations/a:watch');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });
});

describe('watching a collection', () => {
  it('sends only the operations under the parent that match the filter', async () => {
    server = await startTestServer();
    const all = await watch(`${server.url}/v1/projects/p/operations:watch`);
    const doneOnly = await watch(
      `${server.url}/v1/projects/p/operations:watch?filter=${encodeURIComponent('done = true')}`,
    );
    const wildcard = await watch(`${server.url}/v1/projects/-/operations:watch`);
    const top = await watch(`${server.url}/v1/operations:watch`);
    for (const s of [all, doneOnly, wildcard, top]) await s.waitForEvents(1);
    await server.createOperation('projects/p', 'x');
    await server.createOperation('projects/other', 'y');
    await server.createOperation('projects/p/instances/i', 'nested');
    await server.createOperation('', 'top');
    await patch(server, 'projects/p/operations/x', { done: true, response: EMPTY_ANY });
    await all.waitForEvents(3);
    await doneOnly.waitForEvents(2);
    await wildcard.waitForEvents(4);
    await top.waitForEvents(2);
    const names = (events: { data: string }[]) => events.map((e) => JSON.parse(e.data).name);
    expect(all.of().map((e) => e.event)).toEqual(['created', 'done']);
    expect(names(all.of())).toEqual(['projects/p/operations/x', 'projects/p/operations/x']);
    expect(doneOnly.of().map((e) => e.event)).toEqual(['done']);
    expect(names(wildcard.of())).toEqual([
      'projects/p/operations/x',
      'projects/other/operations/y',
      'projects/p/operations/x',
    ]);
    expect(names(top.of())).toEqual(['operations/top']);
    for (const s of [all, doneOnly, wildcard, top]) s.close();
  });

  it('refuses an invalid filter before the stream starts', async () => {
    server = await startTestServer();
    const { result } = await openSse(
      `${server.url}/v1/projects/p/operations:watch?filter=${encodeURIComponent('done = = 1')}`,
    );
    expect(result.status).toBe(400);
    expect(errorInfo(JSON.parse(result.body!)).reason).toBe('INVALID_FILTER');
  });
});

describe('resuming', () => {
  it('resumes after Last-Event-ID (header, or the lastEventId parameter) with exactly the missed events', async () => {
    server = await startTestServer();
    await server.createOperation('projects/p', 'r', { metadata: META(0) });
    const first = await watch(`${server.url}/v1/projects/p/operations/r:watch`);
    await first.waitForEvents(1);
    await patch(server, 'projects/p/operations/r', { metadata: META(1) }, 'metadata');
    await first.waitForEvents(2);
    const seen = first.lastEventId!;
    first.close();
    await patch(server, 'projects/p/operations/r', { metadata: META(2) }, 'metadata');
    await patch(server, 'projects/p/operations/r', { metadata: META(3) }, 'metadata');

    const byHeader = await watch(`${server.url}/v1/projects/p/operations/r:watch`, { 'last-event-id': seen });
    await byHeader.waitForEvents(2);
    expect(byHeader.events.map((e) => JSON.parse(e.data).metadata.n)).toEqual([2, 3]);
    expect(byHeader.comments).toContain(`resumed after ${seen}`);
    const byQuery = await watch(`${server.url}/v1/projects/p/operations/r:watch?lastEventId=${seen}`);
    await byQuery.waitForEvents(2);
    expect(byQuery.events.map((e) => e.id)).toEqual(byHeader.events.map((e) => e.id));
    // The header wins over the query (an EventSource reconnecting keeps its first URL).
    const both = await watch(`${server.url}/v1/projects/p/operations/r:watch?lastEventId=0`, {
      'last-event-id': byHeader.lastEventId!,
    });
    await patch(server, 'projects/p/operations/r', { metadata: META(4) }, 'metadata');
    await both.waitForEvents(1);
    expect(JSON.parse(both.events[0]!.data).metadata.n).toBe(4);
    for (const s of [byHeader, byQuery, both]) s.close();
  });

  it('replays a deleted operation up to its deletion, and 404s when nothing is left after the id', async () => {
    server = await startTestServer();
    await server.createOperation('projects/p', 'gone');
    const stream = await watch(`${server.url}/v1/projects/p/operations/gone:watch`);
    await stream.waitForEvents(1);
    const seen = stream.lastEventId!;
    stream.close();
    await server.call('DELETE', '/v1/projects/p/operations/gone');
    const resumed = await watch(`${server.url}/v1/projects/p/operations/gone:watch`, { 'last-event-id': seen });
    await resumed.waitForEvents(1);
    expect(resumed.events[0]!.event).toBe('deleted');
    const after = await openSse(`${server.url}/v1/projects/p/operations/gone:watch`, {
      'last-event-id': resumed.lastEventId!,
    });
    expect(after.result.status).toBe(404);
    resumed.close();
  });

  it('refuses malformed ids, ids from the future, and ids older than the retention window', async () => {
    server = await startTestServer({ eventRetentionMs: 1 });
    await server.createOperation('projects/p', 'old');
    for (let i = 1; i <= 3; i++) await patch(server, 'projects/p/operations/old', { metadata: META(i) }, 'metadata');
    const garbage = await openSse(`${server.url}/v1/projects/p/operations:watch`, { 'last-event-id': 'abc' });
    expect(garbage.result.status).toBe(400);
    expect(errorInfo(JSON.parse(garbage.result.body!)).reason).toBe('INVALID_EVENT_ID');
    const future = await openSse(`${server.url}/v1/projects/p/operations:watch`, { 'last-event-id': '999999' });
    expect(future.result.status).toBe(400);
    expect(errorInfo(JSON.parse(future.result.body!)).reason).toBe('INVALID_EVENT_ID');

    await new Promise((resolve) => setTimeout(resolve, 20));
    await server.push!.prune();
    const horizon = await server.push!.log.horizon();
    expect(horizon).toBe(4);
    const expired = await openSse(`${server.url}/v1/projects/p/operations:watch`, { 'last-event-id': '1' });
    expect(expired.result.status).toBe(400);
    const body = JSON.parse(expired.result.body!);
    expect(body.error.status).toBe('OUT_OF_RANGE');
    expect(errorInfo(body).reason).toBe('EVENT_ID_EXPIRED');
    // From the horizon on, resuming works.
    const fine = await watch(`${server.url}/v1/projects/p/operations:watch`, { 'last-event-id': String(horizon) });
    await patch(server, 'projects/p/operations/old', { metadata: META(9) }, 'metadata');
    await fine.waitForEvents(1);
    expect(JSON.parse(fine.events[0]!.data).metadata.n).toBe(9);
    fine.close();
  });
});

describe('ordering under concurrent updates', () => {
  it('delivers every change in id order, and resumes without gaps after repeated disconnects', async () => {
    server = await startTestServer();
    const s = server;
    const OPS = 8;
    const PATCHES = 25;
    const reference = await watch(`${s.url}/v1/projects/c/operations:watch`);
    await reference.waitForEvents(1);
    const start = reference.lastEventId!;

    // A watcher that drops its connection every few events and resumes from the last id it saw.
    const resumed: { id: string; event: string; data: string }[] = [];
    let lastId = start;
    let stop = false;
    let reconnects = 0;
    const flaky = (async () => {
      while (!stop || resumed.length < OPS * (PATCHES + 2)) {
        const stream = await watch(`${s.url}/v1/projects/c/operations:watch`, { 'last-event-id': lastId });
        const take = 3 + Math.floor(Math.random() * 10);
        try {
          await stream.until(
            (x) => x.events.length >= take || (stop && resumed.length + x.events.length >= OPS * (PATCHES + 2)),
            10_000,
          );
        } catch {}
        stream.close();
        for (const event of stream.events.slice(0, take)) {
          resumed.push({ id: event.id!, event: event.event, data: event.data });
          lastId = event.id!;
        }
        reconnects++;
      }
    })();

    await Promise.all(
      Array.from({ length: OPS }, async (_, op) => {
        const name = `projects/c/operations/op${op}`;
        await s.createOperation('projects/c', `op${op}`, { metadata: META(0) });
        for (let n = 1; n <= PATCHES; n++) await patch(s, name, { metadata: META(n) }, 'metadata');
        await patch(s, name, { done: true, response: EMPTY_ANY });
      }),
    );
    const total = OPS * (PATCHES + 2);
    await reference.waitForEvents(total + 1);
    stop = true;
    await flaky;

    const live = reference.events.slice(1);
    expect(live).toHaveLength(total);
    const ids = live.map((e) => Number(e.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    // Per operation, metadata advances one step at a time: nothing was lost or reordered.
    for (let op = 0; op < OPS; op++) {
      const mine = live.filter((e) => JSON.parse(e.data).name === `projects/c/operations/op${op}`);
      expect(mine.map((e) => e.event)).toEqual(['created', ...Array(PATCHES).fill('progress'), 'done']);
      expect(mine.map((e) => JSON.parse(e.data).metadata.n)).toEqual([
        0,
        ...Array.from({ length: PATCHES }, (_, i) => i + 1),
        PATCHES,
      ]);
    }
    // The reconnecting watcher saw exactly the same sequence.
    expect(reconnects).toBeGreaterThan(10);
    expect(resumed.map((e) => e.id)).toEqual(live.map((e) => e.id));
    expect(resumed.map((e) => e.data)).toEqual(live.map((e) => e.data));
    reference.close();
  });
});

describe('heartbeats and shutdown', () => {
  it('sends heartbeat comments on idle streams', async () => {
    server = await startTestServer({ watchHeartbeatMs: 50 });
    const stream = await watch(`${server.url}/v1/projects/p/operations:watch`);
    await stream.until((s) => s.comments.filter((c) => c === 'heartbeat').length >= 3, 5000, 'heartbeats');
    stream.close();
  });

  it('ends every stream with a final SHUTTING_DOWN event when the server stops', async () => {
    server = await startTestServer();
    const streams = await Promise.all(
      Array.from({ length: 5 }, () => watch(`${server!.url}/v1/projects/p/operations:watch`)),
    );
    const started = Date.now();
    await server.stop();
    server = undefined;
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const stream of streams) {
      await stream.finished;
      const last = stream.events[stream.events.length - 1]!;
      expect(last.event).toBe('end');
      const body = JSON.parse(last.data);
      expect(body.error.status).toBe('UNAVAILABLE');
      expect(body.error.details[0].reason).toBe('SHUTTING_DOWN');
    }
  });
});
