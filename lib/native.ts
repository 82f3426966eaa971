/**
 * The one place the addon is loaded, and the typed declaration of its whole surface. No other
 * file touches the addon untyped. node-gyp-build finds prebuilds/<platform>-<arch>/ (shipped in
 * the npm tarball) or build/Release/ (built by `npm install` from source).
 *
 * The native layer is thin: sockets, ioctls, setns, the netlink wire format. Policy, defaults
 * and validation live in TypeScript; by the time a call gets here its arguments are valid.
 *
 * Each section below belongs to one native file; keep it in step with that file.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A namespace as the addon takes it: undefined (current), a path, or an open fd. */
export type NativeNetns = string | number | undefined;

// ── errors.cc ────────────────────────────────────────────────────────────────────────────
/** Error helpers. */
export interface ErrorsBinding {
  /** The libuv name of a positive errno value: 17 → 'EEXIST'. */
  errnoName(errno: number): string;
}

// ── netlink_socket.cc + rtnl codec ──────────────────────────────────────────────────────
/** Owned by the netlink change; declared there. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface NetlinkBinding {}

// ── tun.cc ───────────────────────────────────────────────────────────────────────────────
/** Owned by the tap change; declared there. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TunBinding {}

// ── scm.cc ───────────────────────────────────────────────────────────────────────────────
/** Owned by the qemu change; declared there. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ScmBinding {}

// ── icmp6.cc ─────────────────────────────────────────────────────────────────────────────
/** Owned by the router-advertisement change; declared there. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Icmp6Binding {}

/** The whole native surface. */
export type NativeAddon = ErrorsBinding & NetlinkBinding & TunBinding & ScmBinding & Icmp6Binding;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;

/** The loaded addon. */
export const native = nodeGypBuild(root) as NativeAddon;
