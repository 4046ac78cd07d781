/**
 * Kills the server process (SIGKILL) in the middle of a write load, restarts it on the same store
 * (a SQLite file, and a PostgreSQL schema), and checks that every acknowledged write is there, and
 * nothing half-written is.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSchema, describePostgres, postgresUrl } from '../postgres/database.js';

const BIN = join(import.meta.dirname, '../../packages/cli/bin/longrun.js');
const dir = mkdtempSync(join(tmpdir(), 'longrun-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function serve(store: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--store', store, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, url };
}

interface Expected {
  /** Bodies the server acknowledged, in order; the record must match the last or a later sent one. */
  acknowledged: string | undefined;
  /** A write sent and not yet answered when the process died. */
  inFlight: string | undefined;
}

async function crashAndCheck(backend: string, store: string): Promise<void> {
  const { child, url } = await serve(store);
  const expected = new Map<string, Expected>();
  let acknowledgedWrites = 0;
  let killed = false;

  const worker = async (w: number) => {
    for (let i = 0; !killed; i++) {
      const id = `w${w}-${i}`;
      const name = `projects/kill/operations/${id}`;
      const entry: Expected = { acknowledged: undefined, inFlight: undefined };
      expected.set(name, entry);
      const steps = [
        {
          method: 'POST',
          path: '/v1/projects/kill/operations',
          body: { operationId: id, operation: { metadata: { '@type': 'type.googleapis.com/k.M', step: 0 } } },
        },
        {
          method: 'PATCH',
          path: `/v1/${name}`,
          body: { operation: { metadata: { '@type': 'type.googleapis.com/k.M', step: 1 } } },
        },
        {
          method: 'PATCH',
          path: `/v1/${name}`,
          body: { operation: { done: true, response: { '@type': 'type.googleapis.com/k.R', id } } },
        },
      ];
      for (const step of steps) {
        try {
          const response = await fetch(url + step.path, {
            method: step.method,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(step.body),
          });
          const text = await response.text();
          if (response.status !== 200) throw new Error(`${response.status} ${text}`);
          entry.acknowledged = text;
          entry.inFlight = undefined;
          acknowledgedWrites++;
        } catch (error) {
          if (!killed) throw error;
          entry.inFlight = JSON.stringify(step.body);
          return;
        }
      }
    }
  };
  const workers = Array.from({ length: 8 }, (_, w) => worker(w));
  while (acknowledgedWrites < 600) await new Promise((resolve) => setTimeout(resolve, 5));
  killed = true;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await Promise.all(workers);
  await exited;

  const restarted = await serve(store);
  try {
    let checked = 0;
    for (const [name, entry] of expected) {
      const response = await fetch(`${restarted.url}/v1/${name}`);
      const text = await response.text();
      if (entry.acknowledged === undefined) {
        // Never acknowledged: absent, or created whole.
        if (response.status === 200) expect(JSON.parse(text).name).toBe(name);
        else expect(response.status).toBe(404);
        continue;
      }
      expect(response.status, name).toBe(200);
      if (text !== entry.acknowledged) {
        // Only the write in flight at the kill may have landed after the last acknowledgement.
        expect(entry.inFlight, `${name}: ${text} vs acknowledged ${entry.acknowledged}`).toBeDefined();
        const sent = JSON.parse(entry.inFlight!).operation;
        expect(JSON.parse(text)).toMatchObject(sent);
      }
      checked++;
    }
    console.log(
      `sigkill (${backend}): ${acknowledgedWrites} acknowledged writes, ${expected.size} operations checked, ` +
        `${checked} with an acknowledged state, 0 lost`,
    );
    expect(checked).toBeGreaterThan(150);
  } finally {
    const stopped = new Promise((resolve) => restarted.child.once('exit', resolve));
    restarted.child.kill('SIGTERM');
    await stopped;
  }
}

describe('SIGKILL under write load', () => {
  it('keeps every acknowledged write on SQLite', () => crashAndCheck('sqlite', join(dir, 'kill.db')));
});

describePostgres('SIGKILL under write load (PostgreSQL)', () => {
  it('keeps every acknowledged write on PostgreSQL', async () => {
    if (!postgresUrl) return;
    const schema = await createSchema();
    try {
      await crashAndCheck('postgres', schema.url);
    } finally {
      await schema.drop();
    }
  });
});
