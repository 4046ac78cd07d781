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
    let server: Awaited<ReturnType<typeof startServer>>;
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
    const stop = (signal: string) => {
      process.stdout.write(`longrun: ${signal}, shutting down\n`);
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`longrun: shutdown failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** The store setting without a password, so a `postgres://user:secret@host/db` URL never reaches a log. */
export function redactStore(store: string): string {
  return store.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/, '$1:***@');
}
