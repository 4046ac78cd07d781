/** Health, readiness, metrics, security headers, CORS, request ids, and safe start-up defaults. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestSecret } from '../../packages/server/src/auth/access.js';
import { startServer } from '../../packages/server/src/server.js';
import { EMPTY_ANY, startTestServer, type TestServer } from '../helpers.js';

const BIN = join(import.meta.dirname, '../../packages/cli/bin/longrun.js');
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ corsOrigins: ['https://console.example'] });
});
afterAll(() => server.stop());

describe('health and metrics', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await server.call('GET', '/healthz')).json).toEqual({ status: 'ok' });
    expect((await server.call('GET', '/readyz')).json).toEqual({ status: 'ready' });
  });

  it('reports readiness as 503 when the store is gone', async () => {
    const other = await startTestServer();
    await other.store.close();
    const response = await other.call('GET', '/readyz');
    expect(response.status).toBe(503);
    expect(response.json.error.status).toBe('UNAVAILABLE');
    await other.stop();
  });

  it('exports requests, latency, operations by state, open operations and waiters', async () => {
    await server.createOperation('projects/m', 'running');
    await server.createOperation('projects/m', 'ok', { done: true, response: EMPTY_ANY });
    await server.call('GET', '/v1/projects/m/operations/missing');
    const text = (await server.call('GET', '/metrics')).text;
    expect(text).toMatch(/longrun_requests_total\{transport="rest",method="create",code="OK"\} \d+/);
    expect(text).toMatch(/longrun_requests_total\{transport="rest",method="get",code="NOT_FOUND"\} 1/);
    expect(text).toMatch(/longrun_request_duration_seconds_bucket\{le="0.005",transport="rest",method="get"\}/);
    expect(text).toMatch(/longrun_operations\{state="running"\} [1-9]/);
    expect(text).toMatch(/longrun_operations\{state="succeeded"\} [1-9]/);
    expect(text).toMatch(/longrun_open_operations [1-9]/);
    expect(text).toContain('longrun_waiters 0');
    expect(text).toContain('longrun_watchers 0');
    expect(text).toContain('longrun_retention_swept_total');
  });
});

describe('response headers', () => {
  it('sends security headers and a request id on every response', async () => {
    for (const path of ['/v1/operations', '/v1/operations/missing', '/healthz']) {
      const response = await server.call('GET', path);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const traced = await server.call('GET', '/v1/operations', undefined, { 'x-request-id': 'trace-42' });
    expect(traced.headers.get('x-request-id')).toBe('trace-42');
  });

  it('answers CORS only for configured origins', async () => {
    const allowed = await server.call('GET', '/v1/operations', undefined, { origin: 'https://console.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://console.example');
    const preflight = await server.call('OPTIONS', '/v1/operations/x:cancel', undefined, {
      origin: 'https://console.example',
      'access-control-request-method': 'POST',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const foreign = await server.call('GET', '/v1/operations', undefined, { origin: 'https://evil.example' });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const foreignPreflight = await server.call('OPTIONS', '/v1/operations', undefined, {
      origin: 'https://evil.example',
    });
    expect(foreignPreflight.status).toBe(405);
  });
});

describe('safe defaults', () => {
  it('refuses to listen beyond loopback without auth unless --insecure', async () => {
    await expect(startServer({ host: '0.0.0.0', port: 0, store: ':memory:', logLevel: 'silent' })).rejects.toThrow(
      /refusing to listen on 0.0.0.0/,
    );
    const insecure = await startServer({
      host: '0.0.0.0',
      port: 0,
      store: ':memory:',
      logLevel: 'silent',
      insecure: true,
    });
    expect(insecure.authEnabled).toBe(false);
    await insecure.close();
    const secured = await startServer({
      host: '0.0.0.0',
      port: 0,
      store: ':memory:',
      logLevel: 'silent',
      auth: {
        principals: [
          { name: 'a', secrets: [digestSecret('s3cret-value')], grants: [{ role: 'admin', resources: '**' }] },
        ],
      },
    });
    expect(secured.authEnabled).toBe(true);
    await secured.close();
  });

  it('logs one structured line per request, with no secret in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'longrun-logs-'));
    const token = 'very-secret-token-value-1234';
    const config = join(dir, 'longrun.json');
    writeFileSync(
      config,
      JSON.stringify({
        port: 0,
        store: ':memory:',
        pageTokenSecret: 'page-token-secret-value',
        auth: {
          principals: [{ name: 'ops', secrets: [digestSecret(token)], grants: [{ role: 'admin', resources: '**' }] }],
        },
      }),
    );
    const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    for (let i = 0; i < 200 && !/listening on/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
    await fetch(`${url}/v1/operations?key=${token}`, { headers: { 'x-request-id': 'req-1' } });
    await fetch(`${url}/v1/operations`, { headers: { authorization: `Bearer ${token}` } });
    await fetch(`${url}/v1/operations?access_token=${token}`);
    await fetch(`${url}/v1/operations`, { headers: { authorization: 'Bearer wrong-token-guess' } });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
    expect(out).not.toContain(token);
    expect(out).not.toContain('page-token-secret-value');
    expect(out).not.toContain('wrong-token-guess');
    const lines = out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    const requests = lines.filter((line) => line.msg === 'request');
    expect(requests).toHaveLength(4);
    expect(requests[0]).toMatchObject({
      reqId: 'req-1',
      method: 'GET',
      path: '/v1/operations',
      status: 200,
      principal: 'ops',
    });
    expect(requests[3]).toMatchObject({ status: 401 });
  });
});
