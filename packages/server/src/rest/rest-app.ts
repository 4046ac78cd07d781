/**
 * The REST transport: HTTP/1.1 JSON exactly as Google's clients speak it. It decodes a request
 * (route, system parameters, query, body), calls the service, and encodes the answer as
 * proto3 JSON or as an AIP-193 error. Every failure, whatever its cause, leaves as the envelope.
 */
import { randomUUID } from 'node:crypto';
import { codeName } from '@longrun/client';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import {
  type AccessControl,
  ALL_PERMISSIONS,
  ANONYMOUS,
  collectionResource,
  type Permission,
  type Principal,
} from '../auth/access.js';
import type { RequestGuard } from '../auth/guard.js';
import type { ConsoleRoutes } from '../console/console-routes.js';
import { parseDuration } from '../contract/duration.js';
import { ApiError, invalidField } from '../contract/errors.js';
import { isJsonObject, parseJson, stringifyJson } from '../contract/json.js';
import { parseListName } from '../contract/names.js';
import { renderOperation } from '../contract/operation.js';
import type { Metrics } from '../observability/metrics.js';
import type { ListResult, OperationsService } from '../service/operations-service.js';
import type { OperationRecord, OperationStore } from '../store/store.js';
import { parseWatchTarget, type SseStreams, WATCH_QUERY_PARAMS } from '../watch/sse.js';
import { WEBHOOK_BODY_FIELDS, WEBHOOK_QUERY_PARAMS, type WebhookApi } from '../webhooks/webhook-api.js';
import { webhookParent } from '../webhooks/webhook-routes.js';
import { discoveryDocument } from './discovery.js';
import { EMPTY_SCHEMA, LIST_SCHEMA, OPERATION_SCHEMA, parseFieldSelector, type Schema } from './partial-response.js';
import { isApiPath, type MethodName, pathNotFound, route } from './routes.js';
import { errorFormatOf, parseQuery, type SystemParams } from './system-params.js';

/** The header that tells a provider its operation has a pending cancel request (RFC 3339 time). */
export const CANCEL_REQUESTED_HEADER = 'x-longrun-cancel-requested';

export interface RestOptions {
  /** Largest request body accepted, in bytes; larger ones get 413. */
  maxBodyBytes: number;
  /** pino's level for the server's own log lines. */
  logLevel: string;
  access: AccessControl;
  guard: RequestGuard;
  metrics: Metrics;
  /** For readiness: `/readyz` answers 200 only while the store does. */
  store: Pick<OperationStore, 'ping'>;
  /** Browser origins allowed to call the API; `*` allows any. Empty: no CORS headers at all. */
  corsOrigins: string[];
  /** Watch streams and webhooks (watch/push.ts); undefined when the store has no event log. */
  push?: { streams: SseStreams; api: WebhookApi } | undefined;
  /** The web console (`/`, `/console/…`; console/console-routes.ts); undefined serves none. */
  console?: Pick<ConsoleRoutes, 'serve'> | undefined;
}

/** What the handler learned about a request, for its log line and metrics. */
interface CallInfo {
  method: string;
  code: string;
  principal: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    call: CallInfo | null;
  }
}

/** Headers on every response: nothing here is meant to be framed, sniffed, cached or referred. */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

const CORS_ALLOWED_HEADERS =
  'authorization, content-type, x-goog-api-key, x-goog-fieldmask, x-request-id, last-event-id';
const CORS_EXPOSED_HEADERS = `${CANCEL_REQUESTED_HEADER}, retry-after, x-request-id, www-authenticate`;

/** The secret a request carries: a Bearer token, or an API key (header or `key=`), or `access_token=`. */
function credential(request: FastifyRequest, system: SystemParams): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) {
      throw new ApiError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>"', {
        headers: { 'www-authenticate': 'Bearer realm="longrun"' },
      });
    }
    return match[1];
  }
  const apiKey = request.headers['x-goog-api-key'];
  return (typeof apiKey === 'string' ? apiKey : undefined) ?? system.apiKey ?? system.accessToken;
}

