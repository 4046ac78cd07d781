/**
 * The server's configuration: every setting with its flag, environment variable, default and
 * parser, in one table. Precedence: command-line flags, then environment variables, then the
 * configuration file (`--config`), then the defaults. Principals (auth) come only from the file.
 */
import { readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import type { AuthConfig } from './auth/access.js';
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
  /** Largest `metadata`, `response` or `error` of an operation, in bytes of JSON. @default 1 MiB */
  maxOperationFieldBytes: number;
  /** Longest operation name or parent, in characters. @default 1024 */
  maxNameLength: number;
  /** Longest list filter, in characters. @default 4096 */
  maxFilterLength: number;
  /** Deepest nesting of a list filter. @default 32 */
  maxFilterDepth: number;
  /** Largest page a list returns (larger requests are coerced). @default 1000 */
  maxPageSize: number;
  /** Waits one principal may have pending at once. @default 10000 */
  maxWaitersPerPrincipal: number;
  /** Requests per second one principal may make (a token bucket); 0 for no limit. @default 0 */
  rateLimit: number;
  /** Requests a principal may make in a burst above the rate. @default 2 × rateLimit */
  rateBurst: number | undefined;
  /** How long done operations are kept; 0 keeps them forever. @default 30 days */
  retentionMs: number;
  /** Operations not done this long after they were created end with DEADLINE_EXCEEDED; 0 for never. @default 0 */
  maxPendingAgeMs: number;
  /** Key material for page tokens; by default a random secret kept in the store. */
  pageTokenSecret: string | undefined;
  /** `NORMAL` survives a process crash, `FULL` also a machine crash (an fsync per write). @default 'NORMAL' */
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** Bytes of recently used operations the SQLite store keeps in memory; 0 turns the cache off. @default 32 MiB */
  sqliteCacheBytes: number;
  /** Connections each replica keeps to PostgreSQL at most (one more listens for events). @default 10 */
  postgresPoolSize: number;
  /** pino log level. @default 'info' */
  logLevel: string;
  /** Port for gRPC (HTTP/2 without TLS: gRPC, gRPC-web, Connect); 0 picks any free port; unset, no gRPC. @default unset */
  grpcPort: number | undefined;
  /** FileDescriptorSet files (`buf build -o`) whose types an Any may hold over gRPC, besides the built-in ones. @default [] */
  descriptorSets: string[];
  /** Origins allowed to call the API from a browser (CORS); empty turns CORS off. @default [] */
  corsOrigins: string[];
  /** Allows listening beyond loopback with no principals configured. @default false */
  insecure: boolean;
  /** How often an idle watch stream gets a heartbeat comment. @default 15 s */
  watchHeartbeatMs: number;
  /** Watch streams this server holds at most. @default 10000 */
  watchMaxStreams: number;
  /** Watch streams one client (principal, else address) holds at most. @default 1000 */
  watchMaxStreamsPerClient: number;
  /** Bytes a watch stream may have waiting for a slow consumer before it is dropped. @default 1 MiB */
  watchMaxBufferedBytes: number;
  /** How often the event log is read for changes made by other processes or replicas. @default 500 ms */
  watchPollIntervalMs: number;
  /** How long events are kept for resuming watches (Last-Event-ID). @default 1 h */
  eventRetentionMs: number;
  /** How long one webhook attempt may take. @default 10 s */
  webhookTimeoutMs: number;
  /** Attempts before a webhook delivery is FAILED. @default 15 */
  webhookMaxAttempts: number;
  /** Delay before the first webhook retry; it doubles with each failure (with jitter). @default 5 s */
  webhookRetryBaseMs: number;
  /** Longest delay between two webhook attempts. @default 1 h */
  webhookRetryMaxMs: number;
  /** Webhook deliveries in flight at once. @default 16 */
  webhookConcurrency: number;
  /** How long SUCCEEDED and FAILED deliveries are kept. @default 30 days */
  webhookDeliveryRetentionMs: number;
  /** Principals and their grants (configuration file only); none means no authentication, loopback only. */
  auth: AuthConfig | undefined;
}

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 8080,
  store: './data/longrun.db',
  cancelGracePeriodMs: 30_000,
  waitMaxMs: 60_000,
  maxBodyBytes: 4 * 1024 * 1024,
  maxOperationFieldBytes: 1024 * 1024,
  maxNameLength: 1024,
  maxFilterLength: 4096,
  maxFilterDepth: 32,
  maxPageSize: 1000,
  maxWaitersPerPrincipal: 10_000,
  rateLimit: 0,
  rateBurst: undefined,
  retentionMs: 30 * 24 * 3600 * 1000,
  maxPendingAgeMs: 0,
  pageTokenSecret: undefined,
  sqliteSynchronous: 'NORMAL',
  sqliteCacheBytes: 32 * 1024 * 1024,
  postgresPoolSize: 10,
  logLevel: 'info',
  grpcPort: undefined,
  descriptorSets: [],
  corsOrigins: [],
  insecure: false,
  watchHeartbeatMs: 15_000,
  watchMaxStreams: 10_000,
  watchMaxStreamsPerClient: 1000,
  watchMaxBufferedBytes: 1024 * 1024,
  watchPollIntervalMs: 500,
  eventRetentionMs: 3600 * 1000,
  webhookTimeoutMs: 10_000,
  webhookMaxAttempts: 15,
  webhookRetryBaseMs: 5000,
  webhookRetryMaxMs: 3600 * 1000,
  webhookConcurrency: 16,
  webhookDeliveryRetentionMs: 30 * 24 * 3600 * 1000,
  auth: undefined,
};

