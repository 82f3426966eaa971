/**
 * What VxlanNetwork uses of the other modules, as narrow interfaces: the orchestration (order,
 * rollback, teardown) is then testable with fakes, and ./system.ts binds the real Netlink,
 * openTap, Qemu and RouterAdvertiser.
 */
import type {
  AddAddressOptions,
  Address,
  CreateBridgeOptions,
  CreateVxlanOptions,
  FdbEntryOptions,
  Link,
  LinkRef,
  ListLinksOptions,
  RenameLinkOptions,
  SetLinkOptions,
} from '../netlink/types.js';
import type { GuardCounter } from '../guard/secure-port.js';
import type { NetnsOption } from '../netns.js';
import type { Accel } from '../qemu/accel.js';
import type { QemuExit } from '../qemu/qemu.js';
import type { QemuDisk } from '../qemu/spec.js';
import type { FileLock } from '../state/lock.js';
import type { NetworkFiles, NetworkRecord } from '../state/network-record.js';
import type { AdvertisedInterface } from './types.js';

/** The rtnetlink calls a network makes. */
export interface NetlinkPort {
  createVxlan(options: CreateVxlanOptions): Promise<void>;
  createBridge(options: CreateBridgeOptions): Promise<void>;
  setLink(link: LinkRef, changes: SetLinkOptions): Promise<void>;
  /** Name, alias and up in one request (Netlink.renameLink): a staged link becomes the network's. */
  renameLink(link: LinkRef, name: string, options: RenameLinkOptions): Promise<void>;
  getLink(link: LinkRef): Promise<Link | undefined>;
  deleteLink(link: LinkRef): Promise<void>;
  /** Every link of the namespace (Netlink.listLinks); optional for fakes (cleanup then finds no orphan links). */
  listLinks?(options: ListLinksOptions): Promise<Link[]>;
  /** Bulk deletion (Netlink.deleteLinks); without it the links are deleted one by one. */
  deleteLinks?(links: LinkRef[]): Promise<void>;
  addAddress(link: LinkRef, address: string, options?: AddAddressOptions): Promise<void>;
  listAddresses(link?: LinkRef): Promise<Address[]>;
  addFdb(entry: FdbEntryOptions): Promise<void>;
  deleteFdb(entry: FdbEntryOptions): Promise<void>;
  close(): void | Promise<void>;
}

/** A tap device the network opened (it disappears when closed: not persistent). */
export interface TapPort {
  readonly name: string;
  close(): void | Promise<void>;
}

/** A running qemu. */
export interface QemuPort {
  readonly pid: number;
  readonly qmp: unknown;
  readonly exited: Promise<QemuExit>;
  shutdown(options?: { timeoutMs?: number }): Promise<unknown>;
  kill(): void;
  /** Lets go of the VM without stopping it (another process may attach). */
  close?(): void;
}

/** What a network keeps in a VM's spec.json, to find its VMs again. */
export interface NetworkVmMetadata {
  network: { id: number; netnsKey: string };
  vm: { id: number; mac: string; address: string; tap: string };
}

/** A VM of the network found in the run directory. */
export interface AdoptedVm {
  qemu: QemuPort;
  metadata: NetworkVmMetadata;
  /** The port security of its tap, from its folder (qemu removes it when it ends). */
  guard?: GuardPort;
}

/** The run directory (lib/state): the network's record, its locks and its VMs' folders. */
export interface NetworkStatePort {
  resolveRunDir(value: unknown): string;
  files(runDir: string, netnsKey: string, id: number): NetworkFiles;
  /** The management lock, or undefined when another process manages the network. */
  lock(files: NetworkFiles): FileLock | undefined | Promise<FileLock | undefined>;
  /** The router-advertisement lock, or undefined when another process sends the RAs. */
  lockRa(files: NetworkFiles): FileLock | undefined | Promise<FileLock | undefined>;
  /**
   * The RA lock, waiting for its holder to let go or die (on events: lib/state/lock-wait.ts);
   * undefined after `timeoutMs`; rejects with `signal.reason` when it fires, holding nothing.
   */
  waitRa(files: NetworkFiles, options: { timeoutMs: number; signal?: AbortSignal }): Promise<FileLock | undefined>;
  read(files: NetworkFiles): Promise<NetworkRecord>;
  /** Writes the record atomically; resolves once it is durable. */
  write(files: NetworkFiles, record: NetworkRecord): void | Promise<void>;
  /** Removes the record and its lock files; resolves once they are gone. */
  remove(files: NetworkFiles): void | Promise<void>;
  /** Attaches the live VMs of network `id`; the others are reported in `skipped`. */
  adoptVms(runDir: string, netnsKey: string, id: number): Promise<{ vms: AdoptedVm[]; skipped: Array<{ name: string; reason: string }> }>;
}

