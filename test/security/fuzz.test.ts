/**
 * Thousands of malformed requests (paths, names, bodies, query strings, tokens, filters, headers),
 * sent as raw HTTP over a socket so nothing in a client library tidies them up. Every answer must
 * be below 500, and every error must be the AIP-193 envelope with an ErrorInfo.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { digestSecret } from '../../packages/server/src/auth/access.js';
import { startTestServer, type TestServer } from '../helpers.js';

const REQUESTS = 4000;
const TOKEN = 'fuzz-token-0123456789';
let server: TestServer;
let port: number;

beforeAll(async () => {
  server = await startTestServer({
    maxBodyBytes: 16 * 1024,
    waitMaxMs: 200,
    auth: {
      principals: [
        { name: 'fuzzer', secrets: [digestSecret(TOKEN)], grants: [{ role: 'admin', resources: 'projects/fz/**' }] },
      ],
    },
  });
  port = Number(new URL(server.url).port);
  await server.call(
    'POST',
    '/v1/projects/fz/operations',
    { operationId: 'known' },
    { authorization: `Bearer ${TOKEN}` },
  );
});
afterAll(() => server.stop());

/** A small deterministic generator (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

const PIECES = [
  'v1',
  'v2alpha',
  'projects',
  'fz',
  'operations',
  'known',
  'missing',
  '-',
  '..',
  '.',
  '%2F',
  '%2f',
  '%00',
  '%ZZ',
  '%',
  '%E2%82',
  'ü',
  '%C3%BC',
  ':cancel',
  ':wait',
  ':watch',
  ':x',
  ':',
  '*',
  '**',
  '~',
  'a'.repeat(300),
  '$discovery',
  'healthz',
  'metrics',
  '%24.xgafv',
  '?',
  '#',
  ';',
  ',',
  '"',
  "'",
  '<script>',
  '{+name}',
  '\\',
  '%20',
  '+',
];
const METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'get'];
const QUERY_NAMES = [
  'filter',
  'pageSize',
  'page_size',
  'pageToken',
  'name',
  'timeout',
  'updateMask',
  'operationId',
  '$.xgafv',
  'alt',
  '$alt',
  'prettyPrint',
  'fields',
  '$fields',
  'key',
  'access_token',
  'callback',
  'returnPartialSuccess',
  'unknown',
  '',
];
const QUERY_VALUES = [
  '',
  '1',
  '-1',
  '1e3',
  '99999999999',
  'true',
  'json',
  'proto',
  'json;enum-encoding=int',
  '2',
  '3',
  'name,done',
  'operations(name',
  'done = true',
  'done = ',
  '((((',
  'metadata.x > "',
  'NOT',
  '-',
  '%ZZ',
  '%00',
  '30s',
  '-5s',
  'AAAA',
  'x'.repeat(5000),
  'metadata.@type = type.googleapis.com/x.Y',
  '"\\u0000"',
  '😀',
  '*',
  'cancel_requested = true',
];
const BODIES = [
  '',
  '{}',
  '[]',
  'null',
  '1',
  '"x"',
  '{',
  '{"operation":',
  '{"operationId":"a b"}',
  '{"operationId":"fz-new"}',
  '{"operation":{"done":true}}',
  '{"operation":{"done":"yes"}}',
  '{"operation":{"metadata":{}}}',
  '{"operation":{"metadata":{"@type":""}}}',
  '{"operation":{"error":{"code":99}}}',
  '{"updateMask":"nope"}',
  '{"timeout":"-1s"}',
  '{"timeout":5}',
  '{"__proto__":{"x":1}}',
  '{"constructor":{"prototype":{}}}',
  `{"a":${'['.repeat(2000)}${']'.repeat(2000)}}`,
  `{"operationId":"${'x'.repeat(20000)}"}`,
  '\u0000\u0001',
  '{"operation":{"metadata":{"@type":"type.googleapis.com/x.Y","n":123456789012345678901234567890}}}',
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  '',
  'application/x-protobuf',
  '*/*',
];
const AUTH = [
  `Bearer ${TOKEN}`,
  `Bearer ${TOKEN}`,
  `Bearer ${TOKEN}`,
  'Bearer wrong',
  'Basic abc',
  'Bearer',
  '',
  `bearer ${TOKEN}`,
];

function buildRequest(seed: number): { text: string; description: string } {
  const r = random(seed);
  const segments = Array.from({ length: 1 + r.int(7) }, () => r.pick(PIECES));
  let path = `/${segments.join(r.next() < 0.9 ? '/' : '//')}`;
  if (r.next() < 0.3)
    path = `/v1/projects/fz/operations/${r.pick(['known', 'missing', 'x', '-'])}${r.pick(['', ':cancel', ':wait', ':watch', ''])}`;
  const query = Array.from(
    { length: r.int(4) },
    () => `${r.pick(QUERY_NAMES)}=${encodeURIComponent(r.pick(QUERY_VALUES))}`,
  );
  if (r.next() < 0.1) query.push(r.pick(['%ZZ', '&&', '=', 'a=%', 'pageToken=%E0']));
  const method = r.pick(METHODS);
  const body = r.next() < 0.6 ? r.pick(BODIES) : '';
  const headers = [`Host: 127.0.0.1:${port}`, 'Connection: close'];
  const auth = r.pick(AUTH);
  if (auth) headers.push(`Authorization: ${auth}`);
  const contentType = r.pick(CONTENT_TYPES);
  if (body !== '' || r.next() < 0.3) {
    if (contentType) headers.push(`Content-Type: ${contentType}`);
    headers.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  if (r.next() < 0.1) headers.push(`X-Goog-FieldMask: ${r.pick(QUERY_VALUES)}`);
  if (r.next() < 0.05) headers.push(`X-Goog-Api-Key: ${r.pick([TOKEN, 'nope', ''])}`);
  const target = query.length ? `${path}?${query.join('&')}` : path;
  const text = `${method} ${target} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n${body}`;
  return { text, description: `seed ${seed}: ${method} ${target.slice(0, 200)} body ${body.slice(0, 80)}` };
}

/** Sends raw bytes and reads the raw answer (the server closes the connection). */
function send(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('timed out')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', (error) => (chunks.length ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(error)));
    socket.write(text, 'latin1');
  });
}

it(`answers ${REQUESTS} malformed requests without a 5xx, every error an AIP-193 body`, async () => {
  const statuses = new Map<number, number>();
  for (let seed = 1; seed <= REQUESTS; seed++) {
    const { text, description } = buildRequest(seed);
    const raw = await send(text).catch((error: Error) => {
      throw new Error(`${description}: ${error.message}`);
    });
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    expect(status, description).toBeGreaterThanOrEqual(200);
    expect(status, description).toBeLessThan(500);
    if (status < 400 || /^HEAD /.test(text)) continue;
    // Node answers requests it cannot parse as HTTP itself (400 with no body); everything that
    // reached longrun carries the envelope.
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    if (body === '' && status === 400) continue;
    const json = JSON.parse(body.replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, ''));
    expect(json.error.code, description).toBe(status);
    expect(typeof json.error.message, description).toBe('string');
    expect(json.error.details[0]['@type'], description).toBe('type.googleapis.com/google.rpc.ErrorInfo');
  }
  console.log(`fuzz: ${REQUESTS} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  // The store is intact: the known operation is still there and readable.
  const known = await server.call('GET', '/v1/projects/fz/operations/known', undefined, {
    authorization: `Bearer ${TOKEN}`,
  });
  expect([200]).toContain(known.status);
}, 180_000);
