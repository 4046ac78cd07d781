/**
 * The webhook paths (after the version), with no `operations` collection in them:
 *
 *   {parent}/webhooks                                  GET list, POST create
 *   {parent}/webhooks/{id}                             GET, PATCH, DELETE
 *   {parent}/webhooks/{id}/deliveries                  GET list
 *   {parent}/webhooks/{id}/deliveries/{delivery}       GET
 *   {parent}/webhooks/{id}/deliveries/{delivery}:redeliver   POST
 *
 * `{parent}` is empty for top-level operations (`/v1/webhooks`).
 */
import { ApiError } from '../contract/errors.js';
import { OPERATIONS_COLLECTION, parseParent } from '../contract/names.js';

export const WEBHOOKS_COLLECTION = 'webhooks';
export const DELIVERIES_COLLECTION = 'deliveries';

export type WebhookPath =
  | { kind: 'collection'; parent: string }
  | { kind: 'webhook'; parent: string; name: string }
  | { kind: 'deliveries'; parent: string; webhook: string }
  | { kind: 'delivery'; parent: string; webhook: string; id: string };

/** Where `webhooks` sits in the segments (the last place that fits the shapes above), or -1. */
function webhooksIndex(segments: readonly string[]): number {
  for (let i = segments.length - 1; i >= 0; i--) {
    if (i % 2 !== 0 || segments[i] !== WEBHOOKS_COLLECTION) continue;
    const tail = segments.length - 1 - i;
    if (tail > 3) continue;
    if (tail >= 2 && segments[i + 2] !== DELIVERIES_COLLECTION) continue;
    return i;
  }
  return -1;
}

/** True when a request path's segments (after the version, still encoded) address webhooks. */
export function isWebhooksPath(segments: readonly string[]): boolean {
  if (segments.length === 0) return false;
  const plain = [...segments];
  const last = plain[plain.length - 1]!;
  const colon = last.indexOf(':');
  if (colon >= 0) plain[plain.length - 1] = last.slice(0, colon);
  for (let i = 0; i < plain.length; i += 2) if (plain[i] === OPERATIONS_COLLECTION) return false;
  return webhooksIndex(plain) >= 0;
}

/** Splits a decoded webhook resource (as routed) into what it addresses and its `:verb`. */
export function parseWebhookPath(resource: string): { path: WebhookPath; verb: string | undefined } {
  let verb: string | undefined;
  let text = resource;
  const colon = text.lastIndexOf(':');
  if (colon >= 0 && !text.slice(colon).includes('/')) {
    verb = text.slice(colon + 1);
    text = text.slice(0, colon);
  }
  const segments = text.split('/');
  const at = webhooksIndex(segments);
  if (at < 0)
    throw new ApiError('PATH_NOT_FOUND', `No method is served at ${resource}`, { metadata: { path: resource } });
  const parent = parseParent(segments.slice(0, at).join('/'), { allowWildcard: true });
  const tail = segments.slice(at + 1);
  const webhookName = (id: string) =>
    parent === '' ? `${WEBHOOKS_COLLECTION}/${id}` : `${parent}/${WEBHOOKS_COLLECTION}/${id}`;
  switch (tail.length) {
    case 0:
      return { path: { kind: 'collection', parent }, verb };
    case 1:
      return { path: { kind: 'webhook', parent, name: webhookName(tail[0]!) }, verb };
    case 2:
      return { path: { kind: 'deliveries', parent, webhook: webhookName(tail[0]!) }, verb };
    default:
      return { path: { kind: 'delivery', parent, webhook: webhookName(tail[0]!), id: tail[2]! }, verb };
  }
}

/** The parent a webhook request is about (what access is checked on: the operations there). */
export function webhookParent(resource: string): string {
  return parseWebhookPath(resource).path.parent;
}
