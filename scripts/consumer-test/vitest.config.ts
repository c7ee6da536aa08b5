import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One project is packed and installed once (beforeAll) and every test reads it, in order.
    fileParallelism: false,
    hookTimeout: 240_000,
    testTimeout: 120_000,
  },
});
