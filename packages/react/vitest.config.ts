import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Hooks render in a DOM; the server they talk to runs in the same Node process.
    environment: 'happy-dom',
    typecheck: { enabled: true, include: ['src/**/*.test-d.tsx'], tsconfig: './tsconfig.json' },
    testTimeout: 15_000,
  },
});
