/**
 * `longrun serve --grpc-port 0 --descriptor-set FILE` as a user runs it: it prints the gRPC
 * address beside the REST one, and Google's client reads, over gRPC, a registered type that was
 * written as JSON over REST.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { afterAll, expect, it } from 'vitest';
import { exampleDescriptorSetFile, exampleTypes, gaxOperationsClient } from './grpc-helpers.js';

const BIN = join(import.meta.dirname, '../../packages/cli/bin/longrun.js');
const dir = mkdtempSync(join(tmpdir(), 'longrun-cli-grpc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('serves gRPC on --grpc-port with the types of --descriptor-set', async () => {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--port',
      '0',
      '--grpc-port',
      '0',
      '--store',
      ':memory:',
      '--log-level',
      'warn',
      '--descriptor-set',
      exampleDescriptorSetFile(dir),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    for (let i = 0; i < 200 && !/gRPC listening on/.test(stdout); i++) await new Promise((r) => setTimeout(r, 50));
    const restUrl = /longrun listening on (http:\/\/\S+)/.exec(stdout)![1]!;
    const grpcUrl = /gRPC listening on (http:\/\/\S+)/.exec(stdout)![1]!;
    expect(grpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const created = await fetch(`${restUrl}/v1/operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        operationId: 'cli',
        operation: { metadata: { '@type': 'type.googleapis.com/example.v1.ExportMetadata', progressPercent: 33 } },
      }),
    });
    expect(created.status).toBe(200);
    const client = gaxOperationsClient(Number(new URL(grpcUrl).port));
    const [operation] = await client.getOperation({ name: 'operations/cli' });
    await client.close();
    const metadata = fromBinary(exampleTypes().getMessage('example.v1.ExportMetadata')!, operation.metadata.value);
    expect((metadata as unknown as { progressPercent: number }).progressPercent).toBe(33);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
});
