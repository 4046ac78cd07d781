/**
 * The discovery document (`GET /$discovery/rest?version=v1`) that Google's discovery-based clients
 * (googleapiclient in Python, googleapis in Node) build a client from. docs/discovery.md has the
 * design; in short, two resources cover every name longrun serves:
 *
 *   operations            names at the top level, `operations/{id}` (the proto's default bindings)
 *   parents.operations    names under a parent, `{parent}/operations/{id}`, for any parent
 *
 * Both have create, patch, get, list, cancel, delete and wait. `list` takes the collection
 * (`operations`, `projects/p/operations`), as Google's own documents do, so it is one path for
 * both; `create` takes the parent, so the top level has its own path (`{v}/operations`): an empty
 * parent would make `{v}//operations`. Python checks path parameters against `pattern` before a
 * request is sent, so the patterns keep the two resources apart and catch a collection passed
 * where a parent is due; the server still judges every name.
 *
 * Only what longrun serves is declared: no `auth` section (Python would then insist on Google
 * credentials), no `batchPath` (there is no batch endpoint), no `callback` (JSONP is refused).
 */
import { ApiError } from '../contract/errors.js';
import { route } from './routes.js';

type Json = Record<string, unknown>;

/** An `Any`, as Google's documents declare one. */
const ANY: Json = {
  type: 'object',
  additionalProperties: { type: 'any', description: 'Properties of the object. Contains field @type with type URL.' },
};

const query = (type: string, description: string, extra: Json = {}): Json => ({
  description,
  location: 'query',
  type,
  ...extra,
});

/** The system parameters longrun accepts (docs/api.md), merged by clients into every method. */
const SYSTEM_PARAMETERS: Json = {
  '$.xgafv': query('string', 'V1 error format.', {
    enum: ['1', '2'],
    enumDescriptions: ['v1 error format', 'v2 error format'],
  }),
  access_token: query('string', 'OAuth access token.'),
  // Only `json` is served; Python sends `alt=json` on every call.
  alt: query('string', 'Data format for response.', {
    default: 'json',
    enum: ['json'],
    enumDescriptions: ['Responses with Content-Type of application/json'],
  }),
  fields: query('string', 'Selector specifying which fields to include in a partial response.'),
  key: query('string', 'API key. Required unless you provide an OAuth 2.0 token.'),
  oauth_token: query('string', 'OAuth 2.0 token for the current user.'),
  // longrun answers compactly unless asked (docs/api.md); Google's documents say true.
  prettyPrint: query('boolean', 'Returns response with indentations and line breaks.', { default: 'false' }),
  quotaUser: query('string', 'Accepted and ignored. Should not exceed 40 characters.'),
  uploadType: query('string', 'Legacy upload protocol for media (e.g. "media", "multipart"). Accepted and ignored.'),
  upload_protocol: query('string', 'Upload protocol for media (e.g. "raw", "multipart"). Accepted and ignored.'),
};

// A parent alternates collection and resource ids: `projects/p`, `projects/p/instances/i`.
const PARENT = '[^/]+/[^/]+(/[^/]+/[^/]+)*';

/** What differs between the top-level resource and the nested one. */
interface Scope {
  /** The method id's prefix: `longrun.operations`. */
  id: string;
  /** Patterns of an operation's name and of its collection (the `name` a list takes). */
  namePattern: string;
  collectionPattern: string;
  /** The flat path of the name and of the collection, after the version (Google's `{xId}` form). */
  flatName: string;
  flatCollection: string;
  /** The path of create after the version, and its path parameter if it has one. */
  createPath: string;
  createParent?: Json;
}

const TOP_LEVEL: Scope = {
  id: 'longrun.operations',
  namePattern: '^operations/.+$',
  collectionPattern: '^operations$',
  flatName: 'operations/{operationsId}',
  flatCollection: 'operations',
  createPath: 'operations',
};

