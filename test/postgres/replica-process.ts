/** A longrun replica as users run it: `longrun serve --store postgres://…` in a process of its own (built CLI). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../packages/cli/bin/longrun.js');

export interface ReplicaProcess {
  url: string;
  stop(): Promise<void>;
}

export async function startReplica(store: string, args: string[] = []): Promise<ReplicaProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--store', store, '--log-level', 'warn', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 300 && !/listening on/.test(output); i++) {
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const match = /listening on (http:\/\/\S+)/.exec(output);
  if (!match) {
    child.kill('SIGKILL');
    throw new Error(`longrun serve did not start:\n${output}`);
  }
  return {
    url: match[1]!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
