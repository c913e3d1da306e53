import { defineConfig } from 'vitest/config';

// One runner for the tree: unit tests live beside the code, end-to-end tests under test/.
// End-to-end tests start real processes, so they run in forks with generous timeouts;
// nothing here asserts on wall-clock speed.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
