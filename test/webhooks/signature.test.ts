/** The signature scheme: the server's signer against the client SDK's Web Crypto verifier. */
import { describe, expect, it } from 'vitest';
import { parseWebhookSignature, signWebhookPayload, verifyWebhookSignature } from '../../packages/client/src/index.js';
import { newWebhookSecret, signatureHeader } from '../../packages/server/src/webhooks/signature.js';

const secret = newWebhookSecret();
const body = '{"deliveryId":"d1","event":"done","operation":{"name":"projects/p/operations/ü","done":true}}';
const now = 1_800_000_000_000;
const t = now / 1000;

describe('webhook signatures', () => {
  it('verifies what the server signs, over the exact body (text or bytes)', async () => {
    const header = signatureHeader(secret, body, t);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(await verifyWebhookSignature({ secret, signature: header, body, now })).toEqual({ ok: true, timestamp: t });
    const bytes = new TextEncoder().encode(body);
    expect(await verifyWebhookSignature({ secret, signature: header, body: bytes, now })).toMatchObject({ ok: true });
    expect(await verifyWebhookSignature({ secret, signature: header, body: bytes.buffer, now })).toMatchObject({
      ok: true,
    });
    // The SDK's signer and the server's agree byte for byte.
    expect(await signWebhookPayload(secret, body, t)).toBe(header);
  });

  it('rejects a tampered body, a wrong secret, and a signature moved to another timestamp', async () => {
    const header = signatureHeader(secret, body, t);
    const tampered = body.replace('"done":true', '"done":false');
    expect(await verifyWebhookSignature({ secret, signature: header, body: tampered, now })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(await verifyWebhookSignature({ secret, signature: header, body: `${body} `, now })).toMatchObject({
      ok: false,
    });
    expect(await verifyWebhookSignature({ secret: newWebhookSecret(), signature: header, body, now })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    const moved = header.replace('t=1800000000', 't=1800000001');
    expect(await verifyWebhookSignature({ secret, signature: moved, body, now })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('rejects old and future timestamps outside the tolerance, unless the check is off', async () => {
    const old = signatureHeader(secret, body, t - 301);
    expect(await verifyWebhookSignature({ secret, signature: old, body, now })).toEqual({
      ok: false,
      reason: 'expired',
    });
    const future = signatureHeader(secret, body, t + 301);
    expect(await verifyWebhookSignature({ secret, signature: future, body, now })).toMatchObject({ reason: 'expired' });
    expect(await verifyWebhookSignature({ secret, signature: old, body, now, toleranceSeconds: 600 })).toMatchObject({
      ok: true,
    });
    expect(await verifyWebhookSignature({ secret, signature: old, body, now, toleranceSeconds: 0 })).toMatchObject({
      ok: true,
    });
  });

  it('rejects missing and malformed headers', async () => {
    for (const signature of [undefined, null, '']) {
      expect(await verifyWebhookSignature({ secret, signature, body, now })).toEqual({ ok: false, reason: 'missing' });
    }
    for (const signature of ['v1=abc', 't=1800000000', 't=abc,v1=00', 'garbage', 't=1,t=2,v1=00']) {
      expect(await verifyWebhookSignature({ secret, signature, body, now })).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
    expect(await verifyWebhookSignature({ secret, signature: `t=${t},v1=zz`, body, now })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('accepts any of several secrets (rotation), and any of several v1 values', async () => {
    const header = signatureHeader(secret, body, t);
    expect(
      await verifyWebhookSignature({ secret: [newWebhookSecret(), secret], signature: header, body, now }),
    ).toMatchObject({
      ok: true,
    });
    const other = signatureHeader(newWebhookSecret(), body, t).split(',')[1];
    expect(
      await verifyWebhookSignature({
        secret,
        signature: `${header.split(',')[0]},${other},${header.split(',')[1]}`,
        body,
        now,
      }),
    ).toMatchObject({
      ok: true,
    });
    expect(parseWebhookSignature(`t=${t},v1=aa,v2=bb`)).toEqual({ timestamp: t, signatures: ['aa'] });
  });
});
