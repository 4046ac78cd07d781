/**
 * Who may call what over gRPC: the same principals, roles and limits as REST (auth/access.ts,
 * auth/guard.ts), checked before a call reaches the service. A secret arrives as the metadata
 * `authorization: Bearer <token>` (what Google's clients send with credentials) or
 * `x-goog-api-key: <key>`.
 */
import { createContextKey } from '@connectrpc/connect';
import { type AccessControl, ANONYMOUS, collectionResource, type Permission, type Principal } from '../auth/access.js';
import { ApiError, invalidField } from '../contract/errors.js';
import { parseListName } from '../contract/names.js';

/** The principal the call interceptor authenticated, for the handlers (a wait counts against its limit). */
export const PRINCIPAL = createContextKey<Principal>(ANONYMOUS, { description: 'longrun principal' });

/** How a call is named (as REST names it, for metrics and logs) and what it needs. */
export interface CallRule {
  /** The method, as REST's metrics and logs name it: `get`, `list`, `create`, … */
  method: string;
  /** The permission it needs, on the resource `resource` names; none for reflection. */
  permission?: Permission;
  resource?: (request: never, maxNameLength: number) => string;
  /** It changes the whole server (registering types): it needs the admin role on every resource. */
  admin?: boolean;
}

const OPERATIONS = 'google.longrunning.Operations';
const PROVIDER = 'longrun.v1.OperationsProvider';

/** The rules, by `{service}/{method}`. */
export const CALL_RULES: Readonly<Record<string, CallRule>> = {
  [`${OPERATIONS}/ListOperations`]: {
    method: 'list',
    permission: 'list',
    resource: (request: { name: string }, max) => collectionResource(parseListName(request.name, 'name', max)),
  },
  [`${OPERATIONS}/GetOperation`]: {
    method: 'get',
    permission: 'get',
    resource: (request: { name: string }) => request.name,
  },
  [`${OPERATIONS}/DeleteOperation`]: {
    method: 'delete',
    permission: 'delete',
    resource: (request: { name: string }) => request.name,
  },
  [`${OPERATIONS}/CancelOperation`]: {
    method: 'cancel',
    permission: 'cancel',
    resource: (request: { name: string }) => request.name,
  },
  [`${OPERATIONS}/WaitOperation`]: {
    method: 'wait',
    permission: 'wait',
    resource: (request: { name: string }) => request.name,
  },
  [`${PROVIDER}/CreateOperation`]: {
    method: 'create',
    permission: 'create',
    resource: (request: { parent: string }) => collectionResource(request.parent),
  },
  [`${PROVIDER}/UpdateOperation`]: {
    method: 'patch',
    permission: 'patch',
    resource: (request: { operation?: { name: string } }) => {
      // REST takes the name from the path; here it is the operation's own (AIP-134).
      const name = request.operation?.name ?? '';
      if (name === '')
        throw invalidField('operation.name', 'is required: it names the operation to update', 'INVALID_NAME');
      return name;
    },
  },
  'longrun.v1.TypeRegistry/RegisterTypes': { method: 'registerTypes', admin: true },
  'grpc.reflection.v1.ServerReflection/ServerReflectionInfo': { method: 'reflection' },
  'grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo': { method: 'reflection' },
};

/** The secret in a call's metadata; UNAUTHENTICATED for a malformed `authorization`. */
export function credential(headers: Headers): string | undefined {
  const authorization = headers.get('authorization');
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new ApiError('UNAUTHENTICATED', 'The authorization metadata must be "Bearer <token>"');
    return match[1];
  }
  return headers.get('x-goog-api-key') ?? undefined;
}

/** Throws PERMISSION_DENIED (or INVALID_ARGUMENT for a request that names nothing) unless allowed. */
export function authorizeCall(
  access: AccessControl,
  principal: Principal,
  rule: CallRule,
  request: unknown,
  maxNameLength: number,
): void {
  if (rule.admin) {
    // Types apply to every operation, so registering them takes the admin role on all of them.
    if (!principal.grants.some((grant) => grant.role === 'admin' && grant.pattern === '**')) {
      throw new ApiError('PERMISSION_DENIED', 'Registering types needs the admin role on every resource ("**")', {
        metadata: { permission: 'registerTypes', resource: '**', principal: principal.name },
      });
    }
    return;
  }
  if (rule.permission && rule.resource) {
    access.authorize(principal, rule.permission, rule.resource(request as never, maxNameLength));
  }
}
