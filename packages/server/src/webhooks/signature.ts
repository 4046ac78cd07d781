/**
 * Webhook signatures: `Longrun-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, where the HMAC's
 * key is the webhook's secret (its UTF-8 bytes) and its message is `<t>.<body>` (the timestamp, a
 * dot, then the exact bytes of the body). Receivers verify it with `verifyWebhookSignature` from
 * `@longrun/client`, and reject timestamps too far from their clock (replays).
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SIGNATURE_HEADER = 'longrun-signature';

/** The `Longrun-Signature` value for a body sent at `timestampSeconds`. */
export function signatureHeader(secret: string, body: string, timestampSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/** A new webhook secret: 32 random bytes, base64url, with a recognisable prefix. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}