/** The resource a call is authorised against. */
function accessedResource(
  method: MethodName,
  resource: string,
  query: Map<string, unknown>,
  maxLength: number,
): string {
  if (method === 'list')
    return collectionResource(parseListName(String(query.get('name') ?? resource), 'name', maxLength));
  if (method === 'create') return collectionResource(resource);
  if (method === 'watch') {
    const target = parseWatchTarget(resource);
    return target.name ?? collectionResource(target.parent);
  }
  if (method === 'webhooks') return collectionResource(webhookParent(resource));
  return resource;
}

interface Answer {
  json: string;
  schema: Schema;
  record?: OperationRecord;
}

/** Each method's own query parameters, in both spellings proto3 JSON allows, to the canonical name. */
const QUERY_PARAMS: Record<MethodName, Record<string, string>> = {
  create: { operationId: 'operationId', operation_id: 'operationId' },
  list: {
    name: 'name',
    filter: 'filter',
    pageSize: 'pageSize',
    page_size: 'pageSize',
    pageToken: 'pageToken',
    page_token: 'pageToken',
    returnPartialSuccess: 'returnPartialSuccess',
    return_partial_success: 'returnPartialSuccess',
  },
  get: {},
  patch: { updateMask: 'updateMask', update_mask: 'updateMask' },
  delete: {},
  cancel: {},
  wait: { timeout: 'timeout' },
  watch: WATCH_QUERY_PARAMS,
  webhooks: WEBHOOK_QUERY_PARAMS,
};

/** Each method's body fields (body `*` in the HTTP rule), likewise. */
const BODY_FIELDS: Record<MethodName, Record<string, string>> = {
  create: { operationId: 'operationId', operation_id: 'operationId', operation: 'operation' },
  list: {},
  get: {},
  patch: { operation: 'operation', updateMask: 'updateMask', update_mask: 'updateMask' },
  delete: {},
  cancel: {},
  wait: { timeout: 'timeout' },
  watch: {},
  webhooks: WEBHOOK_BODY_FIELDS,
};

function canonical(
  given: Iterable<[string, unknown]>,
  allowed: Record<string, string>,
  where: string,
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of given) {
    const name = Object.hasOwn(allowed, key) ? allowed[key] : undefined;
    if (!name) {
      const reason = where === 'query' ? 'UNKNOWN_QUERY_PARAMETER' : 'UNKNOWN_FIELD';
      throw invalidField(
        key,
        `is not a ${where === 'query' ? 'query parameter' : 'field of the request body'} of this method`,
        reason,
      );
    }
    if (out.has(name)) throw invalidField(key, `is given twice (as ${name} and its other spelling)`);
    if (value !== null) out.set(name, value);
  }
  return out;
}

/** One value from the query or the body, not both. */
function pick(query: Map<string, unknown>, body: Map<string, unknown>, name: string): unknown {
  if (query.has(name) && body.has(name)) throw invalidField(name, 'is given both in the query and in the body');
  return query.get(name) ?? body.get(name);
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidField(field, 'must be a string');
  return value;
}

function readBody(request: FastifyRequest): Record<string, unknown> {
  const text = request.body as string | undefined;
  if (text === undefined || text.trim() === '') return {};
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(type)) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `Request bodies are JSON; Content-Type "${type}" is not accepted`, {
      metadata: { contentType: type },
    });
  }
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : 'unreadable';
    throw new ApiError('MALFORMED_JSON', `The request body is not valid JSON: ${why}`);
  }
  if (!isJsonObject(value)) throw new ApiError('MALFORMED_JSON', 'The request body must be a JSON object');
  return value;
}

function parseBoolean(value: string, field: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidField(field, 'must be true or false');
}

function parseInt32(value: string, field: string): number {
  if (!/^-?\d{1,10}$/.test(value)) throw invalidField(field, 'must be an integer', 'INVALID_PAGE_SIZE');
  return Number(value);
}

const EMPTY: Answer = { json: '{}', schema: EMPTY_SCHEMA };
/** The answer of a watch: the stream has taken the response over, there is nothing to send. */
const STREAMING: Answer = { json: '', schema: EMPTY_SCHEMA };

