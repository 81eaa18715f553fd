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
    // Hooks start real daemons: on a loaded 2-core machine a collector took 20–40 s to be ready (idle: 2–6 s).
    hookTimeout: 120_000,
    // Integration suites start real daemons; two cores do not like many at once.
    maxWorkers: 2,
    allowOnly: false,
    reporters: ['default'],
  },
});
