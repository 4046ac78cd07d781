/** Shared test helpers: a real server on a temporary SQLite file, and a small fetch wrapper. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerConfig } from '../packages/server/src/config.js';
import { type RunningServer, startServer } from '../packages/server/src/server.js';

export interface TestServer extends RunningServer {
  /** fetch against the server; the body is parsed as JSON when there is one. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  /** Creates an operation through REST and returns its JSON. */
  createOperation(parent: string, operationId: string, operation?: unknown): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function startTestServer(config: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-test-'));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    store: join(dir, 'test.db'),
    logLevel: 'silent',
    ...config,
  });
  const call: TestServer['call'] = async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(server.url + path, init);
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  return {
    ...server,
    call,
    async createOperation(parent, operationId, operation = {}) {
      const path = parent === '' ? '/v1/operations' : `/v1/${parent}/operations`;
      const response = await call('POST', path, { operationId, operation });
      if (response.status !== 200) throw new Error(`create failed: ${response.text}`);
      return response.json;
    },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The ErrorInfo detail of an AIP-193 error body. */
export function errorInfo(body: any): { reason: string; domain: string; metadata?: Record<string, string> } {
  return body.error.details.find((d: any) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo');
}

export const EMPTY_ANY = { '@type': 'type.googleapis.com/google.protobuf.Empty' };
