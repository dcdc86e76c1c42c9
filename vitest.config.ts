import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: numeric tests are CPU-bound, so run files one at a time to keep them honest.
    fileParallelism: false,
  },
});
