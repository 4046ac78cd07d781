/** `longrun serve`: runs the server until SIGTERM or SIGINT, then shuts it down cleanly. */
import { Command } from '@commander-js/extra-typings';
import { ConfigError, DEFAULT_CONFIG, resolveConfig, SETTINGS, startServer } from '@longrun/server';

export function serveCommand(): Command {
  return new Command('serve')
    .description('Run the longrun server')
    .option('--host <host>', `interface to listen on (${SETTINGS.host.env}; default ${DEFAULT_CONFIG.host})`)
    .option('--port <port>', `REST port, 0 for any free port (${SETTINGS.port.env}; default ${DEFAULT_CONFIG.port})`)
    .option('--store <store>', `SQLite file path or :memory: (${SETTINGS.store.env}; default ${DEFAULT_CONFIG.store})`)
    .option(
      '--cancel-grace <duration>',
      `time a provider has to acknowledge a cancel (${SETTINGS.cancelGracePeriodMs.env}; default 30s)`,
    )
    .option('--wait-max <duration>', `longest :wait (${SETTINGS.waitMaxMs.env}; default 60s)`)
    .option('--max-body-bytes <bytes>', `largest request body (${SETTINGS.maxBodyBytes.env}; default 4194304)`)
    .option('--sqlite-synchronous <mode>', `NORMAL or FULL (${SETTINGS.sqliteSynchronous.env}; default NORMAL)`)
    .option('--log-level <level>', `pino log level (${SETTINGS.logLevel.env}; default info)`)
    .option(
      '--grpc-port <port>',
      `gRPC port (HTTP/2, no TLS), 0 for any free port; off when unset (${SETTINGS.grpcPort.env})`,
    )
    .option(
      '--descriptor-set <file>',
      `FileDescriptorSet (buf build -o) with types for Any over gRPC; repeatable (${SETTINGS.descriptorSets.env}, :-separated)`,
      (file: string, previous: string[]) => [...previous, file],
      [] as string[],
    )
    .action(async (options) => {
      let config: ReturnType<typeof resolveConfig>;
      try {
        config = resolveConfig({
          host: options.host,
          port: options.port,
          store: options.store,
          cancelGracePeriodMs: options.cancelGrace,
          waitMaxMs: options.waitMax,
          maxBodyBytes: options.maxBodyBytes,
          sqliteSynchronous: options.sqliteSynchronous,
          logLevel: options.logLevel,
          grpcPort: options.grpcPort,
        });
        if (options.descriptorSet.length > 0) config.descriptorSets = options.descriptorSet;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`longrun: ${error.message}\n`);
        process.exit(2);
      }
      const server = await startServer(config);
      process.stdout.write(`longrun listening on ${server.url} (store: ${config.store})\n`);
      if (server.grpcUrl)
        process.stdout.write(`longrun gRPC listening on ${server.grpcUrl} (gRPC, gRPC-web, Connect)\n`);
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
