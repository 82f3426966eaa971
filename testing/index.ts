/**
 * `vmplumb/testing`: what vmplumb's own tests, the demo and the benchmarks share, shipped so
 * that `npx vmplumb demo` works from the npm tarball and so that users can build the same tiny
 * guest for their own tests. Not the product: nothing in `vmplumb` (the root export) depends
 * on it, and its API may change in any minor release.
 *
 * - the tiny test guest: a Debian kernel and a busybox initramfs that reports its SLAAC
 *   address on the serial console (`ensureGuest`, `waitForGuestConsole`);
 * - the link-churn benchmark (`runChurn`, `formatChurnReport`);
 * - the demo (`runDemo`): the reference scenario in throwaway namespaces.
 */
export * from './guest/index.js';
export * from './bench/index.js';
export { runDemo } from './demo/demo.js';
