/**
 * The webhook management API over REST (docs/watch-and-webhooks.md): subscriptions as resources
 * under a parent (AIP-133/131/132/134/135), their deliveries as a read-only sub-collection, and a
 * `:redeliver` custom method. The REST layer routes, canonicalises parameters and renders errors
 * and partial responses; this decides and renders the JSON.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, invalidField } from '../contract/errors.js';
import { hasWildcard } from '../contract/names.js';
import { parseFilter } from '../filter/index.js';
import type { Schema } from '../rest/partial-response.js';
import { newWebhookSecret } from './signature.js';
import { DELIVERIES_COLLECTION, parseWebhookPath } from './webhook-routes.js';
import {
  DELIVERY_STATES,
  type DeliveryRecord,
  type DeliveryState,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
  type WebhookRecord,
  type WebhookStore,
} from './webhook-store.js';

/** Query parameters of the webhook methods, in both spellings, to their canonical names. */
export const WEBHOOK_QUERY_PARAMS: Record<string, string> = {
  webhookId: 'webhookId',
  webhook_id: 'webhookId',
  pageSize: 'pageSize',
  page_size: 'pageSize',
  pageToken: 'pageToken',
  page_token: 'pageToken',
  state: 'state',
  updateMask: 'updateMask',
  update_mask: 'updateMask',
};

/** Body fields of the webhook methods (the Webhook resource; output-only fields are accepted and ignored). */
export const WEBHOOK_BODY_FIELDS: Record<string, string> = {
  name: 'name',
  uri: 'uri',
  filter: 'filter',
  events: 'events',
  secret: 'secret',
  createTime: 'createTime',
  create_time: 'createTime',
  updateTime: 'updateTime',
  update_time: 'updateTime',
};

export const WEBHOOK_SCHEMA: Schema = {
  name: 'leaf',
  uri: 'leaf',
  filter: 'leaf',
  events: 'leaf',
  secret: 'leaf',
  createTime: 'leaf',
  updateTime: 'leaf',
};
export const WEBHOOK_LIST_SCHEMA: Schema = { webhooks: WEBHOOK_SCHEMA, nextPageToken: 'leaf' };
export const DELIVERY_SCHEMA: Schema = {
  name: 'leaf',
  deliveryId: 'leaf',
  webhook: 'leaf',
  operation: 'leaf',
  event: 'leaf',
  eventId: 'leaf',
  state: 'leaf',
  attempts: 'leaf',
  createTime: 'leaf',
  updateTime: 'leaf',
  nextAttemptTime: 'leaf',
  lastAttemptTime: 'leaf',
  lastStatusCode: 'leaf',
  lastError: 'leaf',
};
export const DELIVERY_LIST_SCHEMA: Schema = { deliveries: DELIVERY_SCHEMA, nextPageToken: 'leaf' };

export interface WebhookAnswer {
  json: string;
  schema: Schema;
}

export interface WebhookApiOptions {
  /** Wakes the dispatcher: after a webhook is created (it fans out for it from then on) and after a redelivery. */
  wake?: () => void;
  now?: () => number;
}

const WEBHOOK_ID = /^[A-Za-z0-9._~-]{1,128}$/;
const MAX_URI_LENGTH = 2048;
const MIN_SECRET_LENGTH = 16;
const MAX_SECRET_LENGTH = 256;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;
const MUTABLE_FIELDS = ['uri', 'filter', 'events', 'secret'] as const;

const time = (ms: number) => new Date(ms).toISOString();

function webhookNotFound(name: string): ApiError {
  return new ApiError('WEBHOOK_NOT_FOUND', `Webhook "${name}" not found`, { metadata: { name } });
}

function methodNotAllowed(method: string, resource: string, allow: string): ApiError {
  return new ApiError('METHOD_NOT_ALLOWED', `${method} is not a method of ${resource}; use ${allow}`, {
    metadata: { method, path: resource },
    headers: { allow },
  });
}

