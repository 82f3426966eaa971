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

import type { NetlinkErrorDetails } from './errors.js';
import { packageRoot } from './package-root.js';

/** A namespace as the addon takes it: undefined (current), a path, or an open fd. */
export type NativeNetns = string | number | undefined;

// ── netlink_socket.cc + rtnl codec (rtnlEncode, rtnlDecode, rtnlAttributeAt: test_exports.cc) ──
/**
 * A parsed rtnetlink message: the family header's fields and the attributes, named as in
 * native/rtnl_*.cc (`msgType` is the nlmsg_type, RTM_NEWLINK etc.). Plain data, untyped here:
 * lib/netlink/parse.ts gives it shape.
 */
export type NativeRtnlMessage = Record<string, unknown> & { msgType: number };

/**
 * What a failed request is rejected with: the fields of a NetlinkError (lib/netlink turns it
 * into one), plus what only the addon knows.
 */
export interface NativeNetlinkFailure extends NetlinkErrorDetails {
  /** strerror(3) text: 'File exists'. */
  description: string;
  /** Set when the socket was closed with the request outstanding. */
  closed?: boolean;
}

/** A NETLINK_ROUTE socket (native/netlink_socket.cc). */
export interface NativeNetlinkSocket {
  /**
   * Queues a request (NLM_F_REQUEST, and NLM_F_ACK unless a dump, are added) and returns its
   * promise: the messages the kernel answered with (GET, dumps) or undefined (plain ack).
   * Rejects with a NativeNetlinkFailure. Nothing is sent before flush(). A dump with
   * `onChunk` hands its messages to it as they are read (once per readiness callback, the
   * rest just before it settles) and resolves with an empty array (`interrupted` as usual).
   */
  request(type: number, flags: number, params: object, onChunk?: (messages: NativeRtnlMessage[]) => void): Promise<NativeRtnlMessage[] | undefined>;
  /** Sends the queued requests; `async`: from the libuv pool (the kernel works in sendmsg). */
  flush(async: boolean): void;
  /** SIOCGIFINDEX in the socket's namespace; 0 when there is no such link. */
  ifIndex(name: string): number;
  /** Closes the socket (idempotent); outstanding requests reject with `closed: true`. */
  close(): void;
  /**
   * Rejects the requests still queued (not yet handed to sendmsg) with ECANCELED and
   * `closed: true`, and drops them; requests already sent keep waiting for their answer.
   */
  cancelUnsent(): void;
  /** Requests waiting for their answer. */
  readonly pending: number;
  /** The descriptor (-1 once closed). */
  readonly fd: number;
  /** The socket's netlink port id (nl_pid). */
  readonly portId: number;
}

/** The native netlink surface. */
export interface NetlinkBinding {
  /**
   * Opens a socket in `netns`, joined to the RTNLGRP_* `groups`; `onEvent` receives
   * notifications in batches, or (null, failure) when the receive queue overflowed (ENOBUFS).
   */
  NetlinkSocket: new (
    netns: NativeNetns,
    groups: number[],
    onEvent?: (messages: NativeRtnlMessage[] | null, failure?: NativeNetlinkFailure) => void,
    /** Bytes of kernel receive queue (SO_RCVBUF(FORCE)); 32 MiB by default. */
    receiveBuffer?: number,
    /**
     * Link messages (notifications and dump replies) carry only `family`, `index`, `flags`,
     * `type`, `name`, `mtu` and `mac`: for a subscriber that keeps no more of thousands of links.
     */
    briefLinks?: boolean,
  ) => NativeNetlinkSocket;
  /** Encodes one request as the socket would send it (for codec tests). */
  rtnlEncode(type: number, flags: number, seq: number, params: object): Buffer;
  /** Parses every message in a buffer. */
  rtnlDecode(buffer: Buffer): Array<NativeRtnlMessage | undefined>;
  /** The C name path of the attribute at `offset` of a request ('IFLA_LINKINFO/IFLA_INFO_DATA/IFLA_VXLAN_TTL'). */
  rtnlAttributeAt(buffer: Buffer, offset: number): string;
}

// ── tun.cc ───────────────────────────────────────────────────────────────────────────────
/** TUNSETIFF flags from include/uapi/linux/if_tun.h, as the addon was compiled with them. */
export interface TunConstants {
  IFF_TAP: number;
  IFF_NO_PI: number;
  IFF_VNET_HDR: number;
  IFF_MULTI_QUEUE: number;
  IFF_TUN_EXCL: number;
}

/** What `tunOpen` does: open /dev/net/tun `queues` times (O_CLOEXEC) and TUNSETIFF each fd. */
export interface TunOpenRequest {
  /** '' lets the kernel pick (tap%d); a pattern with %d is completed by the kernel. */
  name: string;
  /** TUNSETIFF flags of the first queue (later queues attach without IFF_TUN_EXCL). */
  flags: number;
  queues: number;
  persist: boolean;
  /** TUNSETOWNER uid, or -1 to leave it untouched. */
  owner: number;
  /** TUNSETGROUP gid, or -1 to leave it untouched. */
  group: number;
  netns: NativeNetns;
}

