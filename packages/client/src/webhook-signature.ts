/**
 * Verifying longrun webhook deliveries. Each delivery is a POST whose `Longrun-Signature` header
 * is `t=<unix seconds>,v1=<hex HMAC-SHA256>`: the HMAC of `<t>.<body>` keyed with the webhook's
 * secret. Verify it over the raw body (the bytes as received, before any JSON parsing) and reject
 * old timestamps, so a captured delivery cannot be replayed later. Web Crypto only: it runs in
 * Node 20+, browsers, Deno, Bun and edge runtimes alike.
 *
 * ```ts
 * import { verifyWebhookSignature } from '@longrun/client';
 *
 * const body = await request.text();
 * const result = await verifyWebhookSignature({
 *   secret: process.env.LONGRUN_WEBHOOK_SECRET!,
 *   signature: request.headers.get('longrun-signature'),
 *   body,
 * });
 * if (!result.ok) return new Response(`bad signature (${result.reason})`, { status: 401 });
 * const delivery = JSON.parse(body); // { deliveryId, webhook, event, eventId, eventTime, operation }
 * ```
 */

/** The header carrying the signature. */
export const WEBHOOK_SIGNATURE_HEADER = 'Longrun-Signature';
/** The header carrying the delivery's idempotency id: the same on every attempt of one delivery. */
export const WEBHOOK_DELIVERY_ID_HEADER = 'Longrun-Delivery-Id';
/** How far from now a signature's timestamp may be, by default: five minutes. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

export interface VerifyWebhookOptions {
  /** The webhook's secret; several while rotating (any one that matches is enough). */
  secret: string | readonly string[];
  /** The `Longrun-Signature` header as received. */
  signature: string | null | undefined;
  /** The raw body: the text exactly as received, or its bytes. */
  body: string | Uint8Array | ArrayBuffer;
  /** How far the signature's time may be from now, in seconds; 0 skips the check. @default 300 */
  toleranceSeconds?: number;
  /** The current time in milliseconds since the epoch. @default Date.now() */
  now?: number;
}

export type WebhookVerification =
  | {
      ok: true;
      /** The signature's time, in seconds since the epoch. */
      timestamp: number;
    }
  | {
      ok: false;
      /**
       * `missing`: no header; `malformed`: not `t=…,v1=…`; `expired`: the time is outside the
       * tolerance; `mismatch`: no `v1` matches (wrong secret, or the body was changed).
       */
      reason: 'missing' | 'malformed' | 'expired' | 'mismatch';
    };

const encoder = new TextEncoder();

function bytesOf(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === 'string') return encoder.encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

function signedMessage(timestamp: number, body: string | Uint8Array | ArrayBuffer): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${timestamp}.`);
  const bytes = bytesOf(body);
  const message = new Uint8Array(prefix.length + bytes.length);
  message.set(prefix);
  message.set(bytes, prefix.length);
  return message;
}

function hmacKey(secret: string, usage: 'sign' | 'verify') {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return undefined;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Parses `t=…,v1=…[,v1=…]`; undefined when malformed. */
export function parseWebhookSignature(header: string): { timestamp: number; signatures: string[] } | undefined {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== undefined) return undefined;
      timestamp = Number(value);
    } else if (key === 'v1') {
      signatures.push(value);
    }
    // Other schemes (v2, …) are for later versions: ignored.
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

/** Checks a delivery's signature (in constant time) and its age. */
export async function verifyWebhookSignature(options: VerifyWebhookOptions): Promise<WebhookVerification> {
  if (!options.signature) return { ok: false, reason: 'missing' };
  const parsed = parseWebhookSignature(options.signature);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const tolerance = options.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  const now = (options.now ?? Date.now()) / 1000;
  if (tolerance > 0 && Math.abs(now - parsed.timestamp) > tolerance) return { ok: false, reason: 'expired' };
  const message = signedMessage(parsed.timestamp, options.body);
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  for (const secret of secrets) {
    const key = await hmacKey(secret, 'verify');
    for (const hex of parsed.signatures) {
      const signature = fromHex(hex);
      if (signature && (await crypto.subtle.verify('HMAC', key, signature, message))) {
        return { ok: true, timestamp: parsed.timestamp };
      }
    }
  }
  return { ok: false, reason: 'mismatch' };
}

/** The `Longrun-Signature` value for a body, as the server makes it (for tests and for relays). */
export async function signWebhookPayload(
  secret: string,
  body: string | Uint8Array | ArrayBuffer,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  const key = await hmacKey(secret, 'sign');
  const mac = await crypto.subtle.sign('HMAC', key, signedMessage(timestampSeconds, body));
  return `t=${timestampSeconds},v1=${toHex(mac)}`;
}
