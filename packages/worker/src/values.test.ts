import { ApiError, Code } from '@longrun/client';
import { describe, expect, it } from 'vitest';
import { toAny, toStatus } from './values.js';

describe('toAny', () => {
  it('keeps an Any, makes undefined Empty, and wraps other JSON as a Value', () => {
    const any = { '@type': 'type.googleapis.com/demo.Report', rows: 3 };
    expect(toAny(any)).toBe(any);
    expect(toAny(undefined)).toEqual({ '@type': 'type.googleapis.com/google.protobuf.Empty' });
    expect(toAny({ rows: 3, at: new Date(0) })).toEqual({
      '@type': 'type.googleapis.com/google.protobuf.Value',
      value: { rows: 3, at: '1970-01-01T00:00:00.000Z' },
    });
    expect(toAny(null)).toEqual({ '@type': 'type.googleapis.com/google.protobuf.Value', value: null });
    expect(toAny('text')).toEqual({ '@type': 'type.googleapis.com/google.protobuf.Value', value: 'text' });
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => toAny(() => 1)).toThrow(TypeError);
  });
});

describe('toStatus', () => {
  it('keeps the code, message and details of an ApiError or another status-like error', () => {
    const detail = { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'R', domain: 'd' };
    const apiError = new ApiError({ code: Code.NOT_FOUND, message: 'gone', details: [detail] });
    expect(toStatus(apiError)).toEqual({ code: Code.NOT_FOUND, message: 'gone', details: [detail] });
    // A gRPC ServiceError: its `details` is a string, not a list.
    const grpcError = Object.assign(new Error('7 PERMISSION_DENIED: no'), { code: 7, details: 'no' });
    expect(toStatus(grpcError)).toEqual({ code: Code.PERMISSION_DENIED, message: '7 PERMISSION_DENIED: no' });
  });

  it('makes anything else UNKNOWN with its message', () => {
    expect(toStatus(new Error('boom'))).toEqual({ code: Code.UNKNOWN, message: 'boom' });
    expect(toStatus(Object.assign(new Error('no file'), { code: 'ENOENT' }))).toEqual({
      code: Code.UNKNOWN,
      message: 'no file',
    });
    expect(toStatus({ code: 0, message: 'ok?' })).toEqual({ code: Code.UNKNOWN, message: 'ok?' });
    expect(toStatus('plain')).toEqual({ code: Code.UNKNOWN, message: 'plain' });
    expect(toStatus(new DOMException('missing', 'NotFoundError'))).toEqual({ code: Code.UNKNOWN, message: 'missing' });
  });
});
