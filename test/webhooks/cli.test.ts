/** `longrun webhooks …` as a user runs it, against a real server and a real receiver. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_ANY, startTestServer, type TestServer } from '../helpers.js';
import { Receiver } from './receiver.js';

const BIN = join(import.meta.dirname, '../../packages/cli/bin/longrun.js');
const exec = promisify(execFile);

let server: TestServer | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await server?.stop();
  await receiver?.close();
  server = undefined;
  receiver = undefined;
});

async function longrun(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], {
      env: { ...process.env, LONGRUN_ENDPOINT: server!.url },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

describe('longrun webhooks', () => {
  it('creates, lists, shows, updates, lists deliveries, redelivers the failed ones, and deletes', async () => {
    receiver = await Receiver.start();
    receiver.behaviour = () => 500;
    server = await startTestServer({ webhookRetryBaseMs: 20, webhookRetryMaxMs: 20, webhookMaxAttempts: 2 });
    const created = await longrun(
      'webhooks',
      'create',
      'projects/cli',
      '--uri',
      receiver.url,
      '--id',
      'hook',
      '--events',
      'done',
    );
    expect(created.code).toBe(0);
    const webhook = JSON.parse(created.stdout);
    expect(webhook).toMatchObject({ name: 'projects/cli/webhooks/hook', uri: receiver.url, events: ['done'] });
    expect(webhook.secret).toMatch(/^whsec_/);

    const list = await longrun('webhooks', 'list', 'projects/cli');
    expect(list.stdout).toMatch(/^NAME\s+URI\s+EVENTS\s+FILTER\n/);
    expect(list.stdout).toContain(`projects/cli/webhooks/hook  ${receiver.url}  done`);
    expect(JSON.parse((await longrun('webhooks', 'get', 'projects/cli/webhooks/hook')).stdout).secret).toBeUndefined();
    const updated = await longrun('webhooks', 'update', 'projects/cli/webhooks/hook', '--filter', 'done = true');
    expect(JSON.parse(updated.stdout).filter).toBe('done = true');

    await server.createOperation('projects/cli', 'job');
    await server.call('PATCH', '/v1/projects/cli/operations/job', { operation: { done: true, response: EMPTY_ANY } });
    await receiver.waitFor(2);
    for (let i = 0; i < 200; i++) {
      const failed = await server.call('GET', '/v1/projects/cli/webhooks/hook/deliveries?state=FAILED');
      if (failed.json.deliveries) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const deliveries = await longrun('webhooks', 'deliveries', 'projects/cli/webhooks/hook', '--state', 'FAILED');
    expect(deliveries.stdout).toMatch(/^DELIVERY\s+STATE\s+ATTEMPTS\s+EVENT\s+OPERATION\s+LAST ERROR\n/);
    expect(deliveries.stdout).toMatch(/FAILED\s+2\s+done\s+projects\/cli\/operations\/job\s+HTTP 500/);

    receiver.behaviour = () => 200;
    const redelivered = await longrun('webhooks', 'redeliver', 'projects/cli/webhooks/hook', '--failed');
    expect(redelivered.stdout).toMatch(/^Redelivering projects\/cli\/webhooks\/hook\/deliveries\/[0-9a-f-]+\.\n$/);
    await receiver.waitFor(3);

    const deleted = await longrun('webhooks', 'delete', 'projects/cli/webhooks/hook');
    expect(deleted.stdout).toBe('Deleted projects/cli/webhooks/hook.\n');
    const missing = await longrun('webhooks', 'get', 'projects/cli/webhooks/hook');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('longrun: NOT_FOUND (404): Webhook "projects/cli/webhooks/hook" not found\n');
    const usage = await longrun('webhooks', 'create', 'projects/cli', '--uri', receiver.url, '--events', 'created');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^longrun: option '--events <events>' argument 'created' is invalid/);
  });
});
