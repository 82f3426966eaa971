import { defineConfig } from 'vitest/config';

// Integration and guest tests work on the kernel (namespaces, links, qemu): they run in
// separate processes (forks), at most two at a time on the 2-core machines we test on.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A temporary VMPLUMB_RUN_DIR per test file: tests never touch the host's /run/vmplumb.
    setupFiles: ['test/helpers/run-dir.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
