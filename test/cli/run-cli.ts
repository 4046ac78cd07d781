/** Runs the built `longrun` command in a subprocess, as a user or a script would. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../../packages/cli/bin/longrun.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  /** Resolves when the process exits. */
  result: Promise<CliResult>;
  /** Resolves once stderr holds `text` (rejects after 10 s). */
  stderrIncludes(text: string): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/** This process's environment without its LONGRUN_* settings (a developer's own must not leak in), plus `env`. */
export function cliEnv(env: Record<string, string> = {}): Record<string, string> {
  const base = Object.entries(process.env).filter(([key]) => !key.startsWith('LONGRUN_'));
  return { ...(Object.fromEntries(base) as Record<string, string>), ...env };
}

export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const result = new Promise<CliResult>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return {
    result,
    async stderrIncludes(text) {
      for (let waited = 0; !stderr.includes(text); waited += 20) {
        if (waited > 10_000) throw new Error(`stderr never included ${JSON.stringify(text)}: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    kill: (signal) => child.kill(signal),
  };
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).result;
}
