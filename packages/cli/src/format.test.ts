import { describe, expect, it } from 'vitest';
import { progressPercent, progressText, stateOf, statusText, table } from './format.js';

const TYPE = 'type.googleapis.com/demo.Metadata';

describe('progressPercent', () => {
  it.each([
    ['progressPercent', { progressPercent: 12 }, 12],
    ['progress_percent', { progress_percent: 13 }, 13],
    ['percentComplete', { percentComplete: 14 }, 14],
    ['percent_complete', { percent_complete: 15 }, 15],
    ['percent', { percent: 16 }, 16],
    ['a numeric progress', { progress: 17 }, 17],
    ["Spanner's progress.progressPercent", { progress: { progressPercent: 18, startTime: 'x' } }, 18],
    ["the worker SDK's google.protobuf.Value", { value: { percent: 19 } }, 19],
    ['a progress object inside value', { value: { progress: { percent: 20 } } }, 20],
    ['the first key in order', { percent: 99, progressPercent: 21 }, 21],
    ['a figure above 100, capped', { percent: 250 }, 100],
    ['a negative figure, raised to 0', { percent: -5 }, 0],
  ])('finds %s', (_where, fields, expected) => {
    expect(progressPercent({ '@type': TYPE, ...fields })).toBe(expected);
  });

  it.each([
    ['no metadata', undefined],
    ['no figure', { '@type': TYPE, done: 3 }],
    ['a string', { '@type': TYPE, percent: '50' }],
    ['a non-finite number', { '@type': TYPE, percent: Number.NaN }],
    ['a bare Value', { '@type': TYPE, value: 50 }],
  ])('finds nothing in %s', (_what, metadata) => {
    expect(progressPercent(metadata)).toBeUndefined();
  });
});

describe('progressText', () => {
  it('shows the figure of a running operation only', () => {
    const metadata = { '@type': TYPE, percent: 33.333 };
    expect(progressText({ metadata })).toBe('33.3%');
    expect(progressText({ metadata, done: true })).toBe('');
    expect(progressText({})).toBe('');
  });
});

describe('stateOf and statusText', () => {
  it('tells how an operation ended', () => {
    expect(stateOf({})).toBe('RUNNING');
    expect(stateOf({ done: true })).toBe('SUCCEEDED');
    expect(stateOf({ done: true, error: { code: 1 } })).toBe('CANCELLED');
    expect(stateOf({ done: true, error: { code: 13, message: 'boom' } })).toBe('FAILED');
    expect(statusText({ code: 13, message: 'boom' })).toBe('INTERNAL: boom');
    expect(statusText({ code: 1 })).toBe('CANCELLED');
    expect(statusText({ code: 42, message: 'odd' })).toBe('code 42: odd');
  });
});

describe('table', () => {
  it('aligns columns two spaces apart, without trailing spaces', () => {
    expect(
      table([
        ['NAME', 'STATE'],
        ['operations/a', ''],
        ['b', 'DONE'],
      ]),
    ).toBe('NAME          STATE\noperations/a\nb             DONE');
  });
});
