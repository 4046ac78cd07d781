/**
 * `longrun get|list|create|patch|cancel|delete` end to end: the built command in a subprocess
 * against a live server, its output (the table, and `--json` compared with what the server holds),
 * its error lines and its exit codes, and where it takes its endpoint and credentials.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestSecret } from '../../packages/server/src/auth/access.js';
import { type RunningServer, startServer } from '../../packages/server/src/server.js';
import { runCli } from './run-cli.js';

const SETTINGS = { host: '127.0.0.1', port: 0, store: ':memory:', logLevel: 'silent' } as const;
const PROGRESS = { '@type': 'type.googleapis.com/demo.Progress', progressPercent: 25 };
const RESULT = { '@type': 'type.googleapis.com/demo.Result', rows: 7 };

let server: RunningServer;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startServer(SETTINGS);
  env = { LONGRUN_ENDPOINT: server.url };
});
afterAll(() => server.close());

/** What the server holds: the REST answer for `path` (after `/v1/`). */
async function held(path: string): Promise<any> {
  return (await fetch(`${server.url}/v1/${path}`)).json();
}

/** Runs the command, expecting exit code 0 and nothing on stderr, and returns stdout. */
async function ok(...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await runCli(args, env);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return stdout;
}

async function json(...args: string[]): Promise<any> {
  return JSON.parse(await ok(...args, '--json'));
}

describe('create', () => {
  it('creates a nested operation with an id and metadata; --json is the operation the server holds', async () => {
    const created = await json('create', 'projects/cli', '--id', 'c1', '--metadata', JSON.stringify(PROGRESS));
    expect(created).toEqual({ name: 'projects/cli/operations/c1', metadata: PROGRESS });
    expect(await held('projects/cli/operations/c1')).toEqual(created);
  });

  it('creates a top-level operation with an id the server assigns, and shows it as a table', async () => {
    const table = await ok('create');
    expect(table).toMatch(/^name +operations\/[0-9a-f-]{36}\nstate +RUNNING\n$/);
  });
});

describe('get', () => {
  it('prints the JSON the server holds with --json, and a table by default', async () => {
    await json('create', 'projects/get', '--id', 'g', '--metadata', JSON.stringify(PROGRESS));
    expect(await json('get', 'projects/get/operations/g')).toEqual(await held('projects/get/operations/g'));
    const table = await ok('get', 'projects/get/operations/g');
    expect(table.split('\n')).toEqual([
      'name      projects/get/operations/g',
      'state     RUNNING',
      'progress  25%',
      `metadata  ${JSON.stringify(PROGRESS)}`,
      '',
    ]);
  });

  it('prints a NOT_FOUND as one line on stderr, nothing on stdout, and exits 1', async () => {
    const result = await runCli(['get', 'operations/nope'], env);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'longrun: NOT_FOUND (404): Operation "operations/nope" not found\n',
    });
    // --json changes the output, not the error.
    expect(await runCli(['get', 'operations/nope', '--json'], env)).toEqual(result);
  });
});