function pushOf(push: RestOptions['push']): NonNullable<RestOptions['push']> {
  if (!push) throw new ApiError('NOT_SUPPORTED', 'Watch streams and webhooks are not available on this store');
  return push;
}

/**
 * The last record rendered and its JSON. The waiters one completion wakes are answered one after
 * another with the same record object: ten thousand of them render it once. Sound because a record
 * is never changed in place (a change makes a new one). One entry, so what it keeps alive is
 * bounded (a WeakMap would keep a JSON beside every record the store caches).
 */
let lastRendered: { record: OperationRecord; json: string } | undefined;

function operationAnswer(record: OperationRecord): Answer {
  if (lastRendered?.record !== record) lastRendered = { record, json: renderOperation(record) };
  return { json: lastRendered.json, schema: OPERATION_SCHEMA, record };
}

/** Calls `gone` when the client closes the connection (or at once if it already has). */
function onClosed(reply: FastifyReply, gone: () => void): void {
  if (reply.raw.destroyed) gone();
  // Not removed after the wait: it then fires when the connection closes and finds nothing to end.
  else reply.raw.on('close', gone);
}

function listAnswer(result: ListResult): Answer {
  let json = '{';
  if (result.operations.length > 0) json += `"operations":[${result.operations.map(renderOperation).join(',')}]`;
  if (result.nextPageToken) json += `${json.length > 1 ? ',' : ''}"nextPageToken":"${result.nextPageToken}"`;
  return { json: `${json}}`, schema: LIST_SCHEMA };
}

const empty = (): Answer => EMPTY;

/**
 * Calls the service. Not async: it throws what it finds wrong in the request at once and returns
 * the service's promise, mapped to the answer, with no frame of its own waiting on it (see
 * `serveApi`).
 */
function dispatch(
  service: OperationsService,
  guard: RequestGuard,
  principal: Principal,
  method: MethodName,
  resource: string,
  query: Map<string, unknown>,
  body: Map<string, unknown>,
  reply: FastifyReply,
  push?: RestOptions['push'],
): Promise<Answer> {
  switch (method) {
    case 'watch': {
      // Per principal when callers authenticate, else per address.
      const client = principal === ANONYMOUS ? reply.request.ip : `principal:${principal.name}`;
      return pushOf(push)
        .streams.open(reply.request, reply, resource, query, client)
        .then(() => STREAMING);
    }
    case 'webhooks':
      return pushOf(push).api.handle(reply.request.method, resource, query, body);
    case 'create':
      return service
        .create({
          parent: resource,
          operationId: optionalString(pick(query, body, 'operationId'), 'operation_id'),
          operation: body.get('operation'),
        })
        .then(operationAnswer);
    case 'get':
      return service.get(resource).then(operationAnswer);
    case 'patch':
      return service
        .patch({
          name: resource,
          operation: body.get('operation'),
          updateMask: optionalString(pick(query, body, 'updateMask'), 'update_mask'),
        })
        .then(operationAnswer);
    case 'delete':
      return service.delete(resource).then(empty);
    case 'cancel':
      return service.cancel(resource).then(empty);
    case 'wait': {
      const timeout = pick(query, body, 'timeout');
      const ms = timeout === undefined ? undefined : parseDuration(timeout, 'timeout');
      const done = guard.startWait(principal);
      return service
        .wait(resource, ms, (gone) => onClosed(reply, gone))
        .finally(done)
        .then(operationAnswer);
    }
    case 'list': {
      const named = query.get('name') as string | undefined;
      if (named !== undefined && resource !== '') {
        throw invalidField('name', 'is already given by the path; send it in one place');
      }
      const pageSize = query.get('pageSize') as string | undefined;
      const partial = query.get('returnPartialSuccess') as string | undefined;
      // Every operation lives in one store, so nothing is ever unreachable: the flag is accepted
      // and `unreachable` stays empty.
      if (partial !== undefined) parseBoolean(partial, 'return_partial_success');
      return service
        .list({
          name: named ?? resource,
          filter: query.get('filter') as string | undefined,
          pageSize: pageSize === undefined ? undefined : parseInt32(pageSize, 'page_size'),
          pageToken: query.get('pageToken') as string | undefined,
        })
        .then(listAnswer);
    }
  }
}

