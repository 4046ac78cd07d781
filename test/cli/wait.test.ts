/**
 * `longrun wait` end to end: its exit code for each way an operation ends, its progress display
 * (plain lines when not a terminal; a spinner and a live bar in one, through `script`'s
 * pseudo-terminal), and Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, OperationsClient } from '../../packages/client/src/index.js';
import { type RunningServer, startServer } from '../../packages/server/src/server.js';
import { BIN, cliEnv, runCli, startCli } from './run-cli.js';

const RESULT = { '@type': 'type.googleapis.com/demo.Result', rows: 7 };
/** Metadata as the worker SDK sends a plain object: a google.protobuf.Value. */
const percent = (value: number) => ({
  '@type': 'type.googleapis.com/google.protobuf.Value',
  value: { percent: value },
});

let server: RunningServer;
let client: OperationsClient;
let env: Record<string, string>;
let ids = 0;

beforeAll(async () => {
  server = await startServer({ host: '127.0.0.1', port: 0, store: ':memory:', logLevel: 'silent' });
  client = new OperationsClient({ endpoint: server.url });
  env = { LONGRUN_ENDPOINT: server.url };
});
afterAll(async () => {
  client.close();
  await server.close();
});

/** A new running operation's name. */
async function running(): Promise<string> {
  const { operation } = await client.create({ parent: 'projects/wait', operationId: `w${++ids}` });
  return operation.name!;
}

describe('longrun wait', () => {
  it('exits 0 once the operation succeeds, with plain progress lines on stderr and no ANSI code', async () => {
    const name = await running();
    const wait = startCli(['wait', name], env);
    await wait.stderrIncludes(`waiting for ${name}\n`);
    await client.reportProgress(name, percent(30));
    await wait.stderrIncludes(`${name}: RUNNING 30%\n`);
    await client.complete(name, RESULT);
    const { code, stdout, stderr } = await wait.result;
    expect(code).toBe(0);
    expect(stdout).toMatch(/^name +projects\/wait\/operations\/w\d+\nstate +SUCCEEDED\n/);
    expect(stdout).toContain(`response  ${JSON.stringify(RESULT)}`);
    expect(stderr).toBe(`waiting for ${name}\n${name}: RUNNING 30%\n`);
    expect(stdout + stderr).not.toContain('\x1b');
  });

  it('prints only the done operation as the server holds it with --json', async () => {
    const name = await running();
    const wait = startCli(['wait', name, '--json'], env);
    setTimeout(() => client.complete(name, RESULT), 300);
    const { code, stdout, stderr } = await wait.result;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual(await client.get(name));
  });

  it('exits 3 when the operation fails, with its error as one line', async () => {
    const { operation } = await client.create({
      parent: 'projects/wait',
      operation: { done: true, error: { code: Code.INVALID_ARGUMENT, message: 'bad input' } },
    });
    const { code, stdout, stderr } = await runCli(['wait', operation.name!, '--json'], env);
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toEqual(operation);
    expect(stderr).toBe(`longrun: ${operation.name} failed: INVALID_ARGUMENT: bad input\n`);
  });

  it('exits 4 when the operation is cancelled: a cancel, then its provider stopping', async () => {
    const name = await running();
    const wait = startCli(['wait', name], env);
    await wait.stderrIncludes('waiting for');
    expect((await runCli(['cancel', name], env)).code).toBe(0);
    // The provider sees the request and acknowledges it, as the worker SDK does.
    expect((await client.getState(name)).cancelRequestTime).toBeInstanceOf(Date);
    await client.fail(name, { code: Code.CANCELLED, message: 'stopped on request' });
    const { code, stdout, stderr } = await wait.result;
    expect(code).toBe(4);
    expect(stdout).toMatch(/^state +CANCELLED$/m);
    expect(stderr).toMatch(new RegExp(`longrun: ${name} was cancelled: CANCELLED: stopped on request\\n$`));
  });

  it('exits 5 when --timeout passes before the operation is done', async () => {
    const name = await running();
    const { code, stdout, stderr } = await runCli(['wait', name, '--timeout', '1s'], env);
    expect(code).toBe(5);
    expect(stdout).toBe('');
    expect(stderr).toBe(`waiting for ${name}\nlongrun: ${name} was not done within 1s\n`);
  });

  it('exits 1 with the error line when there is no such operation', async () => {
    const { code, stderr } = await runCli(['wait', 'projects/wait/operations/none', '--json'], env);
    expect(code).toBe(1);
    expect(stderr).toBe('longrun: NOT_FOUND (404): Operation "projects/wait/operations/none" not found\n');
  });

  it('refuses a --timeout that is not a duration (exit 2)', async () => {
    const { code, stderr } = await runCli(['wait', 'operations/x', '--timeout', 'soon'], env);
    expect(code).toBe(2);
    expect(stderr).toContain('a duration is expected, such as 90s, 10m or 1h');
  });

  it('exits 130 on Ctrl-C', async () => {
    const name = await running();
    const wait = startCli(['wait', name], env);
    await wait.stderrIncludes('waiting for');
    wait.kill('SIGINT');
    expect((await wait.result).code).toBe(130);
  });
});

// util-linux's `script` runs a command in a pseudo-terminal; both stdout and stderr are then a TTY.
const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript) console.warn('longrun wait in a terminal: skipped, `script` (util-linux) is not installed');

describe.skipIf(!hasScript)('longrun wait in a terminal', () => {
  it('shows a spinner, then a live bar once the metadata has a percentage, and erases it before the result', async () => {
    const name = await running();
    // A pseudo-terminal starts with no size; a real one has one.
    const command = `stty cols 100 rows 30; exec ${process.execPath} ${BIN} wait ${name}`;
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: cliEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const seen = async (text: string) => {
      for (let waited = 0; !output.includes(text); waited += 20) {
        if (waited > 10_000) throw new Error(`the terminal never showed ${JSON.stringify(text)}: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await seen(`waiting for ${name}`);
    await client.reportProgress(name, percent(40));
    await seen('] 40%');
    await client.complete(name, RESULT);
    expect(await exited).toBe(0);
    expect(output).toContain('\x1b['); // drawn with ANSI codes
    expect(output).toMatch(/\x1b\[\?25h/); // and the cursor shown again
    expect(output).toMatch(/state +SUCCEEDED/);
  });
});
