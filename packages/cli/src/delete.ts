/** `longrun delete NAME`: removes an operation's record. */
import { clientCommand, printJson, printText, withClient } from './command.js';

export function deleteCommand() {
  return clientCommand('delete')
    .description("Delete an operation's record (the work itself is not cancelled)")
    .argument('<name>', "the operation's name")
    .action((name, options) =>
      withClient(options, async (client) => {
        await client.delete(name);
        // The server answers google.protobuf.Empty.
        if (options.json) printJson({});
        else printText(`Deleted ${name}.`);
      }),
    );
}
