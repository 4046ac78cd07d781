/**
 * What the client commands (every command but `serve`) share: where the server is and how to
 * authenticate, `--json`, the exit codes, and how a failure reads.
 */
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { type Any, ApiError, OperationsClient } from '@longrun/client';

/** Exit codes, documented in docs/cli.md. */
export const EXIT = {
  OK: 0,
  /** A call failed: the server answered an error, or did not answer at all. */
  FAILED: 1,
  /** The command line is wrong: an unknown flag, a missing argument, a value that does not parse. */
  USAGE: 2,
  /** `wait`: the operation ended with an error. */
  OPERATION_FAILED: 3,
  /** `wait`: the operation ended cancelled (error code 1, CANCELLED). */
  CANCELLED: 4,
  /** `wait`: `--timeout` passed before the operation was done. */
  TIMEOUT: 5,
  /** Interrupted with Ctrl-C: 128 + SIGINT, as shells report it. */
  INTERRUPTED: 130,
} as const;

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

function parseEndpoint(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new InvalidArgumentError('an http:// or https:// URL is expected');
  }
  return value;
}

/** A command with the options every client command takes; flags win over the environment. */
export function clientCommand(name: string) {
  return new Command(name)
    .addOption(
      new Option('--endpoint <url>', "the server's URL")
        .env('LONGRUN_ENDPOINT')
        .default(DEFAULT_ENDPOINT)
        .argParser(parseEndpoint),
    )
    .addOption(new Option('--token <token>', 'a bearer token (Authorization: Bearer)').env('LONGRUN_TOKEN'))
    .addOption(new Option('--api-key <key>', 'an API key (X-Goog-Api-Key)').env('LONGRUN_API_KEY'))
    .option('--json', "print the server's JSON answer, for scripts");
}

export interface ClientFlags {
  endpoint: string;
  token?: string;
  apiKey?: string;
}

/**
 * Runs a command's work with a client, and sets the exit code it returns. An error it throws
 * reaches bin.ts, which prints it as one line (`errorLine`).
 */
export async function withClient(
  flags: ClientFlags,
  work: (client: OperationsClient) => Promise<number | undefined>,
): Promise<void> {
  const client = new OperationsClient({ endpoint: flags.endpoint, token: flags.token, apiKey: flags.apiKey });
  try {
    process.exitCode = (await work(client)) ?? EXIT.OK;
  } finally {
    client.close();
  }
}

/** An error as one line: `NOT_FOUND (404): Operation "x" not found`. */
export function errorLine(error: unknown): string {
  if (error instanceof ApiError) {
    return `${error.status}${error.httpStatus === undefined ? '' : ` (${error.httpStatus})`}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Prints text for a person on stdout. */
export function printText(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Prints a value as JSON on stdout (the form `--json` prints everything in). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A flag's value parsed as an `Any` (metadata, a response); the server checks its `@type`. */
export function parseAny(value: string): Any {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('a JSON object is expected, such as {"@type": "type.googleapis.com/…", …}');
  }
  return parsed as Any;
}
