import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Type tests (`*.test-d.ts`): a wrong event type or payload must fail to compile.
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 15_000,
  },
});
