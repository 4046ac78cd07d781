/**
 * Which method a request calls. No router handles Google's paths cleanly (names with slashes,
 * a `:verb` after a multi-segment name, a whole name percent-encoded into one segment), so the
 * raw path is matched here against the bindings Google's clients use:
 *
 *   POST   /{v}/{parent}/operations          create   (POST /{v}/operations at the top level)
 *   GET    /{v}/{parent}/operations          list     (also GET /{v}/operations?name=…)
 *   GET    /{v}/{name=**\/operations/**}      get
 *   PATCH  /{v}/{name}                        patch
 *   DELETE /{v}/{name}                        delete
 *   POST   /{v}/{name}:cancel                 cancel
 *   POST   /{v}/{name}:wait                   wait
 *   GET    /{v}/{name}:watch                  watch one operation (Server-Sent Events)
 *   GET    /{v}/{parent}/operations:watch     watch a collection (the verb sits on the collection segment)
 *   *      /{v}/{parent}/webhooks[/…]         webhooks: `resource` is the decoded path after the version,
 *                                             `:verb` included (webhooks/webhook-routes.ts)
 *   GET    /v1/operations/{name}              get, google-gax's REST fallback (the name %2F-encoded)
 *
 * `{v}` is any version (`v1`, `v1alpha1`, `v2beta3`); it does not take part in names.
 */
import { ApiError } from '../contract/errors.js';
import { OPERATIONS_COLLECTION } from '../contract/names.js';
import { isWebhooksPath } from '../webhooks/webhook-routes.js';

export type MethodName = 'create' | 'list' | 'get' | 'patch' | 'delete' | 'cancel' | 'wait' | 'watch' | 'webhooks';

export interface Route {
  method: MethodName;
  /** The operation's name, or for create and list the path's parent (`""` at the top level). */
  resource: string;
}

const VERSION = /^v\d+[a-z0-9]*$/;
const VERBS: Record<string, MethodName> = { cancel: 'cancel', wait: 'wait', watch: 'watch' };

export function pathNotFound(path: string): ApiError {
  return new ApiError('PATH_NOT_FOUND', `No method is served at ${path}`, { metadata: { path } });
}

function methodNotAllowed(httpMethod: string, path: string, allow: string): ApiError {
  return new ApiError('METHOD_NOT_ALLOWED', `${httpMethod} is not a method of ${path}; use ${allow}`, {
    metadata: { method: httpMethod, path },
    headers: { allow },
  });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('INVALID_NAME', `The path segment "${segment}" has a malformed percent-encoding`, {
      metadata: { segment },
    });
  }
}

/** True for a path in the API (`/{v}/…`), which `route` matches; every other path is outside it. */
export function isApiPath(path: string): boolean {
  const end = path.indexOf('/', 1);
  return path.startsWith('/') && end > 0 && VERSION.test(path.slice(1, end));
}

/** Matches a request's method and raw path (no query) to an operations method. */
export function route(httpMethod: string, path: string): Route {
  if (!isApiPath(path)) throw pathNotFound(path);
  const segments = path.split('/');
  const raw = segments.slice(2);
  if (isWebhooksPath(raw)) return { method: 'webhooks', resource: raw.map(decodeSegment).join('/') };
  let verb: MethodName | undefined;
  const last = raw[raw.length - 1]!;
  const colon = last.lastIndexOf(':');
  if (colon >= 0) {
    verb = VERBS[last.slice(colon + 1)];
    if (!verb) throw pathNotFound(path);
    raw[raw.length - 1] = last.slice(0, colon);
  }
  // google-gax's REST fallback binds GetOperation as /v1/operations/{name}, one segment.
  if (raw.length === 2 && raw[0] === OPERATIONS_COLLECTION && /%2f/i.test(raw[1]!)) {
    const name = decodeSegment(raw[1]!);
    return verbRoute(httpMethod, path, verb, name) ?? nameRoute(httpMethod, path, name);
  }
  const decoded = raw.map(decodeSegment);
  if (decoded.some((segment) => segment.includes('/') || segment === '')) {
    throw new ApiError('INVALID_NAME', `The path ${path} has an empty or encoded-slash segment inside a name`, {
      metadata: { path },
    });
  }
  const resource = decoded.join('/');
  const viaVerb = verbRoute(httpMethod, path, verb, resource);
  if (viaVerb) return viaVerb;
  // The collection itself: the first `operations` at an even index with nothing after it.
  let at = -1;
  for (let i = 0; i < decoded.length; i += 2) {
    if (decoded[i] === OPERATIONS_COLLECTION) {
      at = i;
      break;
    }
  }
  if (at < 0) throw pathNotFound(path);
  if (at === decoded.length - 1) {
    const parent = decoded.slice(0, at).join('/');
    if (httpMethod === 'GET' || httpMethod === 'HEAD') return { method: 'list', resource: parent };
    if (httpMethod === 'POST') return { method: 'create', resource: parent };
    throw methodNotAllowed(httpMethod, path, 'GET, POST');
  }
  return nameRoute(httpMethod, path, resource);
}

function verbRoute(httpMethod: string, path: string, verb: MethodName | undefined, name: string): Route | undefined {
  if (!verb) return undefined;
  if (verb === 'watch') {
    if (httpMethod !== 'GET') throw methodNotAllowed(httpMethod, path, 'GET');
    return { method: verb, resource: name };
  }
  if (httpMethod !== 'POST') throw methodNotAllowed(httpMethod, path, 'POST');
  return { method: verb, resource: name };
}

function nameRoute(httpMethod: string, path: string, name: string): Route {
  switch (httpMethod) {
    case 'GET':
    case 'HEAD':
      return { method: 'get', resource: name };
    case 'PATCH':
      return { method: 'patch', resource: name };
    case 'DELETE':
      return { method: 'delete', resource: name };
    default:
      throw methodNotAllowed(httpMethod, path, 'GET, PATCH, DELETE');
  }
}
