import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The suites start real servers and processes; two workers suit the two-core machines.
    pool: 'forks',
    maxWorkers: 2,
  },
});
