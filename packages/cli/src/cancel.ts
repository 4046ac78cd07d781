/** `longrun cancel NAME`: asks for an operation to be cancelled. */
import { clientCommand, printJson, printText, withClient } from './command.js';

export function cancelCommand() {
  return clientCommand('cancel')
    .description('Ask for an operation to be cancelled (it ends CANCELLED once its provider stops)')
    .argument('<name>', "the operation's name")
    .action((name, options) =>
      withClient(options, async (client) => {
        await client.cancel(name);
        // The server answers google.protobuf.Empty.
        if (options.json) printJson({});
        else printText(`Cancellation of ${name} requested.`);
      }),
    );
}
