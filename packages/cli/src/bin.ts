/** The `longrun` command. */
import { Command } from 'commander';
import { serveCommand } from './serve.js';

const program = new Command('longrun')
  .description("longrun: a persistent server for Google's long-running operations API")
  .addCommand(serveCommand());

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`longrun: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
