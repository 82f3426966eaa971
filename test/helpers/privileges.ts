/**
 * Privileged tests need root (CAP_NET_ADMIN, /dev/net/tun). Outside CI they are skipped when
 * not root; with CI=true a skip would hide everything, so it is a failure instead.
 */
import { existsSync } from 'node:fs';

/** True when this process may create namespaces, links and taps. */
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** True when running under CI (CI=true), where privileged tests must not be skipped. */
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Whether privileged tests should be skipped. Throws under CI when they would be, so the run
 * fails loudly instead of reporting a green suite that tested nothing.
 */
export function skipUnlessRoot(what = 'privileged tests', needs: string[] = []): boolean {
  const missing = needs.filter((p) => !existsSync(p));
  const reason = !isRoot ? 'not root' : missing.length > 0 ? `missing ${missing.join(', ')}` : '';
  if (!reason) return false;
  if (inCI) throw new Error(`${what} cannot run under CI: ${reason}`);
  return true;
}