/** The Webhook resource as JSON; the secret only when asked (it is shown on create and when rotated). */
export function renderWebhook(webhook: WebhookRecord, withSecret = false): string {
  const out: Record<string, unknown> = { name: webhook.name, uri: webhook.uri };
  if (webhook.filter !== '') out.filter = webhook.filter;
  out.events = webhook.events;
  if (withSecret) out.secret = webhook.secret;
  out.createTime = time(webhook.createTime);
  out.updateTime = time(webhook.updateTime);
  return JSON.stringify(out);
}

export function renderDelivery(delivery: DeliveryRecord): string {
  const out: Record<string, unknown> = {
    name: `${delivery.webhook}/${DELIVERIES_COLLECTION}/${delivery.id}`,
    deliveryId: delivery.id,
    webhook: delivery.webhook,
    operation: delivery.operation,
    event: delivery.eventType,
    eventId: String(delivery.eventId),
    state: delivery.state,
    attempts: delivery.attempts,
    createTime: time(delivery.createTime),
    updateTime: time(delivery.updateTime),
  };
  if (delivery.state === 'PENDING' && delivery.nextAttemptTime !== null) {
    out.nextAttemptTime = time(Math.max(delivery.nextAttemptTime, delivery.leaseUntil ?? 0));
  }
  if (delivery.lastAttemptTime !== null) out.lastAttemptTime = time(delivery.lastAttemptTime);
  if (delivery.lastStatus !== null) out.lastStatusCode = delivery.lastStatus;
  if (delivery.lastError !== null) out.lastError = delivery.lastError;
  return JSON.stringify(out);
}

function readUri(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw invalidField('uri', 'is required: the URL deliveries are POSTed to');
  if (value.length > MAX_URI_LENGTH) throw invalidField('uri', `longer than ${MAX_URI_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidField('uri', `"${value}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidField('uri', 'must be an http or https URL');
  return value;
}

function readFilter(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidField('filter', 'must be a string');
  parseFilter(value);
  return value;
}

function readEvents(value: unknown): WebhookEventType[] {
  if (value === undefined || value === null) return ['done'];
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidField('events', `must be a non-empty list of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  }
  const events = new Set<WebhookEventType>();
  for (const item of value) {
    const type = typeof item === 'string' ? item.toLowerCase() : undefined;
    if (!type || !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type)) {
      throw invalidField('events', `"${String(item)}" is not one of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    }
    events.add(type as WebhookEventType);
  }
  return WEBHOOK_EVENT_TYPES.filter((type) => events.has(type));
}

function readSecret(value: unknown): string {
  if (value === undefined || value === null || value === '') return newWebhookSecret();
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || value.length > MAX_SECRET_LENGTH) {
    throw invalidField('secret', `must be a string of ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters`);
  }
  return value;
}

function readPageSize(value: unknown): number {
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) {
    throw invalidField('page_size', 'must be a non-negative integer', 'INVALID_PAGE_SIZE');
  }
  const size = Number(value);
  return size === 0 ? DEFAULT_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE);
}

function mintToken(kind: string, value: string | number): string {
  return Buffer.from(JSON.stringify([kind, value])).toString('base64url');
}

function readToken<T extends string | number>(token: unknown, kind: string, type: 'string' | 'number'): T | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const [k, value] = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as [string, T];
    if (k === kind && typeof value === type) return value;
  } catch {
    // Falls through to the error.
  }
  throw invalidField('page_token', 'is not a page token of this list', 'INVALID_PAGE_TOKEN');
}

function only(query: Map<string, unknown>, allowed: string[]): void {
  for (const key of query.keys()) {
    if (!allowed.includes(key)) {
      throw invalidField(key, 'is not a query parameter of this method', 'UNKNOWN_QUERY_PARAMETER');
    }
  }
}

export class WebhookApi {
  readonly #store: WebhookStore;
  readonly #options: WebhookApiOptions;
  readonly #now: () => number;

