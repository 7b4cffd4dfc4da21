import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // e2e suites start real Envoy processes; keep the 2-core machine from thrashing.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: ['test/bench/**', 'test/e2e/compose-stack.test.ts'], sequence: { groupOrder: 0 } },
      },
      // The bench smoke test saturates both cores with ghz for seconds: run it after everything else, so it
      // never pushes an e2e Check past Envoy's 200 ms ext_authz timeout.
      { extends: true, test: { name: 'bench', include: ['test/bench/**/*.test.ts'], sequence: { groupOrder: 1 } } },
      // The compose stack on a Docker engine (image builds, three replicas, one stopped mid-run): last and alone,
      // so neither its load nor the others' skews the other's timings.
      { extends: true, test: { name: 'compose', include: ['test/e2e/compose-stack.test.ts'], sequence: { groupOrder: 2 } } },
    ],
  },
});
