/** `longrun serve`: runs the server until SIGTERM or SIGINT, then shuts it down cleanly. */

import { ConfigError, camelCase, DEFAULT_CONFIG, resolveConfig, SETTINGS, startServer } from '@longrun/server';
import { Command } from 'commander';

/** Flags without a value: present means true. */
const SWITCHES = new Set(['insecure']);

export function serveCommand(): Command {
  const command = new Command('serve')
    .description('Run the longrun server')
    .option('--config <file>', 'JSON configuration file (LONGRUN_CONFIG)');
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const fallback = DEFAULT_CONFIG[key as keyof typeof DEFAULT_CONFIG];
    const shown = Array.isArray(fallback) ? fallback.join(',') : fallback;
    const help = `${setting.description} (${setting.env}${shown === undefined || shown === '' ? '' : `; default ${shown}`})`;
    if (SWITCHES.has(setting.flag)) command.option(`--${setting.flag}`, help);
    else if (setting.separator === undefined) command.option(`--${setting.flag} <value>`, help);
    // A list may also be given as the flag repeated (`--descriptor-set a.binpb --descriptor-set b.binpb`).
    else {
      const { separator } = setting;
      command.option(`--${setting.flag} <value>`, `${help}; repeatable`, (value: string, previous?: string) =>
        previous === undefined ? value : `${previous}${separator}${value}`,
      );
    }
  }
  return command.action(async (options: Record<string, string | boolean | undefined>) => {
    // Commander keys options by camelCase; the configuration reads them by flag name.
    const flags: Record<string, string | undefined> = { config: options.config as string | undefined };
    for (const setting of Object.values(SETTINGS)) {
      const value = options[camelCase(setting.flag)];
      if (value !== undefined) flags[setting.flag] = String(value);
    }
    // The signals are heard from before the server starts: a supervisor (or a test) that stops
    // the server as soon as it prints its URL must not find the default action, which kills the
    // process without a clean shutdown (on a busy machine the process can be descheduled between
    // printing the line and the next statement).
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    let stopping = false;
    const shutDown = (running: NonNullable<typeof server>) =>
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`longrun: shutdown failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`longrun: ${signal}, shutting down\n`);
      if (server) void shutDown(server);
      // Still starting (waiting for the database, say): nothing has been served, and an interrupted
      // migration rolls back, so it can just end.
      else process.exit(0);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    try {
      const config = resolveConfig(flags);
      server = await startServer(config);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(`longrun: ${error.message}\n`);
      process.exit(2);
    }
    process.stdout.write(`longrun listening on ${server.url} (store: ${redactStore(server.config.store)})\n`);
    if (server.grpcUrl) process.stdout.write(`longrun gRPC listening on ${server.grpcUrl} (gRPC, gRPC-web, Connect)\n`);
  });
}

/** The store setting without a password, so a `postgres://user:secret@host/db` URL never reaches a log. */
export function redactStore(store: string): string {
  return store.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/, '$1:***@');
}
