/** `longrun get NAME`: an operation's latest state. */
import { clientCommand, printJson, printText, withClient } from './command.js';
import { operationTable } from './format.js';

export function getCommand() {
  return clientCommand('get')
    .description('Show an operation')
    .argument('<name>', "the operation's name, such as projects/p/operations/x")
    .action((name, options) =>
      withClient(options, async (client) => {
        // getState, for the pending cancel request the table shows (it is a header, not a field).
        const { operation, cancelRequestTime } = await client.getState(name);
        if (options.json) printJson(operation);
        else printText(operationTable(operation, cancelRequestTime));
      }),
    );
}
