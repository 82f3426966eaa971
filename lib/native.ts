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
/**
 * Called for every ICMPv6 datagram the socket receives (only router solicitations pass its
 * ICMP6_FILTER): the interface it arrived on, source and destination addresses (16 bytes
 * each), the IPv6 hop limit (-1 if the kernel gave none), the ICMPv6 message, and whether it
 * was longer than the receive buffer.
 */
export type Icmp6PacketCallback = (
  ifindex: number, source: Buffer, destination: Buffer, hopLimit: number, data: Buffer, truncated: boolean,
) => void;

/** A raw ICMPv6 socket in one namespace (hop limits 255, loop off, RS-only filter, pktinfo). */
export interface NativeIcmp6Socket {
  /** sendmsg with IPV6_PKTINFO (ifindex, source); the kernel fills the checksum. 0 or a positive errno. */
  send(ifindex: number, source: Buffer, destination: Buffer, data: Buffer): number;
  /** IPV6_ADD_MEMBERSHIP on `ifindex`. 0 or a positive errno. */
  join(ifindex: number, group: Buffer): number;
  /** IPV6_DROP_MEMBERSHIP on `ifindex`. 0 or a positive errno. */
  leave(ifindex: number, group: Buffer): number;
  /** Whether the open socket keeps the event loop alive (it does by default). */
  ref(): void;
  /** See ref(). */
  unref(): void;
  /** Stops polling and closes the fd (idempotent). */
  close(): void;
}

/** The raw ICMPv6 socket used by lib/ra/. */
export interface Icmp6Binding {
  /** Opens the socket inside `netns` (throws a SystemError-shaped Error). */
  Icmp6Socket: new (netns: NativeNetns, onPacket: Icmp6PacketCallback, onError: (error: Error) => void) => NativeIcmp6Socket;
}

/** The whole native surface. */
export type NativeAddon = ErrorsBinding & NetlinkBinding & TunBinding & ScmBinding & Icmp6Binding;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;

/** The loaded addon. */
export const native = nodeGypBuild(root) as NativeAddon;
