/**
 * `longrun wait NAME`: waits until an operation is done, showing its progress, and exits with
 * how it ended: 0 succeeded, 3 failed, 4 cancelled, 5 not done within `--timeout`.
 */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { Operation } from '@longrun/client';
import { clientCommand, EXIT, printJson, printText, withClient } from './command.js';
import { operationTable, stateOf, statusText } from './format.js';
import { type ProgressDisplay, progressDisplay } from './progress.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `90s`, `10m`, `1.5h`, `500ms`; a bare number is seconds. */
function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  if (!match) throw new InvalidArgumentError('a duration is expected, such as 90s, 10m or 1h');
  return Number(match[1]) * UNIT_MS[match[2] ?? 's']!;
}

export function waitCommand() {
  return clientCommand('wait')
    .description('Wait until an operation is done; the exit code tells how it ended')
    .argument('<name>', "the operation's name")
    .option(
      '--timeout <duration>',
      'give up after this long, such as 90s, 10m or 1h (default: no limit)',
      parseDuration,
    )
    .action((name, options) =>
      withClient(options, async (client) => {
        let display: ProgressDisplay | undefined;
        // Before anything is drawn: a live display must be erased (and the cursor shown) on Ctrl-C.
        const interrupted = () => {
          display?.stop();
          process.exit(EXIT.INTERRUPTED);
        };
        process.once('SIGINT', interrupted);
        // With --json, stdout is for the result and stderr for errors: no progress at all.
        if (!options.json) display = progressDisplay(name);
        const timeoutMs = options.timeout;
        const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
        let operation: Operation | undefined;
        try {
          // The client's polling: the server's :wait long-poll, with backoff, retried when it is unavailable.
          operation = await client.pollUntilDone(name, {
            signal: timeout,
            onProgress: (_metadata, latest) => display?.update(latest),
          });
        } catch (error) {
          if (!timeout?.aborted) throw error;
        } finally {
          // Erased before anything else is printed, the result or an error.
          display?.stop();
          process.off('SIGINT', interrupted);
        }
        if (!operation) {
          process.stderr.write(`longrun: ${name} was not done within ${timeoutMs! / 1000}s\n`);
          return EXIT.TIMEOUT;
        }
        return finish(operation, options.json);
      }),
    );
}

function finish(operation: Operation, json: boolean | undefined): number {
  if (json) printJson(operation);
  else printText(operationTable(operation));
  const state = stateOf(operation);
  if (state === 'SUCCEEDED') return EXIT.OK;
  process.stderr.write(
    `longrun: ${operation.name} ${state === 'CANCELLED' ? 'was cancelled' : 'failed'}: ${statusText(operation.error!)}\n`,
  );
  return state === 'CANCELLED' ? EXIT.CANCELLED : EXIT.OPERATION_FAILED;
}
