/**
 * The console's calls to its own server (same origin): the operations API, `/auth/whoami`, and
 * the console's read endpoints under `/console/api/`. With auth on, every call carries the token
 * kept in sessionStorage as `Authorization: Bearer`.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Status {
  code?: number;
  message?: string;
  details?: JsonObject[];
}

export interface Operation {
  name: string;
  metadata?: JsonObject;
  done?: boolean;
  error?: Status;
  response?: JsonObject;
}

export interface ListResponse {
  operations?: Operation[];
  nextPageToken?: string;
}

export interface Whoami {
  principal: string;
  authEnabled: boolean;
  grants: { role: string; resources: string | string[] }[];
  resource?: string;
  permissions?: string[];
}

/** What the server recorded about an operation's life (RFC 3339 times; absent when not yet). */
export interface Times {
  createTime: string;
  updateTime: string;
  doneTime?: string;
  cancelRequestTime?: string;
}

export interface ParentsResponse {
  supported: boolean;
  parents: { parent: string; latestCreateTime?: string }[];
  patterns: string[];
  complete: boolean;
}

export interface StateCounts {
  running: number;
  cancelRequested: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface SummaryResponse {
  parent: string;
  counts: StateCounts;
  activity: { startTime: string; bucketSeconds: number; created: number[]; finished: number[] };
  exact: boolean;
  scanned?: number;
}

/** A failed call, with what an AIP-193 error body says. */
export class ApiFailure extends Error {
  readonly status: number;
  readonly statusName: string;
  readonly reason: string | undefined;
  /** The first BadRequest field violation (a filter error names its column there). */
  readonly violation: { field: string; description: string } | undefined;

  constructor(status: number, body: unknown, fallback: string) {
    const error = (body as { error?: { message?: string; status?: string; details?: JsonObject[] } } | undefined)
      ?.error;
    super(typeof error?.message === 'string' ? error.message : fallback);
    this.name = 'ApiFailure';
    this.status = status;
    this.statusName = typeof error?.status === 'string' ? error.status : String(status);
    const details = Array.isArray(error?.details) ? error.details : [];
    const info = details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo');
    this.reason = typeof info?.reason === 'string' ? info.reason : undefined;
    const badRequest = details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.BadRequest');
    const first = Array.isArray(badRequest?.fieldViolations) ? badRequest.fieldViolations[0] : undefined;
    if (first && typeof first === 'object' && !Array.isArray(first)) {
      this.violation = { field: String(first.field ?? ''), description: String(first.description ?? '') };
    }
  }
}

const TOKEN_KEY = 'longrun.console.token';

export const session = {
  get token(): string | undefined {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  },
  set token(value: string | undefined) {
    if (value === undefined) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
  },
};

/** Called when the server says the credentials are missing or no longer valid. */
let onUnauthenticated: (failure: ApiFailure) => void = () => {};
export function setUnauthenticatedHandler(handler: (failure: ApiFailure) => void): void {
  onUnauthenticated = handler;
}
export function notifyUnauthenticated(failure: ApiFailure): void {
  onUnauthenticated(failure);
}

/** A resource name as a path: each segment encoded (names use unreserved characters anyway). */
export function namePath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

export function collectionPath(parent: string): string {
  return parent === '' ? '/v1/operations' : `/v1/${namePath(parent)}/operations`;
}

export function authHeaders(): Record<string, string> {
  const token = session.token;
  return token ? { authorization: `Bearer ${token}` } : {};
}

interface CallOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** Do not call the sign-in handler on 401 (the sign-in itself). */
  quiet401?: boolean;
}

export interface CallResult<T> {
  body: T;
  /** The body as sent (numbers past 2^53 intact). */
  text: string;
  headers: Headers;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  const url = search === '' ? path : `${path}?${search}`;
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  const init: RequestInit = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (options.signal) init.signal = options.signal;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const failure = new ApiFailure(response.status, body, `${method} ${path} failed with HTTP ${response.status}`);
    if (response.status === 401 && !options.quiet401) onUnauthenticated(failure);
    throw failure;
  }
  return { body: body as T, text, headers: response.headers };
}

export const api = {
  whoami(resource?: string, quiet401 = false): Promise<Whoami> {
    return call<Whoami>('GET', '/auth/whoami', { query: { resource }, quiet401 }).then((r) => r.body);
  },
  list(
    parent: string,
    options: { filter?: string; pageSize?: number; pageToken?: string },
    signal?: AbortSignal,
  ): Promise<ListResponse> {
    const query = { filter: options.filter, pageSize: options.pageSize, pageToken: options.pageToken };
    const init: CallOptions = { query };
    if (signal) init.signal = signal;
    return call<ListResponse>('GET', collectionPath(parent), init).then((r) => r.body ?? {});
  },
  /** The operation and, when a cancel is pending, when it was requested (the server's header). */
  async get(name: string): Promise<{ operation: Operation; cancelRequested: string | undefined }> {
    const result = await call<Operation>('GET', `/v1/${namePath(name)}`);
    return { operation: result.body, cancelRequested: result.headers.get('x-longrun-cancel-requested') ?? undefined };
  },
  async cancel(name: string): Promise<void> {
    await call('POST', `/v1/${namePath(name)}:cancel`, { body: {} });
  },
  async delete(name: string): Promise<void> {
    await call('DELETE', `/v1/${namePath(name)}`);
  },
  parents(): Promise<ParentsResponse> {
    return call<ParentsResponse>('GET', '/console/api/parents').then((r) => r.body);
  },
  summary(parent: string, windowSeconds: number): Promise<SummaryResponse> {
    return call<SummaryResponse>('GET', '/console/api/summary', {
      query: { parent, windowSeconds },
    }).then((r) => r.body);
  },
  async times(names: string[]): Promise<Record<string, Times>> {
    if (names.length === 0) return {};
    const out: Record<string, Times> = {};
    for (let i = 0; i < names.length; i += 200) {
      const result = await call<{ times: Record<string, Times> }>('POST', '/console/api/times', {
        body: { names: names.slice(i, i + 200) },
      });
      Object.assign(out, result.body.times);
    }
    return out;
  },
};
