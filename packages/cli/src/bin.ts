/** The `longrun` command. */
import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { cancelCommand } from './cancel.js';
import { EXIT, errorLine } from './command.js';
import { createCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { getCommand } from './get.js';
import { listCommand } from './list.js';
import { patchCommand } from './patch.js';
import { waitCommand } from './wait.js';
import { webhooksCommand } from './webhooks.js';

const program = new Command('longrun')
  .description("longrun: a persistent server for Google's long-running operations API, and its command line")
  // A usage error is one line like any other, and exits 2 (help asked for exits 0).
  .configureOutput({ outputError: (text, write) => write(`longrun: ${text.replace(/^error: /, '')}`) })
  .exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT.OK : EXIT.USAGE));

/**
 * `serve`, loaded only when the command line names it: the server's modules take about a second
 * to load, which every other command would pay. Elsewhere (`longrun --help`) a stand-in lists it.
 */
async function serve(): Promise<CommandUnknownOpts> {
  if (!process.argv.slice(2).includes('serve')) {
    return new Command('serve').description('Run the longrun server (longrun serve --help lists its settings)');
  }
  const { serveCommand } = await import('./serve.js');
  // serve.ts builds its flags with plain commander: the same classes at run time, typings that
  // do not line up with the extra ones.
  return serveCommand() as unknown as CommandUnknownOpts;
}

const commands = [
  await serve(),
  getCommand(),
  listCommand(),
  waitCommand(),
  cancelCommand(),
  deleteCommand(),
  createCommand(),
  patchCommand(),
  webhooksCommand(),
];
// addCommand does not pass the settings above down, as .command() would.
for (const command of commands) program.addCommand(command.copyInheritedSettings(program));

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`longrun: ${errorLine(error)}\n`);
  process.exit(EXIT.FAILED);
});
