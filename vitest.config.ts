import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    // expect.poll waits for something to happen (a live update, a delivery); on a loaded two-core
    // machine one second is not always enough. A wait, not a timing assertion.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 60_000,
    // The suites start real servers and processes; two workers suit the two-core machines.
    pool: 'forks',
    maxWorkers: 2,
  },
});
