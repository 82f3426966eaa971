/**
 * The seam unit tests use to run VxlanNetwork against fakes of the other modules, kept out of
 * the public signatures: this file is not exported from the package. A test wraps one call,
 *
 *     const net = await withInternals({ deps: fakes }, () => VxlanNetwork.create(options));
 *
 * and the call takes the internals synchronously, as its first statement, before it awaits
 * anything; so concurrent calls each get their own, and calls made outside a wrapper get the
 * real modules.
 */
import type { AdvertiserRegistry } from './advertisers.js';
import type { NetworkDeps } from './deps.js';
import type { SharedNetlinks } from './shared-netlink.js';

/** What tests replace: the other modules, the shared advertisers, the shared connections. */
export interface NetworkInternals {
  /** The other modules (Netlink, taps, qemu, the advertiser, the run directory). */
  deps?: NetworkDeps;
  /** The shared advertisers (one per namespace). */
  registry?: AdvertiserRegistry;
  /** The shared rtnetlink connections (one per namespace). */
  netlinks?: SharedNetlinks;
}

const NONE: NetworkInternals = Object.freeze({});
let next: NetworkInternals | undefined;

/** Runs `call`, a VxlanNetwork entry point, with `internals` in place of the real modules. */
export function withInternals<T>(internals: NetworkInternals, call: () => T): T {
  next = internals;
  try {
    return call();
  } finally {
    next = undefined;
  }
}

/** The internals of the entry point being called (empty outside withInternals); taken once. */
export function takeInternals(): NetworkInternals {
  const internals = next ?? NONE;
  next = undefined;
  return internals;
}