type Value = ServerConfig[keyof ServerConfig];
type Parser = (text: string, name: string) => Value;

function integer(min: number, max: number): Parser {
  return (text, name) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw configError(name, text, `an integer from ${min} to ${max}`);
    return n;
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: a protobuf Duration (`"30s"`, `"0.5s"`), or a number with ms, m, h or d. */
const duration: Parser = (text, name) => {
  const match = /^(\d+(?:\.\d+)?)(ms|m|h|d)$/.exec(text);
  if (match) return Math.round(Number(match[1]) * UNITS[match[2]!]!);
  if (text === '0') return 0;
  try {
    return parseDuration(text, name);
  } catch {
    throw configError(name, text, 'a duration such as "30s", "500ms", "15m", "12h" or "30d"');
  }
};

const oneOf =
  (...values: string[]): Parser =>
  (text, name) => {
    if (!values.includes(text)) throw configError(name, text, `one of ${values.join(', ')}`);
    return text;
  };

const text: Parser = (value) => value;

const boolean: Parser = (value, name) => {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw configError(name, value, 'true or false');
};

/** A list of paths, separated as in PATH (`:`, or `;` on Windows). */
const paths: Parser = (value) => value.split(delimiter).filter((path) => path !== '');

const commaList: Parser = (value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

interface Setting {
  /** The command-line flag (`--flag`); its camelCase form is the key in the configuration file. */
  flag: string;
  env: string;
  parse: Parser;
  /** For `--help`. */
  description: string;
  /** How a list given as an array in the configuration file joins into the parser's text. */
  separator?: string;
}

/** Every setting but `auth`. */
export const SETTINGS: { [K in Exclude<keyof ServerConfig, 'auth'>]: Setting } = {
  host: { flag: 'host', env: 'LONGRUN_HOST', parse: text, description: 'interface to listen on' },
  port: { flag: 'port', env: 'LONGRUN_PORT', parse: integer(0, 65535), description: 'REST port; 0 for any free port' },
  store: { flag: 'store', env: 'LONGRUN_STORE', parse: text, description: 'SQLite file, :memory:, or postgres://…' },
  cancelGracePeriodMs: {
    flag: 'cancel-grace',
    env: 'LONGRUN_CANCEL_GRACE',
    parse: duration,
    description: 'time a provider has to acknowledge a cancel',
  },
  waitMaxMs: { flag: 'wait-max', env: 'LONGRUN_WAIT_MAX', parse: duration, description: 'longest :wait' },
  maxBodyBytes: {
    flag: 'max-body-bytes',
    env: 'LONGRUN_MAX_BODY_BYTES',
    parse: integer(1024, 1024 ** 3),
    description: 'largest request body',
  },
  maxOperationFieldBytes: {
    flag: 'max-operation-field-bytes',
    env: 'LONGRUN_MAX_OPERATION_FIELD_BYTES',
    parse: integer(256, 1024 ** 3),
    description: 'largest metadata, response or error',
  },
  maxNameLength: {
    flag: 'max-name-length',
    env: 'LONGRUN_MAX_NAME_LENGTH',
    parse: integer(16, 1024),
    description: 'longest operation name',
  },
  maxFilterLength: {
    flag: 'max-filter-length',
    env: 'LONGRUN_MAX_FILTER_LENGTH',
    parse: integer(16, 65536),
    description: 'longest list filter',
  },
  maxFilterDepth: {
    flag: 'max-filter-depth',
    env: 'LONGRUN_MAX_FILTER_DEPTH',
    parse: integer(1, 256),
    description: 'deepest list filter nesting',
  },
  maxPageSize: {
    flag: 'max-page-size',
    env: 'LONGRUN_MAX_PAGE_SIZE',
    parse: integer(1, 10_000),
    description: 'largest list page',
  },
  maxWaitersPerPrincipal: {
    flag: 'max-waiters-per-principal',
    env: 'LONGRUN_MAX_WAITERS_PER_PRINCIPAL',
    parse: integer(1, 10_000_000),
    description: 'pending waits one principal may have',
  },
  rateLimit: {
    flag: 'rate-limit',
    env: 'LONGRUN_RATE_LIMIT',
    parse: integer(0, 10_000_000),
    description: 'requests per second per principal; 0 for none',
  },
  rateBurst: {
    flag: 'rate-burst',
    env: 'LONGRUN_RATE_BURST',
    parse: integer(1, 10_000_000),
    description: 'burst above the rate (default 2 × rate)',
  },
  retentionMs: {
    flag: 'retention',
    env: 'LONGRUN_RETENTION',
    parse: duration,
    description: 'how long done operations are kept; 0 forever',
  },
  maxPendingAgeMs: {
    flag: 'max-pending-age',
    env: 'LONGRUN_MAX_PENDING_AGE',
    parse: duration,
    description: 'end operations still running after this long; 0 never',
  },
  pageTokenSecret: {
    flag: 'page-token-secret',
    env: 'LONGRUN_PAGE_TOKEN_SECRET',
    parse: text,
    description: 'page token key (default: kept in the store)',
  },
  sqliteSynchronous: {
    flag: 'sqlite-synchronous',
    env: 'LONGRUN_SQLITE_SYNCHRONOUS',
    parse: oneOf('NORMAL', 'FULL'),
    description: 'NORMAL or FULL',
  },
  sqliteCacheBytes: {
    flag: 'sqlite-cache-bytes',
    env: 'LONGRUN_SQLITE_CACHE_BYTES',
    parse: integer(0, 1024 ** 4),
    description: 'memory for recently used operations (0: none)',
  },
  postgresPoolSize: {
    flag: 'postgres-pool-size',
    env: 'LONGRUN_POSTGRES_POOL_SIZE',
    parse: integer(1, 1000),
    description: 'PostgreSQL connections per replica',
  },
  logLevel: {
    flag: 'log-level',
    env: 'LONGRUN_LOG_LEVEL',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
    description: 'log level',
  },
  grpcPort: {
    flag: 'grpc-port',
    env: 'LONGRUN_GRPC_PORT',
    parse: integer(0, 65535),
    description: 'gRPC port; 0 for any free port; unset, no gRPC',
  },
  descriptorSets: {
    flag: 'descriptor-set',
    env: 'LONGRUN_DESCRIPTOR_SETS',
    parse: paths,
    separator: delimiter,
    description: `FileDescriptorSet files for Any types over gRPC ("${delimiter}"-separated)`,
  },
  corsOrigins: {
    flag: 'cors-origins',
    env: 'LONGRUN_CORS_ORIGINS',
    parse: commaList,
    separator: ',',
    description: 'browser origins allowed to call the API (comma-separated)',
  },
  insecure: {
    flag: 'insecure',
    env: 'LONGRUN_INSECURE',
    parse: boolean,
    description: 'allow a non-loopback host with no principals configured',
  },
  watchHeartbeatMs: {
    flag: 'watch-heartbeat',
    env: 'LONGRUN_WATCH_HEARTBEAT',
    parse: duration,
    description: 'heartbeat interval of watch streams',
  },
  watchMaxStreams: {
    flag: 'watch-max-streams',
    env: 'LONGRUN_WATCH_MAX_STREAMS',
    parse: integer(1, 10_000_000),
    description: 'watch streams per server',
  },
  watchMaxStreamsPerClient: {
    flag: 'watch-max-streams-per-client',
    env: 'LONGRUN_WATCH_MAX_STREAMS_PER_CLIENT',
    parse: integer(1, 10_000_000),
    description: 'watch streams per client',
  },
  watchMaxBufferedBytes: {
    flag: 'watch-max-buffered-bytes',
    env: 'LONGRUN_WATCH_MAX_BUFFERED_BYTES',
    parse: integer(1024, 1024 ** 3),
    description: 'bytes a slow watcher may fall behind before it is dropped',
  },
  watchPollIntervalMs: {
    flag: 'watch-poll',
    env: 'LONGRUN_WATCH_POLL',
    parse: duration,
    description: 'how often the event log is read for changes from other processes',
  },
  eventRetentionMs: {
    flag: 'event-retention',
    env: 'LONGRUN_EVENT_RETENTION',
    parse: duration,
    description: 'how long events are kept for resuming watches',
  },
  webhookTimeoutMs: {
    flag: 'webhook-timeout',
    env: 'LONGRUN_WEBHOOK_TIMEOUT',
    parse: duration,
    description: 'time one webhook attempt may take',
  },
  webhookMaxAttempts: {
    flag: 'webhook-max-attempts',
    env: 'LONGRUN_WEBHOOK_MAX_ATTEMPTS',
    parse: integer(1, 1000),
    description: 'attempts before a delivery is FAILED',
  },
  webhookRetryBaseMs: {
    flag: 'webhook-retry-base',
    env: 'LONGRUN_WEBHOOK_RETRY_BASE',
    parse: duration,
    description: 'first webhook retry delay (doubles, with jitter)',
  },
  webhookRetryMaxMs: {
    flag: 'webhook-retry-max',
    env: 'LONGRUN_WEBHOOK_RETRY_MAX',
    parse: duration,
    description: 'longest webhook retry delay',
  },
  webhookConcurrency: {
    flag: 'webhook-concurrency',
    env: 'LONGRUN_WEBHOOK_CONCURRENCY',
    parse: integer(1, 10_000),
    description: 'webhook deliveries in flight at once',
  },
  webhookDeliveryRetentionMs: {
    flag: 'webhook-delivery-retention',
    env: 'LONGRUN_WEBHOOK_DELIVERY_RETENTION',
    parse: duration,
    description: 'how long finished webhook deliveries are kept',
  },
};

export class ConfigError extends Error {}

function configError(name: string, value: string, expected: string): ConfigError {
  return new ConfigError(`${name}: "${value}" is not ${expected}`);
}

/** A flag's camelCase form: its key in the configuration file, and commander's option name. */
export function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Reads a configuration file (JSON): settings keyed by their flag in camelCase, and `auth`. */
export function readConfigFile(path: string): { settings: Record<string, string>; auth: AuthConfig | undefined } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${path}: a configuration file is a JSON object`);
  }
  const byFileKey = new Map(Object.values(SETTINGS).map((setting) => [camelCase(setting.flag), setting]));
  const settings: Record<string, string> = {};
  let auth: AuthConfig | undefined;
  for (const [key, value] of Object.entries(parsed)) {
    if (key === 'auth') {
      auth = value as AuthConfig;
      continue;
    }
    const setting = byFileKey.get(key);
    if (!setting) throw new ConfigError(`${path}: "${key}" is not a setting`);
    settings[setting.flag] = Array.isArray(value) ? value.join(setting.separator ?? ',') : String(value);
  }
  return { settings, auth };
}

/**
 * The configuration from flags (keyed by flag name, values as typed), the environment, the
 * configuration file named by `--config` or `LONGRUN_CONFIG`, and the defaults, in that order.
 */
export function resolveConfig(
  flags: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const configPath = flags.config ?? (env.LONGRUN_CONFIG || undefined);
  const file = configPath === undefined ? { settings: {}, auth: undefined } : readConfigFile(configPath);
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG, auth: file.auth };
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const flag = flags[setting.flag];
    const fromEnv = env[setting.env];
    const fromFile = file.settings[setting.flag];
    if (flag !== undefined) config[key] = setting.parse(flag, `--${setting.flag}`);
    else if (fromEnv !== undefined && fromEnv !== '') config[key] = setting.parse(fromEnv, setting.env);
    else if (fromFile !== undefined) config[key] = setting.parse(fromFile, `${configPath}: ${camelCase(setting.flag)}`);
  }
  return config as unknown as ServerConfig;
}
