/**
 * Validation of securePort's options: every field is checked, and named in the error, before
 * anything reaches the kernel.
 */
import { resolveNetns, type NetnsOption } from '../netns.js';
import {
  checkBoolean,
  checkIfname,
  checkIP,
  checkInteger,
  checkObject,
  checkPrefixed,
  checkString,
  checkUnicastMac,
  invalidType,
  invalidValue,
} from '../validate.js';
import { VM_NAME_RE } from './identity.js';
import type { GuardPolicy, RateLimit } from './policy.js';

/** A bandwidth limit in one direction. */
export interface BandwidthLimit {
  /** Bytes per second (what libvirt's `average` is in KiB/s, times 1024). */
  rate: number;
  /** Bytes that may pass above the rate in a burst (default: a tenth of a second's worth, at least 16 KiB). */
  burst?: number;
}

/** Options of {@link securePort}. */
export interface SecurePortOptions {
  /** The namespace the port is in (name, path or fd). Default: the current one. */
  netns?: NetnsOption;
  /** The port's interface name: the VM's tap. */
  port: string;
  /**
   * The VM the port belongs to (its name in the run directory): kept with the guard in the
   * kernel, so that any process can tell whose guard it is ({@link listGuards}).
   */
  vm?: string;
  /** The VM's MAC: the only Ethernet source (and ND link-layer address) it may use. */
  mac: string;
  /** The network's prefixes (`2001:db8:1::/64`; IPv4 ones only with `allowIPv4`): allowed sources. */
  prefixes: string[];
  /** Pin the sources: exactly these addresses (plus the link-local of `mac`), instead of the prefixes. */
  addresses?: string[];
  /** Addresses no guest may send from or claim in a neighbour advertisement: the network's routers. */
  routers?: string[];
  /** Let IPv4 and ARP through, with the same source rules (default false: guests are IPv6-only). */
  allowIPv4?: boolean;
  /**
   * Bandwidth limits, as libvirt's `<bandwidth>`: `inbound` is traffic to the guest, `outbound`
   * from it. Enforced by policing in the kernel (frames over the rate are dropped and counted).
   */
  bandwidth?: {
    /** Traffic to the guest. */
    inbound?: BandwidthLimit;
    /** Traffic from the guest. */
    outbound?: BandwidthLimit;
  };
}

/** The options after validation. */
export interface ResolvedGuardOptions {
  netns: string | number | undefined;
  port: string;
  vm: string | undefined;
  policy: GuardPolicy;
}

function checkRate(field: string, value: unknown): RateLimit {
  const o = checkObject(field, value);
  const rate = checkInteger(`${field}.rate`, o.rate, 1, 2 ** 40);
  const burst = o.burst === undefined ? Math.max(16384, Math.ceil(rate / 10)) : checkInteger(`${field}.burst`, o.burst, 0, 0xffffffff);
  return { rate, burst };
}

function checkAddressList(field: string, value: unknown): Array<{ address: string; family: 4 | 6 }> {
  if (!Array.isArray(value)) throw invalidType(field, 'an array of IP addresses', value);
  return value.map((v, i) => checkIP(`${field}[${i}]`, v));
}

/** Validates securePort's options. */
export function resolveGuardOptions(options: unknown): ResolvedGuardOptions {
  const o = checkObject('options', options) as Partial<Record<keyof SecurePortOptions, unknown>>;
  const netns = resolveNetns('netns', o.netns);
  const port = checkIfname('port', o.port);
  const mac = checkUnicastMac('mac', o.mac);
  const vm = o.vm === undefined ? undefined : checkString('vm', o.vm);
  if (vm !== undefined && !VM_NAME_RE.test(vm)) throw invalidValue('vm', 'a VM name (letters, digits, . _ -, at most 64)', vm);
  const allowIPv4 = o.allowIPv4 === undefined ? false : checkBoolean('allowIPv4', o.allowIPv4);
  if (!Array.isArray(o.prefixes)) throw invalidType('prefixes', 'an array of prefixes like 2001:db8::/64', o.prefixes);
  const prefixes = o.prefixes.map((p, i) => checkPrefixed(`prefixes[${i}]`, p));
  const addresses = o.addresses === undefined ? undefined : checkAddressList('addresses', o.addresses);
  const routers = o.routers === undefined ? [] : checkAddressList('routers', o.routers);
  if (!allowIPv4) {
    const expected = 'an IPv6 prefix or address (IPv4 needs "allowIPv4": true)';
    prefixes.forEach((p, i) => {
      if (p.family === 4) throw invalidValue(`prefixes[${i}]`, expected, `${p.address}/${p.prefixLength}`);
    });
    addresses?.forEach((a, i) => {
      if (a.family === 4) throw invalidValue(`addresses[${i}]`, expected, a.address);
    });
  }
  if (prefixes.length === 0 && addresses === undefined) {
    throw invalidValue('prefixes', 'a non-empty array (or pinned "addresses")', o.prefixes);
  }
  let bandwidth: GuardPolicy['bandwidth'];
  if (o.bandwidth !== undefined) {
    const b = checkObject('bandwidth', o.bandwidth);
    bandwidth = {};
    if (b.inbound !== undefined) bandwidth.inbound = checkRate('bandwidth.inbound', b.inbound);
    if (b.outbound !== undefined) bandwidth.outbound = checkRate('bandwidth.outbound', b.outbound);
  }
  const policy: GuardPolicy = { mac, prefixes, routers, allowIPv4 };
  if (addresses) policy.addresses = addresses;
  if (bandwidth) policy.bandwidth = bandwidth;
  return { netns, port, vm, policy };
}
