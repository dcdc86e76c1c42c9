import { defineConfig } from 'vitest/config';

/**
 * One limit per test, generous enough for a 2-core machine with both cores busy (the heaviest
 * file, a tiny CNN run through the CLI, takes about 30 s idle); TEST_TIMEOUT_SCALE multiplies it
 * for a slower machine, as it does the browser tests' waits (tests/e2e/harness.mjs). A limit only
 * turns a hang into a failure, so it never needs to be tight.
 */
const scale = Math.max(1, Number(process.env.TEST_TIMEOUT_SCALE) || 1);

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 600_000 * scale,
    hookTimeout: 600_000 * scale,
    // Two cores: numeric tests are CPU-bound, so run files one at a time to keep them honest.
    fileParallelism: false,
  },
});
