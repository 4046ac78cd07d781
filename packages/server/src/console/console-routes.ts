/**
 * The web console, served by the server itself (docs/console.md):
 *
 *   GET  /                         the page (also /console and /console/)
 *   GET  /console/assets/{file}    its stylesheet and ES modules
 *   GET  /console/api/parents      the parents there are, those the caller may list (`list` permission)
 *   GET  /console/api/summary      counts by state and activity under a parent (`list` on it)
 *   POST /console/api/times        when operations were created, updated, cancel-requested, done (`get` on each)
 *
 * Everything else the console shows comes from the operations API itself. The read endpoints
 * authenticate and rate-limit exactly as the API does, and answer errors as AIP-193 bodies.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AccessControl, collectionResource, type Principal } from '../auth/access.js';
import type { RequestGuard } from '../auth/guard.js';
import { ApiError, invalidField } from '../contract/errors.js';
import { isJsonObject, parseJson } from '../contract/json.js';
import { hasWildcard, parseListName, parseOperationName, WILDCARD } from '../contract/names.js';
import type { OperationStore } from '../store/store.js';
import { type Asset, CONSOLE_CSP, type ConsoleAssets, loadConsoleAssets } from './assets.js';
import { type ConsoleInsights, type ConsoleSummary, consoleInsights } from './insights.js';

export interface ConsoleOptions {
  store: OperationStore;
  access: AccessControl;
  guard: RequestGuard;
  /** Longest name or parent accepted (the server's `maxNameLength`). */
  maxNameLength: number;
  /** Where the compiled modules are (tests); the package's `dist/console-ui` by default. */
  uiDir?: string;
}

/** Parents the parent list returns at most. */
const MAX_PARENTS = 500;
/** Names one times request may ask about. */
const MAX_TIMES_NAMES = 200;
/** How long a summary is reused: many open consoles on a busy server share one count. */
const SUMMARY_TTL_MS = 2000;
/** Summaries kept for reuse at most. */
const MAX_CACHED_SUMMARIES = 64;
/** Buckets in a summary's activity chart. */
const BUCKETS = 48;
/** The windows a summary may cover, in seconds: an hour to 90 days. */
const MIN_WINDOW_SECONDS = 3600;
const MAX_WINDOW_SECONDS = 90 * 86_400;

function queryOf(url: string | undefined): URLSearchParams {
  const q = (url ?? '').indexOf('?');
  return new URLSearchParams(q < 0 ? '' : (url ?? '').slice(q + 1));
}

function iso(ms: number | null): string | undefined {
  return ms === null ? undefined : new Date(ms).toISOString();
}

export class ConsoleRoutes {
  readonly #options: ConsoleOptions;
  readonly #insights: ConsoleInsights;
  #assets: ConsoleAssets | undefined;
  readonly #summaries = new Map<string, { at: number; summary: Promise<ConsoleSummary> }>();

  constructor(options: ConsoleOptions) {
    this.#options = options;
    this.#insights = consoleInsights(options.store);
  }

  get assets(): ConsoleAssets {
    this.#assets ??= loadConsoleAssets(this.#options.uiDir);
    return this.#assets;
  }

  /** Serves a console path; false when the path is not the console's. Throws ApiError for the envelope. */
  async serve(path: string, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const read = request.method === 'GET' || request.method === 'HEAD';
    if (path === '/' || path === '/console' || path === '/console/') {
      if (!read) throw methodNotAllowed(request.method, path, 'GET');
      this.#sendAsset(request, reply, this.assets.index);
      return true;
    }
    if (path.startsWith('/console/assets/')) {
      const file = this.assets.files.get(path.slice('/console/assets/'.length));
      if (!file) return false;
      if (!read) throw methodNotAllowed(request.method, path, 'GET');
      this.#sendAsset(request, reply, file);
      return true;
    }
    switch (path) {
      case '/console/api/parents':
        if (!read) throw methodNotAllowed(request.method, path, 'GET');
        await this.#parents(request, reply);
        return true;
      case '/console/api/summary':
        if (!read) throw methodNotAllowed(request.method, path, 'GET');
        await this.#summary(request, reply);
        return true;
      case '/console/api/times':
        if (request.method !== 'POST') throw methodNotAllowed(request.method, path, 'POST');
        await this.#times(request, reply);
        return true;
    }
    return false;
  }

