/** Watch limits over real sockets: streams per client and per server, slow consumers, 1,000 watchers. */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_ANY, errorInfo, type TestServer } from '../helpers.js';
import { startPushTestServer as startTestServer } from './backend.js';
import { openSse, type SseStream, watch } from './sse-client.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('stream limits', () => {
  it('refuses streams past the per-client limit with 429 TOO_MANY_STREAMS, and frees the slot on close', async () => {
    server = await startTestServer({ watchMaxStreamsPerClient: 2 });
    const s = server;
    const a = await watch(`${s.url}/v1/projects/p/operations:watch`);
    const b = await watch(`${s.url}/v1/projects/p/operations:watch`);
    const refused = await openSse(`${s.url}/v1/projects/p/operations:watch`);
    expect(refused.result.status).toBe(429);
    expect(refused.result.headers['retry-after']).toBe('1');
    const body = JSON.parse(refused.result.body!);
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(errorInfo(body)).toMatchObject({ reason: 'TOO_MANY_STREAMS', metadata: { limit: '2' } });
    a.close();
    await until(() => s.push!.streams.size === 1);
    const c = await watch(`${s.url}/v1/projects/p/operations:watch`);
    b.close();
    c.close();
  });

  it('refuses streams past the per-server limit', async () => {
    server = await startTestServer({ watchMaxStreams: 3, watchMaxStreamsPerClient: 10 });
    const s = server;
    const open = await Promise.all([1, 2, 3].map(() => watch(`${s.url}/v1/projects/p/operations:watch`)));
    const refused = await openSse(`${s.url}/v1/projects/p/operations:watch`);
    expect(refused.result.status).toBe(429);
    expect(JSON.parse(refused.result.body!).error.message).toMatch(/this server already holds 3/i);
    for (const stream of open) stream.close();
  });
});

describe('slow consumers', () => {
  it('drops a consumer that stops reading with a final SLOW_CONSUMER event, without buffering more', async () => {
    const bound = 64 * 1024;
    server = await startTestServer({ watchMaxBufferedBytes: bound });
    const s = server;
    await s.createOperation('projects/slow', 'op', { metadata: { '@type': 'type.googleapis.com/t.M', blob: '' } });
    const port = new URL(s.url).port;
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET /v1/projects/slow/operations/op:watch HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n\r\n`,
    );
    await until(() => s.push!.streams.size === 1);
    socket.pause(); // Reads nothing from here on: the kernel buffers fill, then the server's.

    const blob = 'x'.repeat(200 * 1024);
    let patches = 0;
    while (s.push!.streams.size > 0 && patches < 400) {
      const response = await s.call('PATCH', '/v1/projects/slow/operations/op', {
        operation: { metadata: { '@type': 'type.googleapis.com/t.M', blob: `${patches}${blob}` } },
        updateMask: 'metadata',
      });
      expect(response.status).toBe(200);
      patches++;
    }
    expect(s.push!.streams.size).toBe(0);
    expect(patches).toBeLessThan(400);

    // Reading again, the consumer gets what was buffered, then the final event, then the end.
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    const text = Buffer.concat(chunks).toString('utf8');
    const frames = text.split('\n\n').filter((frame) => frame.includes('event: '));
    const last = frames[frames.length - 1]!;
    expect(last).toContain('event: end');
    const data = JSON.parse(last.slice(last.indexOf('data: ') + 6));
    expect(data.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(data.error.details[0]).toMatchObject({
      reason: 'SLOW_CONSUMER',
      metadata: { maxBufferedBytes: String(bound) },
    });
    // Fewer progress events reached it than were made: the rest were never buffered.
    const progress = frames.filter((frame) => frame.includes('event: progress')).length;
    expect(progress).toBeLessThan(patches);
    // It resumes from the last id it got, and misses nothing.
    const ids = frames.map((frame) => /^id: (\d+)$/m.exec(frame)?.[1]).filter((id) => id !== undefined);
    const resumed = await watch(`${s.url}/v1/projects/slow/operations/op:watch`, {
      'last-event-id': ids[ids.length - 1]!,
    });
    await resumed.waitForEvents(patches - progress);
    expect(resumed.events.map((e) => e.event)).toEqual(Array(patches - progress).fill('progress'));
    resumed.close();
  });
});

describe('1,000 concurrent watchers', () => {
  it('delivers every event, in order, to each of 1,000 SSE streams over real sockets', {
    timeout: 60_000,
  }, async () => {
    server = await startTestServer();
    const s = server;
    await s.createOperation('projects/many', 'op', { metadata: { '@type': 'type.googleapis.com/t.M', n: 0 } });
    const streams: SseStream[] = [];
    const filter = encodeURIComponent('metadata.n >= 0');
    for (let batch = 0; batch < 10; batch++) {
      streams.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            i % 2 === 0
              ? watch(`${s.url}/v1/projects/many/operations/op:watch`)
              : watch(`${s.url}/v1/projects/many/operations:watch?filter=${filter}`),
          ),
        )),
      );
    }
    expect(s.push!.streams.size).toBe(1000);
    await Promise.all(streams.map((stream) => stream.waitForEvents(1)));
    for (let n = 1; n <= 5; n++) {
      await s.call('PATCH', '/v1/projects/many/operations/op', {
        operation: { metadata: { '@type': 'type.googleapis.com/t.M', n } },
        updateMask: 'metadata',
      });
    }
    await s.call('PATCH', '/v1/projects/many/operations/op', { operation: { done: true, response: EMPTY_ANY } });
    await Promise.all(streams.map((stream) => stream.waitForEvents(7, 30_000)));
    const expected = streams[0]!.events.slice(1).map((e) => `${e.id} ${e.event} ${e.data}`);
    expect(expected).toHaveLength(6);
    for (const stream of streams) {
      expect(stream.events.slice(1).map((e) => `${e.id} ${e.event} ${e.data}`)).toEqual(expected);
    }
    for (const stream of streams) stream.close();
    await until(() => s.push!.streams.size === 0, 10_000);
  });
});
