/** `longrun serve` as a user runs it: a subprocess, its output, its signals and its exit codes. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redactStore } from '../../packages/cli/src/serve.js';

const BIN = join(import.meta.dirname, '../../packages/cli/bin/longrun.js');
const cwd = mkdtempSync(join(tmpdir(), 'longrun-cli-'));
const sockets = new Set<Socket>();
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => {});
});
await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  rmSync(cwd, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // A process killed by a signal exits with that signal's name instead of a code, and its stderr
  // goes with it, so a failure says how the server died.
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? `${signal}: ${stderr}`)),
  );
  const listening = async (): Promise<string> => {
    for (let i = 0; i < 200 && !/listening on/.test(stdout); i++) await new Promise((r) => setTimeout(r, 50));
    return /listening on (http:\/\/\S+)/.exec(stdout)![1]!;
  };
  return { child, exited, listening, output: () => ({ stdout, stderr }) };
}

describe('longrun serve', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'serves on the default SQLite file and stops cleanly on %s',
    async (signal) => {
      const server = run(['serve', '--port', '0', '--log-level', 'warn']);
      const url = await server.listening();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${url}/v1/operations`)).status).toBe(200);
      expect(existsSync(join(cwd, 'data', 'longrun.db'))).toBe(true);
      server.child.kill(signal);
      expect(await server.exited).toBe(0);
      expect(server.output().stdout).toContain(`${signal}, shutting down`);
    },
  );

  it('answers a pending wait with the current state when it shuts down', async () => {
    const server = run(['serve', '--port', '0', '--store', ':memory:', '--log-level', 'warn']);
    const url = await server.listening();
    await fetch(`${url}/v1/operations`, {
      method: 'POST',
      body: '{"operationId":"w"}',
      headers: { 'content-type': 'application/json' },
    });
    const waiting = fetch(`${url}/v1/operations/w:wait`, { method: 'POST' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    const response = await waiting;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'operations/w' });
    expect(await server.exited).toBe(0);
  });

  it('stops at once when signalled while it is still starting', async () => {
    // A "database" that accepts the connection and never answers: the server waits in its start.
    const connected = new Promise<void>((resolve) => {
      silent.once('connection', () => resolve());
    });
    const { port } = silent.address() as AddressInfo;
    const server = run(['serve', '--port', '0', '--log-level', 'warn', '--store', `postgres://x@127.0.0.1:${port}/db`]);
    await connected;
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output().stdout).toBe('longrun: SIGTERM, shutting down\n');
  });

  it('takes settings from the environment, and flags win over it', async () => {
    const server = run(['serve', '--store', ':memory:'], {
      LONGRUN_PORT: '0',
      LONGRUN_LOG_LEVEL: 'warn',
      LONGRUN_HOST: '127.0.0.1',
    });
    expect(await server.listening()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses a bad setting with one clear line and exit code 2', async () => {
    const bad = run(['serve', '--port', 'eighty']);
    expect(await bad.exited).toBe(2);
    expect(bad.output().stderr.trim()).toBe('longrun: --port: "eighty" is not an integer from 0 to 65535');
    const badEnv = run(['serve', '--port', '0'], { LONGRUN_CANCEL_GRACE: 'soon' });
    expect(await badEnv.exited).toBe(2);
    expect(badEnv.output().stderr).toContain('LONGRUN_CANCEL_GRACE');
  });
});

describe('redactStore', () => {
  it('hides a PostgreSQL password and leaves everything else as it is', () => {
    expect(redactStore('postgres://app:s3cr%40t@db.internal:5432/longrun')).toBe(
      'postgres://app:***@db.internal:5432/longrun',
    );
    expect(redactStore('postgresql://app@db/longrun')).toBe('postgresql://app@db/longrun');
    expect(redactStore('./data/longrun.db')).toBe('./data/longrun.db');
  });
});