  #sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset): void {
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('cache-control', 'no-cache')
      .header('etag', asset.etag)
      .header('vary', 'accept-encoding')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cross-origin-resource-policy', 'same-origin')
      .type(asset.type);
    const match = request.headers['if-none-match'];
    if (typeof match === 'string' && match.split(/\s*,\s*/).includes(asset.etag)) {
      reply.code(304).send();
      return;
    }
    const accepts = String(request.headers['accept-encoding'] ?? '');
    if (asset.gzip && /\bgzip\b/.test(accepts)) {
      reply.code(200).header('content-encoding', 'gzip').send(asset.gzip);
      return;
    }
    reply.code(200).send(asset.body);
  }

  /** The caller, authenticated as the API does it (Bearer token or API key), and admitted by the rate limit. */
  #principal(request: FastifyRequest): Principal {
    let secret: string | undefined;
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match) {
        throw new ApiError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>"', {
          headers: { 'www-authenticate': 'Bearer realm="longrun"' },
        });
      }
      secret = match[1];
    } else {
      const key = request.headers['x-goog-api-key'];
      secret = typeof key === 'string' ? key : undefined;
    }
    const principal = this.#options.access.authenticate(secret);
    if (request.call) {
      request.call.principal = principal.name;
      request.call.method = 'console';
    }
    this.#options.guard.admit(principal);
    return principal;
  }

  #json(reply: FastifyReply, body: unknown): void {
    reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(body));
  }

  async #parents(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const principal = this.#principal(request);
    const { access } = this.#options;
    const listed = await this.#insights.parents(MAX_PARENTS);
    if (!listed) {
      this.#json(reply, { supported: false, parents: [], patterns: [], complete: false });
      return;
    }
    const allowed = listed.parents.filter((entry) =>
      access.allows(principal, 'list', collectionResource(entry.parent)),
    );
    // Wildcard patterns that cover two or more of the parents (`projects/-`), when the caller may list them.
    const counts = new Map<string, number>();
    for (const { parent } of allowed) {
      const segments = parent.split('/');
      for (let i = 1; i < segments.length; i += 2) {
        const pattern = [...segments.slice(0, i), ...segments.slice(i).map((s, j) => (j % 2 === 0 ? WILDCARD : s))];
        const text = pattern.join('/');
        if (text !== parent) counts.set(text, (counts.get(text) ?? 0) + 1);
      }
    }
    const patterns = [...counts]
      .filter(([pattern, n]) => n >= 2 && access.allows(principal, 'list', collectionResource(pattern)))
      .map(([pattern]) => pattern)
      .sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
    this.#json(reply, {
      supported: true,
      parents: allowed.map((entry) => ({
        parent: entry.parent,
        latestCreateTime: entry.latestCreateTime ? iso(entry.latestCreateTime) : undefined,
      })),
      patterns,
      complete: listed.complete,
    });
  }

  async #summary(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const query = queryOf(request.raw.url);
    const principal = this.#principal(request);
    const parent = parseListName(query.get('parent') ?? '', 'parent', this.#options.maxNameLength);
    this.#options.access.authorize(principal, 'list', collectionResource(parent));
    const windowText = query.get('windowSeconds') ?? '86400';
    if (!/^\d{1,10}$/.test(windowText)) throw invalidField('windowSeconds', 'must be a whole number of seconds');
    const windowSeconds = Math.min(MAX_WINDOW_SECONDS, Math.max(MIN_WINDOW_SECONDS, Number(windowText)));
    // Buckets on whole multiples of their size, so a refresh moves the chart by whole buckets.
    const bucketMs = Math.ceil((windowSeconds * 1000) / BUCKETS / 60_000) * 60_000;
    const end = Math.ceil((Date.now() + 1) / bucketMs) * bucketMs;
    const start = end - bucketMs * BUCKETS;
    const summary = await this.#cachedSummary(parent, start, bucketMs);
    this.#json(reply, {
      parent,
      counts: summary.counts,
      activity: {
        startTime: new Date(start).toISOString(),
        bucketSeconds: bucketMs / 1000,
        created: summary.created,
        finished: summary.finished,
      },
      exact: summary.exact,
      ...(summary.scanned !== undefined && { scanned: summary.scanned }),
      ...(hasWildcard(parent) && { pattern: true }),
    });
  }

  /** A summary computed within the last SUMMARY_TTL_MS for the same question, or a new one. */
  #cachedSummary(parent: string, start: number, bucketMs: number): Promise<ConsoleSummary> {
    const key = `${parent}\n${start}\n${bucketMs}`;
    const now = Date.now();
    const cached = this.#summaries.get(key);
    if (cached && now - cached.at < SUMMARY_TTL_MS) return cached.summary;
    for (const [old, entry] of this.#summaries) {
      if (now - entry.at >= SUMMARY_TTL_MS || this.#summaries.size >= MAX_CACHED_SUMMARIES) this.#summaries.delete(old);
    }
    const summary = this.#insights.summary(parent, { start, bucketMs, buckets: BUCKETS });
    this.#summaries.set(key, { at: now, summary });
    summary.catch(() => this.#summaries.delete(key));
    return summary;
  }

  async #times(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const principal = this.#principal(request);
    const text = request.body as string | undefined;
    let body: unknown;
    try {
      body = text === undefined || text === '' ? {} : parseJson(text);
    } catch {
      throw new ApiError('MALFORMED_JSON', 'The request body is not valid JSON');
    }
    const names = isJsonObject(body) ? body.names : undefined;
    if (!Array.isArray(names) || names.some((name) => typeof name !== 'string')) {
      throw invalidField('names', 'must be a list of operation names');
    }
    if (names.length > MAX_TIMES_NAMES) throw invalidField('names', `has at most ${MAX_TIMES_NAMES} names`);
    const { access, store, maxNameLength } = this.#options;
    const times: Record<string, unknown> = {};
    const wanted = [...new Set(names as string[])].filter((name) => {
      try {
        parseOperationName(name, 'names', maxNameLength);
      } catch {
        return false;
      }
      // Names the caller may not read are left out, as if they did not exist.
      return access.allows(principal, 'get', name);
    });
    const records = await Promise.all(wanted.map((name) => store.get(name)));
    for (const record of records) {
      if (!record) continue;
      times[record.name] = {
        createTime: iso(record.createTime),
        updateTime: iso(record.updateTime),
        doneTime: iso(record.doneTime),
        cancelRequestTime: iso(record.cancelRequestTime),
      };
    }
    this.#json(reply, { times });
  }
}

function methodNotAllowed(method: string, path: string, allow: string): ApiError {
  return new ApiError('METHOD_NOT_ALLOWED', `${method} is not a method of ${path}; use ${allow}`, {
    metadata: { method, path },
    headers: { allow },
  });
}
