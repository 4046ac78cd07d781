import type { Any } from '@longrun/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressReporter } from './progress-reporter.js';

const step = (n: number): Any => ({ '@type': 'type.googleapis.com/test.Step', n });

/** A send whose calls stay pending until the test settles them. */
function controlledSend() {
  const calls: { metadata: Any; resolve: () => void; reject: (error: Error) => void }[] = [];
  const send = (metadata: Any) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ metadata, resolve, reject });
    });
  return { calls, send, sent: () => calls.map((call) => call.metadata.n) };
}

describe('ProgressReporter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first report at once, then the latest once per interval', async () => {
    const { calls, send, sent } = controlledSend();
    const reporter = new ProgressReporter(send, 1000);
    reporter.report(step(1));
    reporter.report(step(2));
    reporter.report(step(3));
    expect(sent()).toEqual([1]);
    calls[0]!.resolve();
    await vi.advanceTimersByTimeAsync(999);
    expect(sent()).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent()).toEqual([1, 3]);
  });

  it('keeps at most one patch in flight, however long it takes', async () => {
    const { calls, send, sent } = controlledSend();
    const reporter = new ProgressReporter(send, 100);
    reporter.report(step(1));
    await vi.advanceTimersByTimeAsync(150);
    reporter.report(step(2));
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent()).toEqual([1]);
    calls[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent()).toEqual([1, 2]);
  });

  it('sends failed metadata again, unless newer has come', async () => {
    const { calls, send, sent } = controlledSend();
    const reporter = new ProgressReporter(send, 100);
    reporter.report(step(1));
    calls[0]!.reject(new Error('down'));
    await vi.advanceTimersByTimeAsync(100);
    expect(sent()).toEqual([1, 1]);
    reporter.report(step(2));
    calls[1]!.reject(new Error('down'));
    await vi.advanceTimersByTimeAsync(100);
    expect(sent()).toEqual([1, 1, 2]);
  });

  it('stops: waits for the patch in flight and hands back what is unrecorded', async () => {
    const { calls, send, sent } = controlledSend();
    const reporter = new ProgressReporter(send, 1000);
    reporter.report(step(1));
    reporter.report(step(2));
    const stopped = reporter.stop();
    calls[0]!.resolve();
    expect(await stopped).toEqual(step(2));
    reporter.report(step(3));
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent()).toEqual([1]);
  });
});