/** The tap as the kernel made it. */
export interface TunOpenResult {
  name: string;
  index: number;
  fds: number[];
}

/** tun.cc: tap devices. Errors are SystemErrors with `syscall` 'open' | 'TUNSETIFF' | … */
export interface TunBinding {
  tunConstants: TunConstants;
  tunOpen(request: TunOpenRequest): TunOpenResult;
  /** TUNSETPERSIST on one of the tap's fds. */
  tunSetPersist(fd: number, on: boolean): void;
}

// ── scm.cc ───────────────────────────────────────────────────────────────────────────────
/** scm.cc: unix stream socket pairs and fd passing (SCM_RIGHTS). */
export interface ScmBinding {
  /** A connected AF_UNIX SOCK_STREAM pair, both SOCK_CLOEXEC. */
  socketPair(): [number, number];
  /** One non-blocking sendmsg of `data` with `fds` attached (SCM_RIGHTS); returns bytes sent. */
  sendWithFds(socketFd: number, data: Buffer, fds: number[]): number;
}

// ── icmp6.cc ─────────────────────────────────────────────────────────────────────────────
/**
 * Called for every ICMPv6 datagram the socket receives (only router solicitations pass its
 * ICMP6_FILTER): the interface it arrived on, source and destination addresses (16 bytes
 * each), the IPv6 hop limit (-1 if the kernel gave none), the ICMPv6 message, and whether it
 * was longer than the receive buffer.
 */
export type Icmp6PacketCallback = (ifindex: number, source: Buffer, destination: Buffer, hopLimit: number, data: Buffer, truncated: boolean) => void;

