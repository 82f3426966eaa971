/**
 * The public shapes of {@link VxlanNetwork}: what `create`, `join` and `startVm` take and what
 * a VM handle reports. Defaults follow the reference setup of docs/ARCHITECTURE.md (vxlan<id> with
 * `dstport 4789 group ff05::<id> ttl 5` in bridge br<id>, radvd with MinRtrAdvInterval 3,
 * MaxRtrAdvInterval 5, AdvDefaultLifetime 3600, RDNSS/DNSSL lifetime 6000).
 */
import type { BandwidthLimit } from '../guard/options.js';
import type { NetnsOption } from '../netns.js';
import type { Accel } from '../qemu/accel.js';
import type { QemuExit } from '../qemu/qemu.js';
import type { QemuDisk } from '../qemu/spec.js';

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
   * Advertise router lifetime 0 while the network's namespace does not forward IPv6
   * (`net.ipv6.conf.all.forwarding`), and `defaultLifetime` as soon as it does, as radvd does
   * (RFC 4861 §6.2.5). Off by default: a platform host forwards, and a moment with forwarding
   * off (a sysctl reload) would make every guest drop its default route.
   */
  followForwarding?: boolean;
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
  /** Starts advertising on one more interface (the network's bridge); called once by `create()`. */
  addInterface(config: AdvertisedInterface): void | Promise<void>;
  /**
   * Stops advertising on the interface `name`, with final RAs (router lifetime 0); called by
   * `destroy()`.
   */
  removeInterface(name: string): void | Promise<void>;
}

/** One interface of a RouterAdvertiser as VxlanNetwork configures it. */
export interface AdvertisedInterface {
  /** The bridge to advertise on (br<id>). */
  name: string;
  /** MinRtrAdvInterval in seconds (RFC 4861 §6.2.1). */
  minInterval: number;
  /** MaxRtrAdvInterval in seconds (RFC 4861 §6.2.1). */
  maxInterval: number;
  /** Router lifetime in seconds (AdvDefaultLifetime; 0 = not a default router). */
  defaultLifetime: number;
  /** Prefix information options: the network's /64, on-link and autonomous (SLAAC). */
  prefixes: {
    /** The prefix with its length ('2a0a:e5c1:111:888::/64'). */
    prefix: string;
  }[];
  /** RDNSS options (RFC 8106 §5.1). */
  rdnss: {
    /** Recursive DNS server addresses. */
    servers: string[];
    /** Seconds the servers may be used. */
    lifetime: number;
  }[];
  /** DNSSL options (RFC 8106 §5.2). */
  dnssl: {
    /** DNS search domains. */
    domains: string[];
    /** Seconds the domains may be used. */
    lifetime: number;
  }[];
  /** MTU option (RFC 4861 §4.6.4) in bytes, when the network sets one. */
  mtu?: number;
  /** PREF64 option (RFC 8781): the NAT64 prefix ('64:ff9b::/96'). */
  pref64?: string;
  /** Router lifetime 0 while the namespace does not forward (NetworkRaOptions.followForwarding). */
  followForwarding?: boolean;
}

/** Options of {@link VxlanNetwork.create}. */
export interface VxlanNetworkOptions {
  /**
   * Cancels the set-up: checked before each step; what was made is removed (as when a step
   * fails) and create() rejects with `signal.reason`.
   */
  signal?: AbortSignal;
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
  names?: {
    /** Name of the vxlan link, 1-15 bytes; vxlan<id> by default. */
    vxlan?: string;
    /** Name of the bridge, 1-15 bytes; br<id> by default. */
    bridge?: string;
  };
  /** The run directory the network and its VMs are recorded in; default $VMPLUMB_RUN_DIR or /run/vmplumb. */
  runDir?: string;
}

/** Options of {@link VxlanNetwork.open}: take over a recorded network. */
export interface OpenNetworkOptions {
  /** Network id. */
  id: number;
  /** The namespace it was created in (name or path). */
  netns?: string;
  /** The run directory; default $VMPLUMB_RUN_DIR or /run/vmplumb. */
  runDir?: string;
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

/**
 * A disk for {@link StartVmOptions.disks}.
 *
 * @deprecated The same thing as {@link QemuDisk}; use that name.
 */
export type VmDisk = QemuDisk;

/** Options of {@link VxlanNetwork.startVm}: one of `cdrom`, `disks`, or `kernel` (+ initrd, append). */
export interface StartVmOptions {
  /**
   * Cancels the start: checked before each step (tap, guard, bridge, qemu, whose own start-up
   * it also cancels); what was made is removed and startVm() rejects with `signal.reason`.
   */
  signal?: AbortSignal;
  /** VM id: names the VM (`vm<id>`), its tap and, by default, its MAC (macForVm(id)). */
  id: number;
  /** Guest RAM in MiB (qemu `-m`), 16 to 4194304. */
  memoryMiB: number;
  /** Virtual CPUs (qemu `-smp`); Qemu.spawn accepts 1 to 255. */
  cpus: number;
  /** ISO image to boot from. */
  cdrom?: string;
  /** Disk images. */
  disks?: (string | QemuDisk)[];
  /** Direct kernel boot. */
  kernel?: string;
  /** Initial ramdisk for direct kernel boot (qemu `-initrd`; needs `kernel`). */
  initrd?: string;
  /** Kernel command line for direct kernel boot (qemu `-append`; needs `kernel`). */
  append?: string;
  /** 'kvm', 'tcg' or 'auto' (the default: KVM where it really works). */
  accel?: Accel;
  /** MAC of the VM's NIC; macForVm(id) by default. */
  mac?: string;
  /** Write the serial console to this file. */
  serial?: {
    /** Path of the file, created or truncated (qemu `-serial` over a file chardev). */
    file: string;
  };
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
  /** libvirt-style limits, in bytes per second. */
  bandwidth?: {
    /** Traffic to the guest. */
    inbound?: BandwidthLimit;
    /** Traffic from the guest. */
    outbound?: BandwidthLimit;
  };
}

/**
 * How a VM process ended.
 *
 * @deprecated The same thing as {@link QemuExit} (whose `signal` is a `NodeJS.Signals` and
 * whose `reason` is always set); use that name.
 */
export type VmExit = QemuExit;

/** The 'vm-exit' event of a network: a VM ended, by stop() or by itself (`expected` false). */
export interface VmExitEvent {
  /** The VM id given to `startVm`. */
  id: number;
  /** The VM's name (`vm<id>`, qemu `-name`). */
  name: string;
  /** The name its tap had (gone with qemu). */
  tap: string;
  /** How qemu ended. */
  exit: QemuExit;
  /** True when stop() or destroy() asked for it. */
  expected: boolean;
}
