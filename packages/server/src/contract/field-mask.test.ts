import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { updatedFields } from './field-mask.js';

describe('updatedFields (update_mask)', () => {
  it('takes the populated fields when the mask is omitted or empty', () => {
    expect(updatedFields(undefined, { metadata: '{}', done: true })).toEqual(['metadata', 'done']);
    expect(updatedFields('', { done: false, response: '{}' })).toEqual(['response']);
    expect(updatedFields(undefined, {})).toEqual([]);
  });

  it('reads listed paths, * and ignores the output-only name', () => {
    expect(updatedFields('done, response', {})).toEqual(['done', 'response']);
    expect(updatedFields('*', {})).toEqual(['metadata', 'done', 'error', 'response']);
    expect(updatedFields('name,metadata', {})).toEqual(['metadata']);
  });

  it.each(['state', 'metadata.progress', 'done,', 'Done'])('refuses %j', (mask) => {
    expect(() => updatedFields(mask, {})).toThrowError(ApiError);
  });
});