  constructor(store: WebhookStore, options: WebhookApiOptions = {}) {
    this.#store = store;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Serves one webhook request; `resource` is the decoded path after the version, `:verb` included. */
  async handle(
    method: string,
    resource: string,
    query: Map<string, unknown>,
    body: Map<string, unknown>,
  ): Promise<WebhookAnswer> {
    const { path, verb } = parseWebhookPath(resource);
    if (verb !== undefined && !(path.kind === 'delivery' && verb === 'redeliver')) {
      throw new ApiError('PATH_NOT_FOUND', `No method is served at ${resource}`, { metadata: { path: resource } });
    }
    switch (path.kind) {
      case 'collection':
        if (method === 'GET' || method === 'HEAD') {
          only(query, ['pageSize', 'pageToken']);
          return this.#list(path.parent, query);
        }
        if (method === 'POST') {
          only(query, ['webhookId']);
          return this.#create(path.parent, query.get('webhookId'), body);
        }
        throw methodNotAllowed(method, resource, 'GET, POST');
      case 'webhook':
        if (method === 'GET' || method === 'HEAD') {
          only(query, []);
          return { json: renderWebhook(await this.#get(path.name)), schema: WEBHOOK_SCHEMA };
        }
        if (method === 'PATCH') {
          only(query, ['updateMask']);
          return this.#update(path.name, query.get('updateMask'), body);
        }
        if (method === 'DELETE') {
          only(query, []);
          if (!(await this.#store.deleteWebhook(path.name))) throw webhookNotFound(path.name);
          return { json: '{}', schema: {} };
        }
        throw methodNotAllowed(method, resource, 'GET, PATCH, DELETE');
      case 'deliveries':
        if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, resource, 'GET');
        only(query, ['pageSize', 'pageToken', 'state']);
        return this.#listDeliveries(path.webhook, query);
      case 'delivery': {
        if (verb === 'redeliver') {
          if (method !== 'POST') throw methodNotAllowed(method, resource, 'POST');
          only(query, []);
          await this.#get(path.webhook);
          const delivery = await this.#store.redeliver(path.webhook, path.id, this.#now());
          if (!delivery) throw deliveryNotFound(path.webhook, path.id);
          this.#options.wake?.();
          return { json: renderDelivery(delivery), schema: DELIVERY_SCHEMA };
        }
        if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, resource, 'GET');
        only(query, []);
        const delivery = await this.#store.getDelivery(path.webhook, path.id);
        if (!delivery) {
          await this.#get(path.webhook);
          throw deliveryNotFound(path.webhook, path.id);
        }
        return { json: renderDelivery(delivery), schema: DELIVERY_SCHEMA };
      }
    }
  }

  async #get(name: string): Promise<WebhookRecord> {
    const webhook = await this.#store.getWebhook(name);
    if (!webhook) throw webhookNotFound(name);
    return webhook;
  }

  async #create(parent: string, webhookId: unknown, body: Map<string, unknown>): Promise<WebhookAnswer> {
    if (hasWildcard(parent))
      throw invalidField('parent', 'a webhook belongs to one parent; "-" is for lists', 'INVALID_NAME');
    let id: string;
    if (webhookId === undefined || webhookId === '') id = randomUUID();
    else if (typeof webhookId !== 'string' || !WEBHOOK_ID.test(webhookId)) {
      throw invalidField('webhook_id', 'must be 1 to 128 characters from A-Z a-z 0-9 . _ ~ -', 'INVALID_NAME');
    } else id = webhookId;
    const name = parent === '' ? `webhooks/${id}` : `${parent}/webhooks/${id}`;
    const given = body.get('name');
    if (given !== undefined && given !== '' && given !== name) {
      throw invalidField('name', `"${String(given)}" is not the name this request creates ("${name}")`);
    }
    const now = this.#now();
    const webhook = await this.#store.createWebhook({
      name,
      parent,
      uri: readUri(body.get('uri')),
      filter: readFilter(body.get('filter')),
      events: readEvents(body.get('events')),
      secret: readSecret(body.get('secret')),
      createTime: now,
      updateTime: now,
    });
    if (!webhook) {
      throw new ApiError('WEBHOOK_ALREADY_EXISTS', `Webhook "${name}" already exists`, { metadata: { name } });
    }
    this.#options.wake?.();
    return { json: renderWebhook(webhook, true), schema: WEBHOOK_SCHEMA };
  }

  async #update(name: string, mask: unknown, body: Map<string, unknown>): Promise<WebhookAnswer> {
    const current = await this.#get(name);
    const given = body.get('name');
    if (given !== undefined && given !== '' && given !== name) {
      throw invalidField('name', `"${String(given)}" is not the webhook being updated ("${name}")`);
    }
    let fields: string[];
    if (mask === undefined || mask === '') {
      fields = MUTABLE_FIELDS.filter((field) => body.has(field));
    } else if (typeof mask !== 'string') {
      throw invalidField('update_mask', 'must be a comma-separated list of fields', 'INVALID_UPDATE_MASK');
    } else {
      fields = mask.split(',').map((field) => field.trim());
      for (const field of fields) {
        if (!(MUTABLE_FIELDS as readonly string[]).includes(field)) {
          throw invalidField(
            'update_mask',
            `"${field}" cannot be updated; the fields are ${MUTABLE_FIELDS.join(', ')}`,
            'INVALID_UPDATE_MASK',
          );
        }
      }
    }
    const change = {
      uri: fields.includes('uri') ? readUri(body.get('uri')) : current.uri,
      filter: fields.includes('filter') ? readFilter(body.get('filter')) : current.filter,
      events: fields.includes('events') ? readEvents(body.get('events')) : current.events,
      secret: fields.includes('secret') ? readSecret(body.get('secret')) : current.secret,
      updateTime: this.#now(),
    };
    const updated = await this.#store.updateWebhook(name, change);
    if (!updated) throw webhookNotFound(name);
    return { json: renderWebhook(updated, fields.includes('secret')), schema: WEBHOOK_SCHEMA };
  }

  async #list(parent: string, query: Map<string, unknown>): Promise<WebhookAnswer> {
    const pageSize = readPageSize(query.get('pageSize'));
    const after = readToken<string>(query.get('pageToken'), `webhooks:${parent}`, 'string');
    const page = await this.#store.listWebhooks(parent, pageSize + 1, after);
    const items = page.slice(0, pageSize);
    const parts: string[] = [];
    if (items.length > 0) parts.push(`"webhooks":[${items.map((webhook) => renderWebhook(webhook)).join(',')}]`);
    if (page.length > pageSize) {
      parts.push(`"nextPageToken":"${mintToken(`webhooks:${parent}`, items[items.length - 1]!.name)}"`);
    }
    return { json: `{${parts.join(',')}}`, schema: WEBHOOK_LIST_SCHEMA };
  }

  async #listDeliveries(webhook: string, query: Map<string, unknown>): Promise<WebhookAnswer> {
    await this.#get(webhook);
    const pageSize = readPageSize(query.get('pageSize'));
    const stateText = query.get('state');
    let state: DeliveryState | undefined;
    if (stateText !== undefined && stateText !== '') {
      const upper = String(stateText).toUpperCase();
      if (!(DELIVERY_STATES as readonly string[]).includes(upper)) {
        throw invalidField('state', `must be one of ${DELIVERY_STATES.join(', ')}`);
      }
      state = upper as DeliveryState;
    }
    const kind = `deliveries:${webhook}:${state ?? ''}`;
    const beforeSeq = readToken<number>(query.get('pageToken'), kind, 'number');
    const page = await this.#store.listDeliveries(webhook, { state, beforeSeq, limit: pageSize + 1 });
    const items = page.slice(0, pageSize);
    const parts: string[] = [];
    if (items.length > 0) parts.push(`"deliveries":[${items.map(renderDelivery).join(',')}]`);
    if (page.length > pageSize) parts.push(`"nextPageToken":"${mintToken(kind, items[items.length - 1]!.seq)}"`);
    return { json: `{${parts.join(',')}}`, schema: DELIVERY_LIST_SCHEMA };
  }
}

function deliveryNotFound(webhook: string, id: string): ApiError {
  return new ApiError('DELIVERY_NOT_FOUND', `Delivery "${id}" of webhook "${webhook}" not found`, {
    metadata: { webhook, delivery: id },
  });
}
