/**
 * The server's configuration: every setting, its default, and its environment variable, in one
 * table. Precedence: command-line flags, then environment variables, then these defaults.
 */
import { delimiter } from 'node:path';
import { parseDuration } from './contract/duration.js';

export interface ServerConfig {
  /** Interface to listen on. @default '127.0.0.1' */
  host: string;
  /** Port for REST; 0 picks any free port. @default 8080 */
  port: number;
  /** A SQLite file path, `:memory:`, or a PostgreSQL URL (`postgres://…`). @default './data/longrun.db' */
  store: string;
  /** How long a provider has to acknowledge a cancel before the server ends the operation CANCELLED. @default 30 s */
  cancelGracePeriodMs: number;
  /** The longest a `:wait` lasts, and its length when the request names no timeout. @default 60 s */
  waitMaxMs: number;
  /** Largest request body, in bytes. @default 4 MiB */
  maxBodyBytes: number;
  /** Key material for page tokens; by default a random secret kept in the store. */
  pageTokenSecret: string | undefined;
  /** `NORMAL` survives a process crash, `FULL` also a machine crash (an fsync per write). @default 'NORMAL' */
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** Connections each replica keeps to PostgreSQL at most (one more listens for events). @default 10 */
  postgresPoolSize: number;
  /** pino log level. @default 'info' */
  logLevel: string;
  /** Port for gRPC (HTTP/2 without TLS: gRPC, gRPC-web, Connect); 0 picks any free port; unset, no gRPC. @default unset */
  grpcPort: number | undefined;
  /** FileDescriptorSet files (`buf build -o`) whose types an Any may hold over gRPC, besides the built-in ones. @default [] */
  descriptorSets: string[];
}

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 8080,
  store: './data/longrun.db',
  cancelGracePeriodMs: 30_000,
  waitMaxMs: 60_000,
  maxBodyBytes: 4 * 1024 * 1024,
  pageTokenSecret: undefined,
  sqliteSynchronous: 'NORMAL',
  postgresPoolSize: 10,
  logLevel: 'info',
  grpcPort: undefined,
  descriptorSets: [],
};

type Parser = (text: string, name: string) => ServerConfig[keyof ServerConfig];

function integer(min: number, max: number): Parser {
  return (text, name) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw configError(name, text, `an integer from ${min} to ${max}`);
    return n;
  };
}

const duration: Parser = (text, name) => {
  try {
    return parseDuration(text, name);
  } catch {
    throw configError(name, text, 'a duration such as "30s" or "0.5s"');
  }
};

const oneOf =
  (...values: string[]): Parser =>
  (text, name) => {
    if (!values.includes(text)) throw configError(name, text, `one of ${values.join(', ')}`);
    return text;
  };

const text: Parser = (value) => value;

/** A list of paths, separated as in PATH (`:`, or `;` on Windows). */
const paths: Parser = (value) => value.split(delimiter).filter((path) => path !== '');

/** Every setting: its environment variable and how a string (flag or variable) is read. */
export const SETTINGS: { [K in keyof ServerConfig]: { env: string; parse: Parser } } = {
  host: { env: 'LONGRUN_HOST', parse: text },
  port: { env: 'LONGRUN_PORT', parse: integer(0, 65535) },
  store: { env: 'LONGRUN_STORE', parse: text },
  cancelGracePeriodMs: { env: 'LONGRUN_CANCEL_GRACE', parse: duration },
  waitMaxMs: { env: 'LONGRUN_WAIT_MAX', parse: duration },
  maxBodyBytes: { env: 'LONGRUN_MAX_BODY_BYTES', parse: integer(1024, 1024 ** 3) },
  pageTokenSecret: { env: 'LONGRUN_PAGE_TOKEN_SECRET', parse: text },
  sqliteSynchronous: { env: 'LONGRUN_SQLITE_SYNCHRONOUS', parse: oneOf('NORMAL', 'FULL') },
  postgresPoolSize: { env: 'LONGRUN_POSTGRES_POOL_SIZE', parse: integer(1, 1000) },
  logLevel: { env: 'LONGRUN_LOG_LEVEL', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') },
  grpcPort: { env: 'LONGRUN_GRPC_PORT', parse: integer(0, 65535) },
  descriptorSets: { env: 'LONGRUN_DESCRIPTOR_SETS', parse: paths },
};

export class ConfigError extends Error {}

function configError(name: string, value: string, expected: string): ConfigError {
  return new ConfigError(`${name}: "${value}" is not ${expected}`);
}

/**
 * The configuration from string settings (flags, keyed like ServerConfig), the environment,
 * and the defaults, in that order of precedence.
 */
export function resolveConfig(
  flags: Partial<Record<keyof ServerConfig, string>>,
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const [key, setting] of Object.entries(SETTINGS) as [
    keyof ServerConfig,
    (typeof SETTINGS)[keyof ServerConfig],
  ][]) {
    const flag = flags[key];
    const fromEnv = env[setting.env];
    if (flag !== undefined) config[key] = setting.parse(flag, key);
    else if (fromEnv !== undefined && fromEnv !== '') config[key] = setting.parse(fromEnv, setting.env);
  }
  return config as unknown as ServerConfig;
}
