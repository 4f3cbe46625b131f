import { defineConfig } from 'vitest/config';

// Each test file gets its own database (a fresh PostgreSQL database, or an in-memory PGlite),
// so files run in parallel; PGlite takes seconds to boot, hence generous timeouts.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