/** A router advertiser serving one namespace. */
export interface AdvertiserPort {
  start(): Promise<void>;
  addInterface(config: AdvertisedInterface): void | Promise<void>;
  removeInterface(name: string, options?: { final?: boolean }): void | Promise<void>;
  /** Final RAs for an interface another process advertised (RouterAdvertiser.farewell); optional for fakes. */
  farewell?(config: AdvertisedInterface, options: { timeoutMs?: number }): Promise<boolean>;
  stop(options?: { final?: boolean }): Promise<void>;
  /** Counters per interface (RouterAdvertiser.stats). */
  stats?(): { name?: string; state?: string; advertisementsSent: number; sendErrors: number }[];
  /** Send and monitor failures ('error' events carry the interface name when there is one). */
  on?(event: 'error', listener: (error: Error & { interface?: string }) => void): unknown;
}

/** The qemu options the network passes on (a subset of Qemu.spawn's). */
export interface QemuSpawnOptions {
  name: string;
  uuid?: string;
  accel?: Accel;
  memoryMiB: number;
  cpus: number;
  cdrom?: string;
  disks?: (string | QemuDisk)[];
  kernel?: string;
  initrd?: string;
  append?: string;
  /** `guard`: the tap's port security, handed to qemu (removed when the VM ends, by whichever process manages it). */
  nics: { tap: TapPort; mac: string; guard?: GuardPort }[];
  serial?: { file: string };
  qemuBinary?: string;
  extraArgs?: string[];
  runDir?: string;
  metadata?: NetworkVmMetadata;
}

/** A VM port's guard (lib/guard's PortGuard). */
export interface GuardPort {
  /** What each rule of the guard matched so far (see PortGuard.counters). */
  counters(): Promise<GuardCounter[]>;
  /** Removes the guard's chains and rules. */
  remove(): Promise<void>;
}

/** What the network passes to securePort (lib/guard's SecurePortOptions). */
export interface GuardPortOptions {
  netns?: NetnsOption;
  port: string;
  vm?: string;
  mac: string;
  prefixes: string[];
  routers: string[];
  addresses?: string[];
  allowIPv4?: boolean;
  bandwidth?: { inbound?: { rate: number; burst?: number }; outbound?: { rate: number; burst?: number } };
}

/** Everything a network needs from the rest of vmplumb. */
export interface NetworkDeps {
  /** The key of what is shared per namespace in memory (lib/netns.ts netnsIdentity); throws when the namespace is gone. */
  netnsIdentity(netns: NetnsOption | undefined): string;
  openNetlink(netns: NetnsOption | undefined): Promise<NetlinkPort>;
  openTap(options: { name: string; netns?: NetnsOption }): Promise<TapPort>;
  spawnQemu(options: QemuSpawnOptions): Promise<QemuPort>;
  createAdvertiser(options: { netns?: NetnsOption; interfaces: AdvertisedInterface[] }): AdvertiserPort;
  macForVm(id: number): string;
  eui64Address(prefix: string, mac: string): string;
  vxlanGroupForId(id: number): string;
  /** Host state; without it (test fakes) a network keeps no records and cannot be opened. */
  state?: NetworkStatePort;
  /** Port security for VM taps; optional so that fakes may leave it out (then VMs run unguarded). */
  securePort?(options: GuardPortOptions): Promise<GuardPort>;
}