const NESTED: Scope = {
  id: 'longrun.parents.operations',
  namePattern: `^${PARENT}/operations/.+$`,
  collectionPattern: `^${PARENT}/operations$`,
  flatName: '{parentsId}/operations/{operationsId}',
  flatCollection: '{parentsId}/operations',
  createPath: '{+parent}/operations',
  createParent: {
    description: 'The parent resource, such as `projects/p`, under which the operation is created.',
    location: 'path',
    pattern: `^${PARENT}$`,
    required: true,
    type: 'string',
  },
};

interface MethodSpec {
  httpMethod: string;
  /** The path and the flat path, after the version. */
  path: string;
  flatPath: string;
  parameters: Json;
  description: string;
  request?: string;
  response: string;
}

function nameParameter(pattern: string, description: string): Json {
  return { name: { description, location: 'path', pattern, required: true, type: 'string' } };
}

function methods(scope: Scope, version: string): Json {
  const method = (name: string, spec: MethodSpec): Json => ({
    description: spec.description,
    flatPath: `${version}/${spec.flatPath}`,
    httpMethod: spec.httpMethod,
    id: `${scope.id}.${name}`,
    // The required parameters, in the order Python's generated signatures list them.
    parameterOrder: Object.keys(spec.parameters).filter((key) => (spec.parameters[key] as Json).required),
    parameters: spec.parameters,
    path: `${version}/${spec.path}`,
    ...(spec.request ? { request: { $ref: spec.request } } : {}),
    response: { $ref: spec.response },
  });
  // The methods on one operation, by its full name (`{+name}` keeps the slashes).
  const onName = (verb: string, parameterDescription: string) => ({
    path: `{+name}${verb}`,
    flatPath: `${scope.flatName}${verb}`,
    parameters: nameParameter(scope.namePattern, parameterDescription),
  });
  return {
    cancel: method('cancel', {
      httpMethod: 'POST',
      ...onName(':cancel', 'The name of the operation resource to be cancelled.'),
      description:
        'Starts asynchronous cancellation on a long-running operation. It ends with `error.code` 1 (CANCELLED) once the provider stops, or after the grace period.',
      request: 'CancelOperationRequest',
      response: 'Empty',
    }),
    create: method('create', {
      httpMethod: 'POST',
      path: scope.createPath,
      flatPath: scope.createPath.replace('{+parent}', '{parentsId}'),
      parameters: scope.createParent ? { parent: scope.createParent } : {},
      description:
        'Creates an operation (provider). With an `operationId`, an exact repeat returns the operation it created.',
      request: 'CreateOperationRequest',
      response: 'Operation',
    }),
    delete: method('delete', {
      httpMethod: 'DELETE',
      ...onName('', 'The name of the operation resource to be deleted.'),
      description: 'Deletes a long-running operation. It does not cancel the operation.',
      response: 'Empty',
    }),
    get: method('get', {
      httpMethod: 'GET',
      ...onName('', 'The name of the operation resource.'),
      description: 'Gets the latest state of a long-running operation.',
      response: 'Operation',
    }),
    list: method('list', {
      httpMethod: 'GET',
      path: '{+name}',
      flatPath: scope.flatCollection,
      parameters: {
        ...nameParameter(
          scope.collectionPattern,
          'The operations collection to list, such as `projects/p/operations`.',
        ),
        filter: query('string', 'The standard list filter (AIP-160).'),
        pageSize: query('integer', 'The standard list page size.', { format: 'int32' }),
        pageToken: query('string', 'The standard list page token.'),
        returnPartialSuccess: query('boolean', 'Accepted; nothing is ever unreachable in longrun.'),
      },
      description: 'Lists operations that match the specified filter in the request, newest first.',
      response: 'ListOperationsResponse',
    }),
    patch: method('patch', {
      httpMethod: 'PATCH',
      ...onName('', 'The name of the operation resource to be updated.'),
      description:
        'Updates an operation (provider): its metadata, and once it ends `done` with a `response` or an `error`.',
      request: 'UpdateOperationRequest',
      response: 'Operation',
    }),
    wait: method('wait', {
      httpMethod: 'POST',
      ...onName(':wait', 'The name of the operation resource to wait on.'),
      description: 'Waits until the operation is done or at most the timeout, returning the latest state.',
      request: 'WaitOperationRequest',
      response: 'Operation',
    }),
  };
}

