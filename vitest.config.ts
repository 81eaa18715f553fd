import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/**/*.test.ts',
      'agent/**/*.test.ts',
      'collector/**/*.test.ts',
      'shared/**/*.test.ts',
      'dashboards/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites start real daemons; two cores do not like many at once.
    maxWorkers: 2,
    allowOnly: false,
    reporters: ['default'],
  },
});
