import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // e2e suites start real Envoy processes; keep the 2-core machine from thrashing.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