describe('patch', () => {
  it('replaces the metadata, then finishes with a response (which implies done)', async () => {
    await ok('create', 'projects/patch', '--id', 'p1');
    const progressed = await json('patch', 'projects/patch/operations/p1', '--metadata', JSON.stringify(PROGRESS));
    expect(progressed).toEqual({ name: 'projects/patch/operations/p1', metadata: PROGRESS });
    const table = await ok('patch', 'projects/patch/operations/p1', '--response', JSON.stringify(RESULT));
    expect(table).toMatch(/^state +SUCCEEDED$/m);
    expect(table).toContain(`response  ${JSON.stringify(RESULT)}`);
    expect(table).not.toMatch(/^progress/m); // a done operation's figure is stale
    expect(await held('projects/patch/operations/p1')).toEqual({ ...progressed, done: true, response: RESULT });
  });

  it('fails an operation with a code given by name, and clears a field through --update-mask', async () => {
    await ok('create', 'projects/patch', '--id', 'p2', '--metadata', JSON.stringify(PROGRESS));
    const failed = await json(
      'patch',
      'projects/patch/operations/p2',
      '--error-code',
      'resource_exhausted',
      '--error-message',
      'out of quota',
      '--update-mask',
      'metadata,done,error',
    );
    expect(failed).toEqual({
      name: 'projects/patch/operations/p2',
      done: true,
      error: { code: 8, message: 'out of quota' },
    });
    expect(await ok('get', 'projects/patch/operations/p2')).toMatch(/^error +RESOURCE_EXHAUSTED: out of quota$/m);
  });

  it("prints the server's refusal of a change to a done operation", async () => {
    const result = await runCli(['patch', 'projects/patch/operations/p2', '--metadata', JSON.stringify(PROGRESS)], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^longrun: FAILED_PRECONDITION \(400\): .+\n$/);
  });

  it.each([
    [['--error-message', 'why'], 'longrun: --error-message needs --error-code\n'],
    [[], 'longrun: nothing to change: give --metadata, --done, --response, --error-code or --update-mask\n'],
    [['--metadata', '{'], /^longrun: option '--metadata <json>' argument '\{' is invalid\. not JSON/],
    [['--metadata', '[1]'], /a JSON object is expected/],
    [['--error-code', 'SOMETIMES'], /a google\.rpc\.Code is expected/],
  ])('refuses a wrong command line %j with one line and exit code 2, sending nothing', async (flags, message) => {
    const result = await runCli(['patch', 'projects/patch/operations/p3', ...flags], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    if (typeof message === 'string') expect(result.stderr).toBe(message);
    else expect(result.stderr).toMatch(message);
  });
});

describe('list', () => {
  const parent = 'projects/list';
  let names: string[];

  beforeAll(async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) await ok('create', parent, '--id', id);
    await ok('patch', `${parent}/operations/b`, '--response', JSON.stringify(RESULT));
    await ok('patch', `${parent}/operations/c`, '--error-code', 'INTERNAL', '--error-message', 'boom');
    names = ['e', 'd', 'c', 'b', 'a'].map((id) => `${parent}/operations/${id}`); // newest first
  });

  it("prints a page as the server's JSON with --json, and as a table by default", async () => {
    expect(await json('list', parent)).toEqual(await held(`${parent}/operations`));
    const lines = (await ok('list', parent)).trimEnd().split('\n');
    expect(lines.map((line) => line.split(/ {2,}/))).toEqual([
      ['NAME', 'STATE', 'PROGRESS', 'RESULT'],
      [names[0], 'RUNNING'],
      [names[1], 'RUNNING'],
      [names[2], 'FAILED', 'INTERNAL: boom'],
      [names[3], 'SUCCEEDED', 'type.googleapis.com/demo.Result'],
      [names[4], 'RUNNING'],
    ]);
  });

  it('takes the collection as well as the parent, and filters', async () => {
    const running = await json('list', `${parent}/operations`, '--filter', 'done = false');
    expect(running.operations.map((operation: any) => operation.name)).toEqual([names[0], names[1], names[4]]);
  });

  it('lists one page with --page-size, says how to get the next, and --page-token gets it', async () => {
    const { code, stdout, stderr } = await runCli(['list', parent, '--page-size', '2'], env);
    expect(code).toBe(0);
    expect(stdout.trimEnd().split('\n')).toHaveLength(3);
    const token = /--page-token (\S+),/.exec(stderr)?.[1];
    expect(token).toBeDefined();
    const next = await json('list', parent, '--page-size', '2', '--page-token', token!);
    expect(next.operations.map((operation: any) => operation.name)).toEqual(names.slice(2, 4));
  });

  it('follows every page with --all', async () => {
    const all = await json('list', parent, '--page-size', '2', '--all');
    expect(all).toEqual({ operations: (await held(`${parent}/operations`)).operations });
    expect(all.operations.map((operation: any) => operation.name)).toEqual(names);
    const table = await ok('list', parent, '--page-size', '2', '--all');
    expect(table.trimEnd().split('\n')).toHaveLength(6);
  });

  it('says when there is nothing to list', async () => {
    expect(await ok('list', 'projects/empty')).toBe('No operations.\n');
    expect(await json('list', 'projects/empty')).toEqual({});
    expect(await json('list', 'projects/empty', '--all')).toEqual({});
  });

  it('refuses a page size that is not a whole number (exit 2)', async () => {
    const result = await runCli(['list', '--page-size', 'ten'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a whole number is expected');
  });
});

describe('cancel and delete', () => {
  it('cancels: the request shows in get, then the provider acknowledges it', async () => {
    await ok('create', 'projects/cd', '--id', 'x');
    expect(await ok('cancel', 'projects/cd/operations/x')).toBe(
      'Cancellation of projects/cd/operations/x requested.\n',
    );
    expect(await json('cancel', 'projects/cd/operations/x')).toEqual({});
    expect(await ok('get', 'projects/cd/operations/x')).toMatch(/\ncancel +requested at \d{4}-\d\d-\d\dT/);
    const acknowledged = await ok('patch', 'projects/cd/operations/x', '--error-code', 'CANCELLED');
    expect(acknowledged).toMatch(/^state +CANCELLED\nerror +CANCELLED\n$/m);
  });

  it('deletes, after which get is NOT_FOUND', async () => {
    expect(await ok('delete', 'projects/cd/operations/x')).toBe('Deleted projects/cd/operations/x.\n');
    const again = await runCli(['delete', 'projects/cd/operations/x', '--json'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('longrun: NOT_FOUND (404): Operation "projects/cd/operations/x" not found\n');
  });

  it('prints {} for --json, the Empty the server answers', async () => {
    await ok('create', 'projects/cd', '--id', 'y');
    expect(await json('delete', 'projects/cd/operations/y')).toEqual({});
  });
});

describe('endpoint and credentials', () => {
  /** A port nothing listens on. */
  async function closedPort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    return port;
  }

  it('reports a server that does not answer as one UNAVAILABLE line, exit 1 (after the safe retries)', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(['get', 'operations/x', '--endpoint', endpoint], {});
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^longrun: UNAVAILABLE: GET http:\/\/127\.0\.0\.1:\d+\/v1\/operations\/x: .*ECONNREFUSED.*\n$/,
    );
  });

  it('uses 127.0.0.1:8080 by default and refuses an endpoint that is not a URL (exit 2)', async () => {
    const help = await runCli(['get', '--help'], {});
    expect(help.stdout).toMatch(/\(default: "http:\/\/127\.0\.0\.1:8080", env:\s+LONGRUN_ENDPOINT\)/);
    const result = await runCli(['get', 'operations/x', '--endpoint', 'localhost:8080'], {});
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain('an http:// or https:// URL is expected');
  });

  it('takes the endpoint from LONGRUN_ENDPOINT, and --endpoint wins over it', async () => {
    const elsewhere = `http://127.0.0.1:${await closedPort()}`;
    expect((await runCli(['list', 'projects/empty'], { LONGRUN_ENDPOINT: server.url })).code).toBe(0);
    const result = await runCli(['list', 'projects/empty', '--endpoint', server.url], { LONGRUN_ENDPOINT: elsewhere });
    expect(result).toEqual({ code: 0, stdout: 'No operations.\n', stderr: '' });
  });

  describe('against a server that requires credentials', () => {
    const SECRET = 'cli-secret-0123456789';
    let secured: RunningServer;

    beforeAll(async () => {
      secured = await startServer({
        ...SETTINGS,
        auth: {
          principals: [{ name: 'cli', secrets: [digestSecret(SECRET)], grants: [{ role: 'admin', resources: '**' }] }],
        },
      });
    });
    afterAll(() => secured.close());

    const list = (flags: string[], environment: Record<string, string>) =>
      runCli(['list', ...flags], { LONGRUN_ENDPOINT: secured.url, ...environment });

    it('is refused without them', async () => {
      const result = await list([], {});
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^longrun: UNAUTHENTICATED \(401\): /);
    });

    it.each([
      ['--token', [`--token`, SECRET], {}],
      ['LONGRUN_TOKEN', [], { LONGRUN_TOKEN: SECRET }],
      ['--api-key', ['--api-key', SECRET], {}],
      ['LONGRUN_API_KEY', [], { LONGRUN_API_KEY: SECRET }],
      ['--token over a wrong LONGRUN_TOKEN', ['--token', SECRET], { LONGRUN_TOKEN: 'wrong' }],
      ['--api-key over a wrong LONGRUN_API_KEY', ['--api-key', SECRET], { LONGRUN_API_KEY: 'wrong' }],
    ])('is answered with %s', async (_how, flags, environment) => {
      expect(await list(flags, environment)).toEqual({ code: 0, stdout: 'No operations.\n', stderr: '' });
    });

    it('sends the flag, not the environment, when both are given', async () => {
      expect((await list(['--token', 'wrong'], { LONGRUN_TOKEN: SECRET })).code).toBe(1);
    });
  });
});
