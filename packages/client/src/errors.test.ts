import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../server/src/server.js';
import { Code } from './code.js';
import { ApiError, errorFromResponse, isRetryable, parseRetryAfter } from './errors.js';

describe('error bodies from longrun', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, store: ':memory:', logLevel: 'silent' });
  });
  afterAll(() => server.close());

  async function errorFor(query: string): Promise<ApiError> {
    const response = await fetch(`${server.url}/v1/projects/p/operations/missing${query}`);
    return errorFromResponse(response.status, response.statusText, await response.text(), undefined);
  }

  it('reads the AIP-193 body ($.xgafv=2, the default)', async () => {
    const error = await errorFor('');
    expect(error).toMatchObject({ code: Code.NOT_FOUND, status: 'NOT_FOUND', httpStatus: 404 });
    expect(error.message).toBe('Operation "projects/p/operations/missing" not found');
    expect(error.errorInfo).toEqual({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'OPERATION_NOT_FOUND',
      domain: 'longrun',
      metadata: { name: 'projects/p/operations/missing' },
    });
    expect(error.errors).toBeUndefined();
  });

  it('reads the $.xgafv=1 body and its legacy errors array', async () => {
    const error = await errorFor('?$.xgafv=1');
    expect(error).toMatchObject({ code: Code.NOT_FOUND, reason: 'OPERATION_NOT_FOUND', domain: 'longrun' });
    expect(error.errors).toEqual([{ message: error.message, domain: 'global', reason: 'notFound' }]);
  });
});

describe('errorFromResponse', () => {
  it('prefers the status name to the HTTP status, as gax does', () => {
    const body = JSON.stringify({ error: { code: 400, message: 'done', status: 'FAILED_PRECONDITION' } });
    expect(errorFromResponse(400, 'Bad Request', body, undefined).code).toBe(Code.FAILED_PRECONDITION);
  });

  it('maps the HTTP status when there is no status name (the legacy format alone)', () => {
    const body = JSON.stringify({
      error: { errors: [{ domain: 'global', reason: 'conflict', message: 'busy' }], code: 409, message: 'busy' },
    });
    const error = errorFromResponse(409, 'Conflict', body, undefined);
    expect(error).toMatchObject({ code: Code.ABORTED, message: 'busy', httpStatus: 409 });
    expect(error.errors).toEqual([{ domain: 'global', reason: 'conflict', message: 'busy' }]);
  });

  it('reads a body wrapped in an array, and ignores an unknown status name', () => {
    const body = JSON.stringify([{ error: { message: 'slow down', status: 'NOT_A_CODE' } }]);
    expect(errorFromResponse(429, '', body, 2000)).toMatchObject({
      code: Code.RESOURCE_EXHAUSTED,
      message: 'slow down',
      retryAfterMs: 2000,
    });
  });

  it('survives a body that is not JSON, keeping the start of it in the message', () => {
    const html = '<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>';
    const error = errorFromResponse(502, 'Bad Gateway', html, undefined);
    expect(error).toMatchObject({ code: Code.INTERNAL, httpStatus: 502, details: [] });
    expect(error.message).toBe(
      'HTTP 502 Bad Gateway: <html> <head><title>502 Bad Gateway</title></head> <body>nginx</body></html>',
    );
    expect(errorFromResponse(503, '', '', undefined).message).toBe('HTTP 503');
    expect(errorFromResponse(418, '', '{"message":"teapot"}', undefined).code).toBe(Code.FAILED_PRECONDITION);
  });

  it('keeps only details that are Any messages', () => {
    const body = JSON.stringify({ error: { status: 'INTERNAL', details: ['text', { '@type': 't/x.Y' }, { a: 1 }] } });
    expect(errorFromResponse(500, '', body, undefined).details).toEqual([{ '@type': 't/x.Y' }]);
  });
});

describe('ApiError', () => {
  it('round-trips a google.rpc.Status', () => {
    const status = { code: Code.ABORTED, message: 'raced', details: [{ '@type': 't/x.Y', a: 1 }] };
    expect(ApiError.fromStatus(status).toStatus()).toEqual(status);
    expect(ApiError.fromStatus({ code: 99 })).toMatchObject({ code: Code.UNKNOWN, status: 'UNKNOWN' });
  });

  it('is retryable only for UNAVAILABLE and RESOURCE_EXHAUSTED', () => {
    expect(isRetryable(new ApiError({ code: Code.UNAVAILABLE, message: '' }))).toBe(true);
    expect(isRetryable(new ApiError({ code: Code.RESOURCE_EXHAUSTED, message: '' }))).toBe(true);
    expect(isRetryable(new ApiError({ code: Code.INTERNAL, message: '' }))).toBe(false);
    expect(isRetryable(new Error('x'))).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2030, 0, 1);
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(new Date(now + 7000).toUTCString(), now)).toBe(7000);
    expect(parseRetryAfter(new Date(now - 7000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
