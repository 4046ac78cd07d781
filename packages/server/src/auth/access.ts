/**
 * Who may do what. Principals are defined in the configuration file with hashed secrets and
 * roles on resource-name patterns; a secret arrives as a Bearer token or an API key (the forms
 * Google's clients send). Transports extract the secret and ask here; the rules live only here.
 *
 * Permission is checked before existence (AIP-193): a caller without access to a name gets
 * PERMISSION_DENIED whether or not the operation exists.
 */
import { createHash } from 'node:crypto';
import { ApiError } from '../contract/errors.js';
import { WILDCARD } from '../contract/names.js';

export type Role = 'viewer' | 'provider' | 'admin';

/** Every action a caller can take, named after the method (or resource) it belongs to. */
export type Permission = 'get' | 'list' | 'wait' | 'watch' | 'create' | 'patch' | 'cancel' | 'delete' | 'webhooks';

const VIEWER: Permission[] = ['get', 'list', 'wait', 'watch'];
const PROVIDER: Permission[] = [...VIEWER, 'create', 'patch'];

export const ALL_PERMISSIONS: readonly Permission[] = [...PROVIDER, 'cancel', 'delete', 'webhooks'];

/** What each role may do. Admin may do everything, delete and cancel included. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  viewer: new Set(VIEWER),
  provider: new Set(PROVIDER),
  admin: new Set<Permission>(ALL_PERMISSIONS),
};

/** A principal as written in the configuration file. */
export interface PrincipalConfig {
  name: string;
  /** SHA-256 digests of the principal's secrets, as `sha256:<hex>` (`longrun auth token` makes one). */
  secrets: string[];
  grants: { role: Role; resources: string | string[] }[];
}

export interface AuthConfig {
  principals: PrincipalConfig[];
}

interface Grant {
  role: Role;
  pattern: string;
  segments: string[];
}

export interface Principal {
  name: string;
  grants: readonly Grant[];
}

/** The caller when no principals are configured: everything is allowed (on loopback only). */
export const ANONYMOUS: Principal = { name: 'anonymous', grants: [{ role: 'admin', pattern: '**', segments: ['**'] }] };

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The `sha256:<hex>` digest of a secret, as the configuration file stores it. */
export function digestSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

function checkPattern(pattern: string, where: string): string[] {
  const segments = pattern.split('/');
  if (segments.some((s) => s === '' || (s.includes('*') && s !== '*' && s !== '**'))) {
    throw new Error(`${where}: "${pattern}" is not a resource pattern (segments, "*" for one, "**" for any number)`);
  }
  if (segments.slice(0, -1).includes('**')) throw new Error(`${where}: "**" may only end a pattern ("${pattern}")`);
  return segments;
}

/**
 * Does the pattern cover the name? `*` covers one segment, `**` any number (as the last one); in
 * the name, `-` (a list across collections) is covered only by a wildcard.
 */
function covers(pattern: string[], name: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '**') return true;
    const n = name[i];
    if (n === undefined) return false;
    if (p !== '*' && (p !== n || n === WILDCARD)) return false;
  }
  return pattern.length === name.length;
}

export class AccessControl {
  readonly #bySecret = new Map<string, Principal>();

  /** Validates the principals; throws an Error that names the first mistake. */
  constructor(config: AuthConfig | undefined) {
    for (const [i, entry] of (config?.principals ?? []).entries()) {
      const where = `auth.principals[${i}]`;
      if (typeof entry?.name !== 'string' || entry.name === '') throw new Error(`${where}.name is required`);
      if (!Array.isArray(entry.secrets) || entry.secrets.length === 0) throw new Error(`${where}.secrets is required`);
      if (!Array.isArray(entry.grants)) throw new Error(`${where}.grants is required`);
      const grants = entry.grants.flatMap((grant, g) => {
        if (!Object.hasOwn(ROLE_PERMISSIONS, grant?.role)) {
          throw new Error(`${where}.grants[${g}].role must be viewer, provider or admin`);
        }
        const resources = Array.isArray(grant.resources) ? grant.resources : [grant.resources];
        return resources.map((pattern) => ({
          role: grant.role,
          pattern,
          segments: checkPattern(String(pattern), `${where}.grants[${g}]`),
        }));
      });
      const principal: Principal = { name: entry.name, grants };
      for (const secret of entry.secrets) {
        if (!DIGEST.test(secret)) throw new Error(`${where}.secrets: "${secret}" is not sha256:<64 hex digits>`);
        if (this.#bySecret.has(secret)) throw new Error(`${where}: a secret is shared with another principal`);
        this.#bySecret.set(secret, principal);
      }
    }
  }

  /** True when principals are configured, so every request must carry a secret. */
  get enabled(): boolean {
    return this.#bySecret.size > 0;
  }

  /** The principal a secret belongs to; UNAUTHENTICATED when auth is on and it is missing or unknown. */
  authenticate(secret: string | undefined): Principal {
    if (!this.enabled) return ANONYMOUS;
    if (secret === undefined || secret === '') {
      throw new ApiError('UNAUTHENTICATED', 'This server requires credentials: a Bearer token or an API key', {
        headers: { 'www-authenticate': 'Bearer realm="longrun"' },
      });
    }
    // Looked up by digest: what an attacker varies is the digest's preimage, so the lookup's timing
    // reveals nothing about stored secrets.
    const principal = this.#bySecret.get(digestSecret(secret));
    if (!principal) {
      throw new ApiError('UNAUTHENTICATED', 'The credentials are not valid', {
        headers: { 'www-authenticate': 'Bearer realm="longrun", error="invalid_token"' },
      });
    }
    return principal;
  }

  /** Throws PERMISSION_DENIED unless one of the principal's grants allows `permission` on `resource`. */
  authorize(principal: Principal, permission: Permission, resource: string): void {
    const name = resource.split('/');
    for (const grant of principal.grants) {
      if (ROLE_PERMISSIONS[grant.role].has(permission) && covers(grant.segments, name)) return;
    }
    throw new ApiError('PERMISSION_DENIED', `Permission "${permission}" denied on "${resource}"`, {
      metadata: { permission, resource, principal: principal.name },
    });
  }

  /** Whether the principal may take `permission` on `resource` (for showing or hiding actions). */
  allows(principal: Principal, permission: Permission, resource: string): boolean {
    try {
      this.authorize(principal, permission, resource);
      return true;
    } catch {
      return false;
    }
  }
}

/** The resource a list, watch or create under `parent` is checked against: any operation there. */
export function collectionResource(parent: string): string {
  return parent === '' ? `operations/${WILDCARD}` : `${parent}/operations/${WILDCARD}`;
}
