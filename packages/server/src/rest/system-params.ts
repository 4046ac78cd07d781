/**
 * Google's system parameters (cloud.google.com/apis/docs/system-parameters) and the query string.
 * Each parameter may come as `name` or `$name`; the last value wins. Credentials (`key`,
 * `access_token`, `oauth_token`) are accepted here and checked by the auth layer; media-upload
 * parameters mean nothing for operations and are ignored. JSONP (`callback`) is refused: it
 * would let any site read responses across origins.
 */
import { ApiError, invalidField } from '../contract/errors.js';

export interface SystemParams {
  /** `$.xgafv`: the error format, 1 (adds the legacy `errors` array) or 2 (the default). */
  errorFormat: 1 | 2;
  prettyPrint: boolean;
  /** The `fields` selector, or undefined for the whole response. */
  fields: string | undefined;
  apiKey: string | undefined;
  accessToken: string | undefined;
}

const IGNORED = new Set(['quotaUser', 'upload_protocol', 'uploadType']);
// Names without their optional `$` (so `$.xgafv` is `.xgafv`).
const SYSTEM = new Set([
  '.xgafv',
  'alt',
  'prettyPrint',
  'fields',
  'key',
  'access_token',
  'oauth_token',
  'callback',
  ...IGNORED,
]);

export interface ParsedQuery {
  system: SystemParams;
  /** The method's own parameters, each given once. */
  params: Map<string, string>;
}

const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/** Splits a raw query string into system parameters and the method's parameters. */
export function parseQuery(raw: string, fieldMaskHeader: string | undefined): ParsedQuery {
  const system = new Map<string, string>();
  const params = new Map<string, string>();
  if (raw !== '') {
    if (BAD_PERCENT.test(raw)) {
      throw new ApiError('INVALID_ARGUMENT', 'The query string has a malformed percent-encoding');
    }
    for (const [rawName, value] of new URLSearchParams(raw)) {
      const name = rawName.startsWith('$') ? rawName.slice(1) : rawName;
      if (SYSTEM.has(name)) {
        system.set(name, value);
      } else {
        if (params.has(rawName)) throw invalidField(rawName, 'is given more than once');
        params.set(rawName, value);
      }
    }
  }
  if (system.has('callback')) {
    throw new ApiError(
      'JSONP_NOT_SUPPORTED',
      'JSONP (the callback parameter) is not supported: it leaks responses across sites',
      {
        fieldViolations: [{ field: 'callback', description: 'JSONP is not supported' }],
      },
    );
  }
  const alt = system.get('alt');
  if (alt !== undefined && alt !== 'json' && alt !== 'json;enum-encoding=int') {
    throw new ApiError('INVALID_SYSTEM_PARAMETER', `Invalid alt "${alt}": longrun serves only JSON`, {
      metadata: { parameter: 'alt', value: alt },
      fieldViolations: [{ field: 'alt', description: 'must be json or json;enum-encoding=int' }],
    });
  }
  return {
    system: {
      errorFormat: errorFormat(system.get('.xgafv')),
      prettyPrint: prettyPrint(system.get('prettyPrint')),
      fields: system.get('fields') ?? fieldMaskHeader,
      apiKey: system.get('key'),
      accessToken: system.get('access_token') ?? system.get('oauth_token'),
    },
    params,
  };
}

/** Reads `$.xgafv` alone, for rendering an error found before the rest of the query was read. */
export function errorFormatOf(raw: string): 1 | 2 {
  try {
    const params = new URLSearchParams(raw);
    return errorFormat(params.get('$.xgafv') ?? undefined);
  } catch {
    return 2;
  }
}

function errorFormat(value: string | undefined): 1 | 2 {
  if (value === undefined || value === '2') return 2;
  if (value === '1') return 1;
  throw new ApiError('INVALID_SYSTEM_PARAMETER', `Invalid $.xgafv "${value}": the error format is 1 or 2`, {
    metadata: { parameter: '$.xgafv', value },
    fieldViolations: [{ field: '$.xgafv', description: 'must be 1 or 2' }],
  });
}

function prettyPrint(value: string | undefined): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ApiError('INVALID_SYSTEM_PARAMETER', `Invalid prettyPrint "${value}": use true or false`, {
    metadata: { parameter: 'prettyPrint', value },
    fieldViolations: [{ field: 'prettyPrint', description: 'must be true or false' }],
  });
}
