/**
 * A soak: minutes of mixed load (create, progress, wait, list, get, cancel, complete, delete)
 * against a server process, sampling its memory. Memory must level off: the last quarter of the
 * run may not sit much above the second quarter.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const SECONDS = Number(process.env.LONGRUN_SOAK_SECONDS ?? 120);
const BIN = join(import.meta.dirname, '../../packages/cli/bin/longrun.js');

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)![1]);
}

it(
  `keeps memory flat through ${SECONDS}s of mixed load`,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'longrun-soak-'));
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--store', join(dir, 'soak.db'), '--log-level', 'warn', '--cancel-grace', '0.2s'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    for (let i = 0; i < 200 && !/listening on/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
    const json = { 'content-type': 'application/json' };
    const deadline = Date.now() + SECONDS * 1000;
    let requests = 0;
    let errors = 0;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(url + path, {
        method,
        headers: json,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await response.arrayBuffer();
      requests++;
      if (response.status >= 500) errors++;
      return response.status;
    };
    const worker = async (w: number) => {
      for (let i = 0; Date.now() < deadline; i++) {
        const id = `w${w}-${i}`;
        const name = `/v1/projects/soak/operations/${id}`;
        await call('POST', '/v1/projects/soak/operations', {
          operationId: id,
          operation: { metadata: { '@type': 'type.googleapis.com/s.M', p: 0 } },
        });
        await call('PATCH', name, {
          operation: { metadata: { '@type': 'type.googleapis.com/s.M', p: 50, pad: 'x'.repeat(512) } },
        });
        const waiting = call('POST', `${name}:wait`, { timeout: '5s' });
        await call('GET', name);
        await call('GET', '/v1/projects/soak/operations?pageSize=20&filter=done%20%3D%20false');
        if (i % 3 === 0) await call('POST', `${name}:cancel`);
        else
          await call('PATCH', name, {
            operation: { done: true, response: { '@type': 'type.googleapis.com/s.R', id } },
          });
        await waiting;
        await call('DELETE', name);
      }
    };
    const samples: number[] = [];
    const sampler = (async () => {
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2000));
        samples.push(await metric(url, 'longrun_process_resident_memory_bytes'));
      }
    })();
    await Promise.all([...Array.from({ length: 16 }, (_, w) => worker(w)), sampler]);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });

    const quarter = Math.floor(samples.length / 4);
    const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const second = average(samples.slice(quarter, 2 * quarter));
    const last = average(samples.slice(-quarter));
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    console.log(
      `soak: ${SECONDS}s, ${requests} requests, ${errors} 5xx, RSS ${mb(samples[0]!)} MB at start, ` +
        `${mb(second)} MB in the second quarter, ${mb(last)} MB in the last, peak ${mb(Math.max(...samples))} MB`,
    );
    expect(errors).toBe(0);
    expect(samples.length).toBeGreaterThanOrEqual(4);
    expect(last).toBeLessThan(second * 1.25);
  },
  (SECONDS + 60) * 1000,
);