const LEGACY_REASONS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'notFound',
  405: 'methodNotAllowed',
  409: 'conflict',
  413: 'requestTooLarge',
  415: 'unsupportedMediaType',
  429: 'rateLimitExceeded',
  499: 'cancelled',
  501: 'notImplemented',
  503: 'backendError',
  504: 'deadlineExceeded',
};

/** The AIP-193 body; `$.xgafv=1` adds the legacy `errors` array after `message`. */
export function renderError(error: ApiError, format: 1 | 2, pretty = false): string {
  const status = error.toStatus();
  const body: Record<string, unknown> = { code: error.httpStatus, message: error.message };
  if (format === 1) {
    body.errors = [
      { message: error.message, domain: 'global', reason: LEGACY_REASONS[error.httpStatus] ?? 'backendError' },
    ];
  }
  body.status = codeName(error.code);
  body.details = status.details;
  return JSON.stringify({ error: body }, undefined, pretty ? 2 : undefined);
}

function toApiError(error: unknown, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ApiError('REQUEST_TOO_LARGE', 'The request body is larger than this server accepts');
  }
  if (code === 'FST_ERR_BAD_URL') {
    return new ApiError('INVALID_NAME', 'The request path has a malformed percent-encoding');
  }
  if (typeof code === 'string' && code.startsWith('FST_ERR_CTP')) {
    return new ApiError('MALFORMED_JSON', 'The request body could not be read');
  }
  request.log.error({ err: error, reqId: request.id }, 'internal error');
  return new ApiError('INTERNAL', 'Internal error');
}

function sendError(reply: FastifyReply, error: unknown, format: 1 | 2): void {
  const apiError = toApiError(error, reply.request);
  if (reply.request.call) reply.request.call.code = codeName(apiError.code) ?? 'UNKNOWN';
  if (apiError.headers) reply.headers(apiError.headers);
  reply.code(apiError.httpStatus).type('application/json; charset=utf-8').send(renderError(apiError, format));
}

function send(reply: FastifyReply, answer: Answer, system: SystemParams): void {
  if (answer === STREAMING) return;
  let json = answer.json;
  if (system.fields !== undefined || system.prettyPrint) {
    let value = parseJson(json);
    if (system.fields !== undefined) value = parseFieldSelector(system.fields, answer.schema)(value);
    json = stringifyJson(value, system.prettyPrint ? 2 : undefined);
  }
  const cancelRequested = answer.record?.done ? null : answer.record?.cancelRequestTime;
  if (cancelRequested != null) reply.header(CANCEL_REQUESTED_HEADER, new Date(cancelRequested).toISOString());
  reply.code(200).type('application/json; charset=utf-8').send(json);
}

/**
 * A request's id: a UUID, as one flat string. randomUUID joins its text from 20 pieces, which V8
 * keeps as a tree of 14 string objects (about 500 bytes) until something reads a character; the id
 * lives as long as its request (minutes for a :wait), so it is flattened (to about 60) at once.
 */
function requestId(): string {
  const id = randomUUID();
  id.charCodeAt(0);
  return id;
}

