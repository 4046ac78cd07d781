/**
 * Page tokens (AIP-158): opaque, tamper-proof, bound to the list they continue. A token is the
 * cursor plus what it is bound to, sealed with AES-256-GCM, so it can be neither read nor forged;
 * the key comes from the store (shared by replicas, kept across restarts) or from configuration.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ApiError, invalidField } from './errors.js';

/** Tokens older than this are refused (AIP-158's rule of thumb is three days). */
export const PAGE_TOKEN_TTL_MS = 3 * 24 * 3600 * 1000;
const VERSION = 1;

export interface PageCursor {
  /** The list's parent (as requested) and filter text: a token continues only the same list. */
  parent: string;
  filter: string;
  /** Continue with records whose seq is below this. */
  beforeSeq: number;
}

export class PageTokens {
  readonly #key: Buffer;

  constructor(secret: Buffer) {
    this.#key = createHash('sha256').update('longrun page tokens\0').update(secret).digest();
  }

  mint(cursor: PageCursor, now = Date.now()): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const payload = JSON.stringify([VERSION, cursor.parent, cursor.filter, cursor.beforeSeq, now]);
    const sealed = Buffer.concat([cipher.update(payload, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The cursor in `token`, after checking that it continues the list `parent` + `filter`. */
  read(token: string, parent: string, filter: string, now = Date.now()): number {
    const payload = this.#open(token);
    if (!payload) throw invalidField('page_token', 'is not a token this server issued', 'INVALID_PAGE_TOKEN');
    const [version, tokenParent, tokenFilter, beforeSeq, issued] = payload;
    if (version !== VERSION || typeof beforeSeq !== 'number' || typeof issued !== 'number') {
      throw invalidField('page_token', 'is not a token this server issued', 'INVALID_PAGE_TOKEN');
    }
    if (now - issued > PAGE_TOKEN_TTL_MS) {
      throw invalidField('page_token', 'has expired; start the list again without a token', 'INVALID_PAGE_TOKEN');
    }
    if (tokenParent !== parent || tokenFilter !== filter) {
      throw new ApiError(
        'INVALID_PAGE_TOKEN',
        'The page token continues another list: name and filter must be those of the request that returned it',
        { fieldViolations: [{ field: 'page_token', description: 'was issued for a different name or filter' }] },
      );
    }
    return beforeSeq;
  }

  #open(token: string): unknown[] | undefined {
    try {
      const bytes = Buffer.from(token, 'base64url');
      if (bytes.length < 29) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      const text = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
      const payload: unknown = JSON.parse(text);
      return Array.isArray(payload) ? payload : undefined;
    } catch {
      return undefined;
    }
  }
}