/** A raw ICMPv6 socket in one namespace (hop limits 255, loop off, RS-only filter, pktinfo), plus a send-only packet socket. */
export interface NativeIcmp6Socket {
  /** sendmsg with IPV6_PKTINFO (ifindex, source); the kernel fills the checksum. 0 or a positive errno. */
  send(ifindex: number, source: Buffer, destination: Buffer, data: Buffer): number;
  /**
   * Whole IPv6 packets (header and checksummed ICMPv6) to link-layer address `mac` (6 bytes),
   * `packets[i]` on interface `indexes[i]` for i < count, through the send-only AF_PACKET
   * socket (no route lookup), with sendmmsg. Sets `errnos[i]` to 0 or a positive errno;
   * returns how many failed.
   */
  sendFrames(indexes: Int32Array, packets: Buffer[], count: number, mac: Buffer, errnos: Int32Array): number;
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

// ── ipv6_membership.cc ───────────────────────────────────────────────────────────────────
/**
 * An unbound UDP socket in one namespace that only holds IPv6 multicast memberships (it
 * receives and sends nothing), so they are charged to its option memory (net.core.optmem_max)
 * and not to a socket that sends.
 */
export interface NativeIpv6MembershipSocket {
  /**
   * IPV6_DROP_MEMBERSHIP of `group` (16 bytes) on each of `leaves`, then IPV6_ADD_MEMBERSHIP
   * on each of `joins` (ifindexes), on the libuv thread pool (each takes RTNL). Resolves with
   * one errno (0 or positive) per change, the leaves' first; EBADF for each once closed.
   */
  change(leaves: Int32Array, joins: Int32Array, group: Buffer): Promise<Int32Array>;
  /** Closes the socket on the thread pool (the kernel leaves its groups then); idempotent. */
  close(): Promise<void>;
}

/** The membership-only sockets used by lib/ra/. */
export interface Ipv6MembershipBinding {
  /** Opens the socket inside `netns` (throws a SystemError-shaped Error). */
  Ipv6MembershipSocket: new (netns: NativeNetns) => NativeIpv6MembershipSocket;
}

// ── pidfd.cc ─────────────────────────────────────────────────────────────────────────────
/** A pidfd (pidfd_open(2)): signals reach exactly that process; readable once it exited. */
export interface NativePidFd {
  /** pidfd_send_signal(2): 0 or a positive errno (ESRCH once the process exited). */
  sendSignal(signo: number): number;
  /** Whether the watch keeps the event loop alive (it does by default). */
  ref(): void;
  /** See ref(). */
  unref(): void;
  /** Stops watching and closes the fd (idempotent). */
  close(): void;
}

/** pidfd.cc: process identity and exit of processes that are not our children. */
export interface PidfdBinding {
  /** Opens a pidfd for `pid` (ESRCH SystemError if gone); `onExit(0)` once it exits (or a positive errno if polling failed). */
  PidFd: new (pid: number, onExit: (errno: number) => void) => NativePidFd;
}

// ── runfiles.cc ──────────────────────────────────────────────────────────────────────────
/** One op of {@link RunFilesBinding.fileOps}. */
export type FileOp =
  | [kind: 'write', path: string, text: string, mode: number]
  | [kind: 'rename', from: string, to: string]
  | [kind: 'unlink' | 'fsyncDir' | 'rmdir' | 'lock' | 'read', path: string];

/** runfiles.cc: lock files and listening unix sockets of the run directory. */
export interface RunFilesBinding {
  /** open(O_CREAT|O_CLOEXEC) + flock(LOCK_EX|LOCK_NB): the fd (close it to unlock), or -1 when held elsewhere. */
  lockFile(path: string): number;
  /** flock(LOCK_EX|LOCK_NB) on an fd the caller opened: true when taken, false when held elsewhere. */
  lockFd(fd: number): boolean;
  /** A bound, listening AF_UNIX SOCK_STREAM socket (SOCK_CLOEXEC); the fd. */
  unixListen(path: string, backlog: number): number;
  /** A connected, non-blocking AF_UNIX SOCK_STREAM socket (SOCK_CLOEXEC); the fd. */
  unixConnect(path: string): number;
  /**
   * File system calls of the run directory made one after the other in one thread-pool job
   * (see runfiles.cc for each op); each op's outcome is null (a lock's: its fd, or -1 when
   * held elsewhere; a read's: the file's text) or [positive errno, failed call].
   */
  fileOps(ops: FileOp[]): Promise<(number | string | [number, string] | null)[]>;
}

// ── nfnl_socket.cc + nfnl_codec.cc (nfnlEncode, nfnlDecode: test_exports.cc) ─────────────────
/** One nf_tables expression as the codec takes it: `kind` plus that expression's fields. */
export type NativeNftExpression =
  | { kind: 'meta'; key: number; dreg: number }
  | { kind: 'payload'; base: number; offset: number; len: number; dreg: number }
  | { kind: 'cmp'; sreg: number; op: number; data: Buffer }
  | { kind: 'bitwise'; sreg: number; dreg: number; mask: Buffer; xor: Buffer }
  | { kind: 'exthdr'; type: number; offset: number; len: number; dreg: number; flags?: number; op?: number }
  | { kind: 'counter' }
  | { kind: 'limit'; rate: number; unit: number; burst: number; type: number; flags: number }
  | { kind: 'lookup'; set: string; sreg: number; setId?: number; flags?: number }
  | { kind: 'immediate'; verdict: number; chain?: string };

/** One NFT_MSG_* request (native/nfnl_codec.h lists which fields each type reads). */
export interface NativeNftMessage {
  /** NFT_MSG_* (without the subsystem byte). */
  type: number;
  /** NLM_F_* besides NLM_F_REQUEST (NLM_F_CREATE, NLM_F_EXCL, NLM_F_DUMP, NLM_F_NONREC, …). */
  flags?: number;
  /** NFPROTO_* (NFPROTO_NETDEV = 5, NFPROTO_BRIDGE = 7). */
  family: number;
  name?: string;
  table?: string;
  chain?: string;
  handle?: number | bigint;
  hook?: { num: number; priority: number; device?: string };
  policy?: number;
  chainType?: string;
  tableFlags?: number;
  userdata?: Buffer;
  expressions?: NativeNftExpression[];
  setFlags?: number;
  keyType?: number;
  keyLen?: number;
  id?: number;
  elements?: Array<{ key: Buffer; flags?: number }>;
}

/** A decoded NFT_MSG_NEW* answer; `expressions` decode counters and verdicts only. */
export interface NativeNftObject {
  msgType: number;
  family: number;
  name?: string;
  table?: string;
  chain?: string;
  handle?: number;
  use?: number;
  policy?: number;
  userdata?: Buffer;
  hook?: { num?: number; priority?: number; device?: string };
  expressions?: Array<{ kind: string; packets?: number; bytes?: number; verdict?: number; chain?: string }>;
}

/** What a failed transaction rejects with (lib/guard turns it into a NetlinkError). */
export interface NativeNfnlFailure extends NativeNetlinkFailure {
  /** The failing message's index in the array given, or -1 (the batch as a whole). */
  index: number;
}

/** nfnetlink: nf_tables transactions (native/nfnl_socket.cc). */
export interface NfnlBinding {
  /**
   * `batch`: the messages in one NFNL_MSG_BATCH_BEGIN/END, applied atomically, resolving [] on
   * success; otherwise exactly one request (a dump), resolving its objects. Opens a socket
   * in `netns` for the call. `links` must exist there first (else ENODEV, nothing sent).
   * Rejects with a NativeNfnlFailure.
   */
  nfnlTransact(netns: NativeNetns, messages: NativeNftMessage[], batch: boolean, links?: string[]): Promise<NativeNftObject[]>;
  /** The bytes nfnlTransact would send (codec tests). */
  nfnlEncode(messages: NativeNftMessage[], batch: boolean): Buffer;
  /** Parses nf_tables messages (codec tests). */
  nfnlDecode(buffer: Buffer): Array<NativeNftObject | undefined>;
}

/** The whole native surface. */
export type NativeAddon = NetlinkBinding & TunBinding & ScmBinding & Icmp6Binding & Ipv6MembershipBinding & PidfdBinding & RunFilesBinding & NfnlBinding;

const root = packageRoot(import.meta.url);
const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;

/** The loaded addon. */
export const native = nodeGypBuild(root) as NativeAddon;
