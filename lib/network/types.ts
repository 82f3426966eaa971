/**
 * The public shapes of {@link VxlanNetwork}: what `create`, `join` and `startVm` take and what
 * a VM handle reports. Defaults follow the reference setup in DESIGN.md (vxlan<id> with
 * `dstport 4789 group ff05::<id> ttl 5` in bridge br<id>, radvd with MinRtrAdvInterval 3,
 * MaxRtrAdvInterval 5, AdvDefaultLifetime 3600, RDNSS/DNSSL lifetime 6000).
 */
import type { NetnsOption } from '../netns.js';

/** Router-advertisement settings of a network, or `false` for none. */
export interface NetworkRaOptions {
  /** MinRtrAdvInterval in seconds (3 by default, as the reference radvd.conf). */
  minInterval?: number;
  /** MaxRtrAdvInterval in seconds (5 by default). */
  maxInterval?: number;
  /** AdvDefaultLifetime in seconds (3600 by default; 0 = not a default router). */
  defaultLifetime?: number;
  /** Lifetime of the RDNSS and DNSSL options in seconds (6000 by default). */
  dnsLifetime?: number;
  /**
   * An advertiser of yours to add this network's bridge to (with `addInterface`); it is not
   * stopped by `destroy()`. By default one shared advertiser per namespace serves every
   * network in it.
   */
  advertiser?: SharedAdvertiser;
}

/**
 * What a network needs of a router advertiser: the subset of RouterAdvertiser it uses, so
 * callers may pass their own instance.
 */
export interface SharedAdvertiser {
  addInterface(config: AdvertisedInterface): void | Promise<void>;
  removeInterface(name: string): void | Promise<void>;
}

/** One interface of a RouterAdvertiser as VxlanNetwork configures it. */
export interface AdvertisedInterface {
  name: string;
  minInterval: number;
  maxInterval: number;
  defaultLifetime: number;
  prefixes: { prefix: string }[];
  rdnss: { servers: string[]; lifetime: number }[];
  dnssl: { domains: string[]; lifetime: number }[];
  mtu?: number;
  pref64?: string;
}

/** Options of {@link VxlanNetwork.create}. */
export interface VxlanNetworkOptions {
  /** Network id: the VNI, and the number in the default names (vxlan<id>, br<id>), 0-16777215. */
  id: number;
  /** Underlay device the VXLAN runs over (`dev`), e.g. 'eth0'. */
  underlay: string;
  /** The network's IPv6 prefix, a /64 (SLAAC): '2a0a:e5c1:111:888::/64'. */
  prefix: string;
  /** The host's address on the bridge, inside the prefix; the prefix's ::1 by default. */
  routerAddress?: string;
  /**
   * Multicast group (IPv6 `ff…`) the VXLAN joins; vxlanGroupForId(id) by default (100 →
   * ff05::100), so the network interoperates with hosts running the reference script.
   * Not allowed together with `peers`.
   */
  group?: string;
  /**
   * Unicast mode: no multicast group; broadcast and unknown traffic goes to each of these
   * VTEP addresses (FDB entries 00:00:00:00:00:00 dst PEER, `bridge fdb append`).
   */
  peers?: string[];
  /** Source address of the VXLAN packets (`local`); the kernel picks one by default. */
  local?: string;
  /** UDP port (`dstport`), 4789 by default. */
  port?: number;
  /** TTL of the VXLAN packets, 5 by default (as the reference). */
  ttl?: number;
  /** Recursive DNS servers to advertise (RFC 8106 RDNSS). */
  rdnss?: string[];
  /** DNS search domains to advertise (RFC 8106 DNSSL). */
  dnssl?: string[];
  /** NAT64 prefix to advertise (RFC 8781 PREF64), e.g. '64:ff9b::/96'. */
  pref64?: string;
  /** MTU of the vxlan and the bridge, also advertised; the kernel's default otherwise. */
  mtu?: number;
  /** Network namespace to work in: a name (/run/netns/NAME), a path, or an open fd. */
  netns?: NetnsOption;
  /** Router-advertisement settings, or `false` to send none. */
  ra?: NetworkRaOptions | false;
  /** Link names, vxlan<id> and br<id> by default. */
  names?: { vxlan?: string; bridge?: string };
}

/** Options of {@link VxlanNetwork.join}: attach to a network another process made. */
export interface JoinNetworkOptions {
  /** Network id; the bridge is br<id> unless `bridge` says otherwise. */
  id: number;
  /** Bridge name (br<id> by default). */
  bridge?: string;
  /** The prefix; read from the bridge's global /64 address when not given. */
  prefix?: string;
  /** Network namespace (name, path or fd). */
  netns?: NetnsOption;
}

/** A disk for {@link StartVmOptions.disks}. */
export interface VmDisk {
  file: string;
  /** Image format; 'raw' by default. */
  format?: 'raw' | 'qcow2';
  /** 'virtio' by default. */
  interface?: 'virtio' | 'ide' | 'scsi' | 'none';
  readOnly?: boolean;
}

/** Options of {@link VxlanNetwork.startVm}: one of `cdrom`, `disks`, or `kernel` (+ initrd, append). */
export interface StartVmOptions {
  /** VM id: names the VM (`vm<id>`), its tap and, by default, its MAC (macForVm(id)). */
  id: number;
  memoryMiB: number;
  cpus: number;
  /** ISO image to boot from. */
  cdrom?: string;
  /** Disk images. */
  disks?: (string | VmDisk)[];
  /** Direct kernel boot. */
  kernel?: string;
  initrd?: string;
  append?: string;
  /** 'kvm', 'tcg' or 'auto' (qemu's default). */
  accel?: 'kvm' | 'tcg' | 'auto';
  /** MAC of the VM's NIC; macForVm(id) by default. */
  mac?: string;
  /** Write the serial console to this file. */
  serial?: { file: string };
  /** SMBIOS UUID. */
  uuid?: string;
  /** Tap name (≤ 15 bytes); vm<id>n<netid> by default (shortened when that is too long). */
  tap?: string;
  /** qemu binary (qemu-system-x86_64 by default). */
  qemuBinary?: string;
  /** More qemu arguments. */
  extraArgs?: string[];
  /**
   * Port security on the VM's tap (see securePort): only its MAC, IPv6 sources from the
   * network's prefix, no RAs, redirects, DHCPv6 server traffic or NAs for others; on by
   * default. `false` turns it off; an object pins `addresses`, allows IPv4, limits bandwidth.
   */
  portSecurity?: boolean | VmPortSecurity;
}

/** startVm's `portSecurity` options. */
export interface VmPortSecurity {
  /** Exact sources instead of the network's prefix (the MAC's link-local is always allowed). */
  addresses?: string[];
  /** Let IPv4 and ARP through (sources from `addresses`). */
  allowIPv4?: boolean;
  /** libvirt-style limits: `inbound` to the guest, `outbound` from it, in bytes per second. */
  bandwidth?: { inbound?: { rate: number; burst?: number }; outbound?: { rate: number; burst?: number } };
}

/** How a VM process ended. */
export interface VmExit {
  code: number | null;
  signal: string | null;
  /** Why, in words ('shutdown', 'killed', 'exited', …) as the qemu module reports it. */
  reason?: string;
}

/** The 'vm-exit' event of a network: a VM ended, by stop() or by itself (`expected` false). */
export interface VmExitEvent {
  id: number;
  name: string;
  tap: string;
  exit: VmExit;
  /** True when stop() or destroy() asked for it. */
  expected: boolean;
}
