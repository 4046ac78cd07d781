/** `longrun patch NAME`: updates an operation, as a provider does: progress, then its result. */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { codeFromName, type Operation } from '@longrun/client';
import { clientCommand, parseAny, printJson, printText, withClient } from './command.js';
import { operationTable } from './format.js';

/** A google.rpc.Code by name (`NOT_FOUND`) or number (`5`); the server checks the range. */
function parseCode(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const code = codeFromName(value.toUpperCase());
  if (code === undefined) throw new InvalidArgumentError('a google.rpc.Code is expected, such as NOT_FOUND or 5');
  return code;
}

export function patchCommand() {
  return clientCommand('patch')
    .description('Update an operation (as a provider): report progress, or finish it')
    .argument('<name>', "the operation's name")
    .option('--metadata <json>', 'replace its metadata: an Any as JSON', parseAny)
    .option('--done', 'mark it done')
    .option('--response <json>', 'finish it with this response, an Any as JSON (implies --done)', parseAny)
    .option(
      '--error-code <code>',
      'finish it with an error: a code name or number, such as NOT_FOUND (implies --done)',
      parseCode,
    )
    .option('--error-message <message>', "the error's message (with --error-code)")
    .option('--update-mask <paths>', 'the fields to set: metadata, done, error, response, or *; by default those given')
    .action((name, options, command) => {
      if (options.errorMessage !== undefined && options.errorCode === undefined) {
        command.error('--error-message needs --error-code');
      }
      const operation: Operation = {};
      if (options.metadata) operation.metadata = options.metadata;
      // A result ends the operation: the server keeps a response or an error only on a done one.
      if (options.done || options.response || options.errorCode !== undefined) operation.done = true;
      if (options.response) operation.response = options.response;
      if (options.errorCode !== undefined) operation.error = { code: options.errorCode, message: options.errorMessage };
      if (Object.keys(operation).length === 0 && options.updateMask === undefined) {
        command.error('nothing to change: give --metadata, --done, --response, --error-code or --update-mask');
      }
      return withClient(options, async (client) => {
        const { operation: patched, cancelRequestTime } = await client.patch({
          name,
          operation,
          updateMask: options.updateMask,
        });
        if (options.json) printJson(patched);
        else printText(operationTable(patched, cancelRequestTime));
      });
    });
}