export function buildRestApp(service: OperationsService, options: RestOptions): FastifyInstance {
  const app = Fastify({
    logger: { level: options.logLevel },
    requestIdHeader: 'x-request-id',
    genReqId: requestId,
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (it costs more than many a request): the lines a request logs
    // name its id themselves.
    childLoggerFactory: (logger) => logger,
    bodyLimit: options.maxBodyBytes,
    // The handler reads the raw query itself (system parameters, repeated names, strict encoding).
    routerOptions: { querystringParser: () => ({}) },
    return503OnClosing: false,
    frameworkErrors: (error, request, reply) => sendError(reply, error, errorFormatOf(queryOf(request.raw.url))),
    // Requests Node cannot parse as HTTP never reach a route; they still get the envelope.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return;
      const code = (error as { code?: string }).code;
      const apiError =
        code === 'HPE_HEADER_OVERFLOW'
          ? new ApiError('REQUEST_TOO_LARGE', 'The request headers are larger than this server accepts')
          : new ApiError('INVALID_ARGUMENT', 'The request is not valid HTTP');
      const body = renderError(apiError, 2);
      socket.end(
        `HTTP/1.1 ${apiError.httpStatus} ${apiError.httpStatus === 413 ? 'Payload Too Large' : 'Bad Request'}\r\n` +
          `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `connection: close\r\n\r\n${body}`,
      );
    },
  });
  // Bodies arrive as text whatever their type: the handler checks the type and parses, so an
  // empty body with a JSON content type (what clients send on :cancel) reads as {}.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error, request, reply) => sendError(reply, error, errorFormatOf(queryOf(request.raw.url))));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new ApiError('PATH_NOT_FOUND', `No method is served at ${request.method} ${pathOf(request.raw.url)}`),
      errorFormatOf(queryOf(request.raw.url)),
    ),
  );

  app.decorateRequest('call', null);
  // Request lines are info; below that level, not even their fields are gathered.
  const requestLogging = ['info', 'debug', 'trace'].includes(options.logLevel);
  const corsOrigins = new Set(options.corsOrigins);
  // The hooks take a callback rather than returning a promise: they run on every request, and a
  // promise each costs more than what they do.
  app.addHook('onRequest', (request, reply, done) => {
    request.call = { method: 'other', code: 'OK', principal: undefined };
    reply.header('x-request-id', request.id);
    const origin = request.headers.origin;
    if (origin !== undefined && (corsOrigins.has(origin) || corsOrigins.has('*'))) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', CORS_EXPOSED_HEADERS);
      reply.header('vary', 'origin');
    }
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const header in SECURITY_HEADERS) {
      if (!reply.hasHeader(header)) reply.header(header, SECURITY_HEADERS[header]);
    }
    // While shutting down, every answer closes its connection, so a kept-alive client moves on
    // to another replica and the server can finish.
    if (service.closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // One line per request: no query string (it may hold a key) and no headers are logged.
  app.addHook('onResponse', (request, reply, done) => {
    const call = request.call;
    const seconds = reply.elapsedTime / 1000;
    if (call) options.metrics.observe('rest', call.method, call.code, seconds);
    if (requestLogging) logRequest(request, reply);
    done();
  });
  const logRequest = (request: FastifyRequest, reply: FastifyReply) => {
    const call = request.call;
    request.log.info(
      {
        reqId: request.id,
        method: request.method,
        path: pathOf(request.raw.url),
        rpc: call?.method,
        principal: call?.principal,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  };

  app.route({
    method: ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS'],
    url: '/*',
    // Not async for API calls: `serveApi` sends their answer itself and returns nothing, so fastify
    // follows no promise of ours (one that resolved with a reply not yet sent would cost even more).
    handler: (request, reply) => {
      const url = request.raw.url ?? '/';
      const path = pathOf(url);
      if (!isApiPath(path)) return serveOutsideApi(options, request, reply, url, path);
      serveApi(service, options, request, reply, url, path);
    },
  });
  return app;
}

/** Answers a CORS preflight (an OPTIONS request from an allowed origin); false for any other request. */
function preflight(request: FastifyRequest, reply: FastifyReply): boolean {
  if (request.method !== 'OPTIONS' || !reply.hasHeader('access-control-allow-origin')) return false;
  reply
    .code(204)
    .header('access-control-allow-methods', 'GET, POST, PATCH, DELETE')
    .header('access-control-allow-headers', CORS_ALLOWED_HEADERS)
    .header('access-control-max-age', '600')
    .send();
  return true;
}

/**
 * An API call (`/{version}/…`): decoded, authorised and dispatched at once, answered when the
 * service's promise settles. Nothing waits here meanwhile: what a pending call holds is its own
 * short promise chain, not this frame with the parsed request nor the promises of an async
 * handler, which matters for a :wait (minutes, times thousands of waiters).
 */
function serveApi(
  service: OperationsService,
  options: RestOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  url: string,
  path: string,
): void {
  // Known once the query is parsed; an error before that reads `$.xgafv` on its own.
  let format: 1 | 2 | undefined;
  try {
    if (preflight(request, reply)) return;
    const { method, resource } = route(request.method, path);
    request.call!.method = method;
    const fieldMask = request.headers['x-goog-fieldmask'];
    const { system, params } = parseQuery(queryOf(url), typeof fieldMask === 'string' ? fieldMask : undefined);
    format = system.errorFormat;
    const principal = options.access.authenticate(credential(request, system));
    request.call!.principal = principal.name;
    options.guard.admit(principal);
    const query = canonical(params, QUERY_PARAMS[method], 'query');
    const body = canonical(Object.entries(readBody(request)), BODY_FIELDS[method], 'body');
    const accessed = accessedResource(method, resource, query, service.limits.maxNameLength);
    options.access.authorize(principal, method satisfies Permission, accessed);
    dispatch(service, options.guard, principal, method, resource, query, body, reply, options.push).then(
      (answer) => {
        try {
          send(reply, answer, system);
        } catch (error) {
          sendError(reply, error, system.errorFormat);
        }
      },
      (error) => sendError(reply, error, system.errorFormat),
    );
  } catch (error) {
    sendError(reply, error, format ?? errorFormatOf(queryOf(url)));
  }
}

/** Everything else: discovery, operability, the console, a preflight, or no such path. */
async function serveOutsideApi(
  options: RestOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  url: string,
  path: string,
): Promise<FastifyReply> {
  try {
    if (path === '/$discovery/rest' || path === '/%24discovery/rest') {
      sendDiscovery(request, reply);
      return reply;
    }
    if (await serveOperability(path, request, reply, options)) return reply;
    if (options.console && (await options.console.serve(path, request, reply))) return reply;
    if (preflight(request, reply)) return reply;
    throw pathNotFound(path);
  } catch (error) {
    sendError(reply, error, errorFormatOf(queryOf(url)));
  }
  return reply;
}

/**
 * Paths outside the API: `/healthz` (the process answers), `/readyz` (and its store does),
 * `/metrics` (Prometheus), `/auth/whoami` (the caller and its permissions).
 */
async function serveOperability(
  path: string,
  request: FastifyRequest,
  reply: FastifyReply,
  options: RestOptions,
): Promise<boolean> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  switch (path) {
    case '/healthz':
      reply.code(200).type('application/json; charset=utf-8').send('{"status":"ok"}');
      return true;
    case '/readyz':
      try {
        await options.store.ping();
      } catch {
        throw new ApiError('STORE_UNAVAILABLE', 'Not ready: the operation store does not answer');
      }
      reply.code(200).type('application/json; charset=utf-8').send('{"status":"ready"}');
      return true;
    case '/auth/whoami': {
      // Who the caller is and, for a resource, what it may do there: the console hides what it cannot.
      const { system, params } = parseQuery(queryOf(request.raw.url), undefined);
      const principal = options.access.authenticate(credential(request, system));
      const resource = params.get('resource') ?? null;
      const body: Record<string, unknown> = {
        principal: principal.name,
        authEnabled: options.access.enabled,
        grants: principal.grants.map((grant) => ({ role: grant.role, resources: grant.pattern })),
      };
      if (resource !== null) {
        body.resource = resource;
        body.permissions = ALL_PERMISSIONS.filter((permission) =>
          options.access.allows(principal, permission, resource),
        );
      }
      reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(body));
      return true;
    }
    case '/metrics':
      reply
        .code(200)
        .type(options.metrics.registry.contentType)
        .send(await options.metrics.registry.metrics());
      return true;
  }
  return false;
}

function sendDiscovery(request: FastifyRequest, reply: FastifyReply): void {
  const query = new URLSearchParams(queryOf(request.raw.url));
  const rootUrl = `${request.protocol}://${request.host}/`;
  const document = discoveryDocument(rootUrl, query.get('version') ?? 'v1');
  reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(document));
}

function pathOf(url: string | undefined): string {
  const q = (url ?? '/').indexOf('?');
  return q < 0 ? (url ?? '/') : (url ?? '/').slice(0, q);
}

function queryOf(url: string | undefined): string {
  const q = (url ?? '').indexOf('?');
  return q < 0 ? '' : (url ?? '').slice(q + 1);
}