function schema(id: string, description: string, properties: Json): Json {
  return { description, id, properties, type: 'object' };
}

const SCHEMAS: Json = {
  CancelOperationRequest: schema('CancelOperationRequest', 'The request message for Operations.CancelOperation.', {}),
  CreateOperationRequest: schema('CreateOperationRequest', 'The request message for creating an operation.', {
    operation: { $ref: 'Operation', description: 'The operation to create.' },
    operationId: { description: 'The id of the operation; the server assigns one when omitted.', type: 'string' },
  }),
  Empty: schema('Empty', 'A generic empty message. Its JSON representation is `{}`.', {}),
  ListOperationsResponse: schema('ListOperationsResponse', 'The response message for Operations.ListOperations.', {
    nextPageToken: { description: 'The standard List next-page token.', type: 'string' },
    operations: {
      description: 'A list of operations that matches the specified filter in the request.',
      items: { $ref: 'Operation' },
      type: 'array',
    },
    unreachable: {
      description: 'Unordered list. Unreachable resources (always empty in longrun).',
      items: { type: 'string' },
      type: 'array',
    },
  }),
  Operation: schema('Operation', 'A long-running operation that is the result of a network API call.', {
    done: {
      description: 'If `false`, the operation is still in progress; if `true`, it is complete.',
      type: 'boolean',
    },
    error: { $ref: 'Status', description: 'The error result of the operation in case of failure or cancellation.' },
    metadata: { ...ANY, description: 'Service-specific metadata, such as progress.' },
    name: { description: 'The name of the operation, ending with `operations/{unique_id}`.', type: 'string' },
    response: { ...ANY, description: 'The normal response of the operation in case of success.' },
  }),
  Status: schema('Status', 'The error model: an error code, a message and details (google.rpc.Status).', {
    code: { description: 'The status code, a value of google.rpc.Code.', format: 'int32', type: 'integer' },
    details: { description: 'Messages that carry the error details.', items: ANY, type: 'array' },
    message: { description: 'A developer-facing error message, in English.', type: 'string' },
  }),
  UpdateOperationRequest: schema('UpdateOperationRequest', 'The request message for updating an operation.', {
    operation: { $ref: 'Operation', description: 'The new values of the operation.' },
    updateMask: {
      description:
        'The fields to update: `metadata`, `done`, `error`, `response`, or `*`. When omitted, the populated fields.',
      format: 'google-fieldmask',
      type: 'string',
    },
  }),
  WaitOperationRequest: schema('WaitOperationRequest', 'The request message for Operations.WaitOperation.', {
    timeout: {
      description: 'The longest wait, capped by the server (60s by default).',
      format: 'google-duration',
      type: 'string',
    },
  }),
};

/** The discovery document for `version`, with `rootUrl` the server's own address (ending in `/`). */
export function discoveryDocument(rootUrl: string, version: string): Json {
  // The router decides which version prefixes are served; a document for any other would only
  // describe paths that answer 404.
  try {
    route('GET', `/${encodeURIComponent(version)}/operations`);
  } catch {
    throw new ApiError(
      'INVALID_ARGUMENT',
      `No discovery document for version "${version}": use v1, v1alpha1, v2beta3…`,
      {
        metadata: { version },
        fieldViolations: [{ field: 'version', description: 'a version is `v`, a number, then letters or digits' }],
      },
    );
  }
  return {
    kind: 'discovery#restDescription',
    discoveryVersion: 'v1',
    id: `longrun:${version}`,
    name: 'longrun',
    version,
    title: 'longrun',
    description: "A persistent server for Google's long-running operations API.",
    protocol: 'rest',
    rootUrl,
    servicePath: '',
    basePath: '',
    baseUrl: rootUrl,
    fullyEncodeReservedExpansion: true,
    parameters: SYSTEM_PARAMETERS,
    resources: {
      operations: { methods: methods(TOP_LEVEL, version) },
      parents: { resources: { operations: { methods: methods(NESTED, version) } } },
    },
    schemas: SCHEMAS,
  };
}
