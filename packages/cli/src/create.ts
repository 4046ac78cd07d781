/** `longrun create [PARENT]`: creates an operation, as a provider does. */
import { clientCommand, parseAny, printJson, printText, withClient } from './command.js';
import { operationTable } from './format.js';

export function createCommand() {
  return clientCommand('create')
    .description('Create an operation (as a provider)')
    .argument('[parent]', 'the parent resource, such as projects/p; the top level (operations/…) when omitted')
    .option('--id <id>', "the operation's id; the server assigns one when omitted (with an id, a retry is safe)")
    .option(
      '--metadata <json>',
      'its metadata: an Any as JSON, such as {"@type": "type.googleapis.com/…", …}',
      parseAny,
    )
    .action((parent, options) =>
      withClient(options, async (client) => {
        const { metadata } = options;
        const { operation } = await client.create({
          parent: parent ?? '',
          operationId: options.id,
          operation: metadata ? { metadata } : undefined,
        });
        if (options.json) printJson(operation);
        else printText(operationTable(operation));
      }),
    );
}
