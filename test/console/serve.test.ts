/** The console's server side, without a browser: the page, its assets and headers, and its read endpoints. */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestSecret } from '../../packages/server/src/auth/access.js';
import { errorInfo, startTestServer, type TestServer } from '../helpers.js';

const META = (percent: number) => ({ '@type': 'type.googleapis.com/test.Progress', percent });

describe('the console page and assets', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('serves the page at / under a strict CSP of its own', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy')!;
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "img-src 'self' data:",
      "frame-ancestors 'none'",
      "require-trusted-types-for 'script'",
      "trusted-types 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    // No inline script or style: every script and stylesheet is a file from this server.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).toMatch(/<script type="module" src="\/console\/assets\/main\.js\?v=[\w-]+"><\/script>/);
    for (const path of ['/console', '/console/']) expect((await fetch(server.url + path)).status).toBe(200);
  });

  it('serves every asset the page names, with its type, an ETag, gzip and 304s, and nothing else', async () => {
    const html = await (await fetch(`${server.url}/`)).text();
    const paths = [...html.matchAll(/(?:href|src)="(\/console\/assets\/[^"?]+)/g)].map((m) => m[1]!);
    expect(paths).toContain('/console/assets/console.css');
    expect(paths).toContain('/console/assets/main.js');
    let total = 0;
    for (const path of paths) {
      const response = await fetch(server.url + path, { headers: { 'accept-encoding': 'gzip' } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(path.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      total += Number(response.headers.get('content-length') ?? (await response.arrayBuffer()).byteLength);
      const etag = response.headers.get('etag')!;
      const again = await fetch(server.url + path, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
    }
    // Small: the whole console, gzipped, is a few tens of kilobytes.
    expect(total).toBeLessThan(80_000);
    // gzip on the wire when asked for (fetch decodes it; read the raw bytes through node:http instead).
    const raw = await new Promise<Buffer>((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get(`${server.url}/console/assets/main.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          expect(res.headers['content-encoding']).toBe('gzip');
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject),
      );
    });
    expect(gunzipSync(raw).toString('utf8')).toContain('hashchange');
    for (const path of [
      '/console/assets/../../package.json',
      '/console/assets/tsconfig.tsbuildinfo',
      '/console/assets/x.js',
    ]) {
      const response = await server.call('GET', path);
      expect(response.status, path).toBe(404);
      expect(errorInfo(response.json).reason).toBe('PATH_NOT_FOUND');
    }
    expect((await server.call('POST', '/')).status).toBe(405);
  });
});

describe('the console read endpoints', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ cancelGracePeriodMs: 60_000 });
    await server.createOperation('projects/a', 'one', { metadata: META(10) });
    await server.createOperation('projects/a', 'two', { done: true, response: META(100) });
    await server.createOperation('projects/a', 'three', { done: true, error: { code: 5, message: 'gone' } });
    await server.createOperation('projects/a', 'four');
    await server.call('POST', '/v1/projects/a/operations/four:cancel');
    await server.createOperation('projects/b', 'five', { done: true, error: { code: 1, message: 'stopped' } });
    await server.createOperation('projects/c/locations/x', 'six');
    await server.createOperation('', 'top');
  });
  afterAll(() => server.stop());

  it('lists the parents, most recently active first, with wildcard patterns covering several', async () => {
    const response = await server.call('GET', '/console/api/parents');
    expect(response.status).toBe(200);
    expect(response.json.supported).toBe(true);
    expect(response.json.complete).toBe(true);
    expect(response.json.parents.map((p: any) => p.parent)).toEqual([
      '',
      'projects/c/locations/x',
      'projects/b',
      'projects/a',
    ]);
    expect(response.json.parents[0].latestCreateTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(response.json.patterns).toEqual(['projects/-']);
  });

  it('summarises a parent, or a pattern: counts by state and activity in buckets', async () => {
    const response = await server.call('GET', '/console/api/summary?parent=projects/a&windowSeconds=3600');
    expect(response.status).toBe(200);
    expect(response.json.counts).toEqual({
      running: 2,
      cancelRequested: 1,
      succeeded: 1,
      failed: 1,
      cancelled: 0,
      total: 4,
    });
    const { activity } = response.json;
    expect(activity.created).toHaveLength(48);
    expect(activity.bucketSeconds).toBe(120);
    expect(activity.created.reduce((a: number, b: number) => a + b, 0)).toBe(4);
    expect(activity.finished.reduce((a: number, b: number) => a + b, 0)).toBe(2);
    expect(Date.parse(activity.startTime)).toBeLessThan(Date.now() - 3500_000);
    const all = await server.call('GET', '/console/api/summary?parent=projects/-');
    expect(all.json.counts).toMatchObject({ total: 5, cancelled: 1 });
    const top = await server.call('GET', '/console/api/summary?parent=');
    expect(top.json.counts.total).toBe(1);
    const bad = await server.call('GET', '/console/api/summary?parent=projects');
    expect(bad.status).toBe(400);
  });

  it('tells when each operation was created, updated, cancel-requested and done', async () => {
    const response = await server.call('POST', '/console/api/times', {
      names: [
        'projects/a/operations/one',
        'projects/a/operations/two',
        'projects/a/operations/four',
        'projects/a/operations/nope',
        'bad name',
      ],
    });
    expect(response.status).toBe(200);
    const { times } = response.json;
    expect(Object.keys(times).sort()).toEqual([
      'projects/a/operations/four',
      'projects/a/operations/one',
      'projects/a/operations/two',
    ]);
    expect(times['projects/a/operations/one'].doneTime).toBeUndefined();
    expect(times['projects/a/operations/two'].doneTime).toMatch(/Z$/);
    expect(times['projects/a/operations/four'].cancelRequestTime).toMatch(/Z$/);
    expect((await server.call('POST', '/console/api/times', { names: 'x' })).status).toBe(400);
    expect((await server.call('POST', '/console/api/times', '{')).status).toBe(400);
    expect((await server.call('GET', '/console/api/times')).status).toBe(405);
  });
});

describe('the console read endpoints with auth on', () => {
  let server: TestServer;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  beforeAll(async () => {
    server = await startTestServer({
      auth: {
        principals: [
          { name: 'root', secrets: [digestSecret('root-token')], grants: [{ role: 'admin', resources: '**' }] },
          {
            name: 'viewer',
            secrets: [digestSecret('viewer-token')],
            grants: [{ role: 'viewer', resources: 'projects/acme/**' }],
          },
        ],
      },
    });
    for (const parent of ['projects/acme', 'projects/other']) {
      const response = await server.call(
        'POST',
        `/v1/${parent}/operations`,
        { operationId: 'x' },
        bearer('root-token'),
      );
      expect(response.status).toBe(200);
    }
  });
  afterAll(() => server.stop());

  it('authenticates as the API does, and shows each caller only what it may list or get', async () => {
    // The page itself is public: it holds no data.
    expect((await server.call('GET', '/')).status).toBe(200);
    for (const [method, path] of [
      ['GET', '/console/api/parents'],
      ['GET', '/console/api/summary?parent=projects/acme'],
      ['POST', '/console/api/times'],
    ] as const) {
      const anonymous = await server.call(method, path, method === 'POST' ? { names: [] } : undefined);
      expect(anonymous.status, path).toBe(401);
      const wrong = await server.call(method, path, method === 'POST' ? { names: [] } : undefined, bearer('nope'));
      expect(wrong.status, path).toBe(401);
    }
    const viewerParents = await server.call('GET', '/console/api/parents', undefined, bearer('viewer-token'));
    expect(viewerParents.json.parents.map((p: any) => p.parent)).toEqual(['projects/acme']);
    expect(viewerParents.json.patterns).toEqual([]);
    const rootParents = await server.call('GET', '/console/api/parents', undefined, bearer('root-token'));
    expect(rootParents.json.parents.map((p: any) => p.parent).sort()).toEqual(['projects/acme', 'projects/other']);
    expect(rootParents.json.patterns).toEqual(['projects/-']);

    const denied = await server.call(
      'GET',
      '/console/api/summary?parent=projects/other',
      undefined,
      bearer('viewer-token'),
    );
    expect(denied.status).toBe(403);
    const allowed = await server.call(
      'GET',
      '/console/api/summary?parent=projects/acme',
      undefined,
      bearer('viewer-token'),
    );
    expect(allowed.json.counts.total).toBe(1);

    const times = await server.call(
      'POST',
      '/console/api/times',
      { names: ['projects/acme/operations/x', 'projects/other/operations/x'] },
      bearer('viewer-token'),
    );
    expect(Object.keys(times.json.times)).toEqual(['projects/acme/operations/x']);
  });
});
