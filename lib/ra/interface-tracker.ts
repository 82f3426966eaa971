/**
 * Which interfaces are ready for router advertisements, computed from link and address
 * events (rtnetlink(7) RTM_NEWLINK/DELLINK, RTM_NEWADDR/DELADDR): an interface is ready when
 * it exists, is up with carrier (IFF_UP, IFF_LOWER_UP), and has a link-local address that is
 * neither tentative nor failed DAD, since RAs must come from a link-local source
 * (RFC 4861 §4.2) and the kernel refuses a tentative one.
 *
 * Pure bookkeeping, fed by NetlinkInterfaceMonitor (./monitor.ts) or by tests.
 */
import type { Address, AddressFlags, Link } from '../netlink/types.js';
import { bytesToIPv6, ipv6ToBytes } from '../validate.js';
import { maskPrefix } from './config.js';
import { samePrefixes, type LinkInfo, type OwnPrefix } from './interface-advertiser.js';

/** Called with the interface's state whenever it changes: LinkInfo while ready, undefined otherwise. */
export type InterfaceListener = (link: LinkInfo | undefined) => void;

function same(a: LinkInfo | undefined, b: LinkInfo | undefined): boolean {
  if (!a || !b) return a === b;
  return a.index === b.index && a.name === b.name && a.mac === b.mac && a.mtu === b.mtu && a.linkLocal === b.linkLocal && samePrefixes(a.prefixes, b.prefixes);
}

/** The prefix of a global (not link-local, not tentative) IPv6 address, for radvd's `prefix ::/64`. */
function ownPrefix(a: TrackedAddress): OwnPrefix | undefined {
  if (a.family !== 6 || /^fe[89ab]/iu.test(a.address) || a.scope === 'host' || a.flags.tentative || a.flags.dadfailed) return undefined;
  const bytes = ipv6ToBytes(a.address);
  maskPrefix(bytes, a.prefixLength);
  return { address: bytesToIPv6(bytes), length: a.prefixLength, validLifetime: a.validLifetime, preferredLifetime: a.preferredLifetime };
}

function usableLinkLocal(a: TrackedAddress): boolean {
  return a.family === 6 && /^fe[89ab]/iu.test(a.address) && !a.flags.tentative && !a.flags.dadfailed;
}

/**
 * What the tracker keeps of a link: the fields readiness and RAs need, not the whole parsed
 * Link (its flags list, vxlan/bridge attributes, …): a namespace with 4,096 networks has
 * 8,192 links, and the monitor holds one entry per link for as long as it serves. The
 * monitor's event streams parse into these directly (see ./monitor.ts), and the tracker keeps
 * the objects it is given.
 */
export type TrackedLink = Pick<Link, 'index' | 'name' | 'up' | 'carrier' | 'mtu' | 'mac'>;

/** What the tracker keeps of an address (see TrackedLink). */
export type TrackedAddress = Pick<Address, 'index' | 'family' | 'address' | 'prefixLength' | 'scope' | 'validLifetime' | 'preferredLifetime'> & {
  flags: Pick<AddressFlags, 'tentative' | 'dadfailed'>;
};

/** A link event as the tracker needs it (a LinkEvent is one). */
export interface TrackedLinkEvent {
  type: 'new' | 'del';
  link: TrackedLink;
}

/** An address event as the tracker needs it (an AddressEvent is one). */
export interface TrackedAddressEvent {
  type: 'new' | 'del';
  address: TrackedAddress;
}

/** The fields of `l` the tracker keeps. */
export function trackedLink(l: Link): TrackedLink {
  return { index: l.index, name: l.name, up: l.up, carrier: l.carrier, mtu: l.mtu, mac: l.mac };
}

/** The fields of `a` the tracker keeps. */
export function trackedAddress(a: Address): TrackedAddress {
  return {
    index: a.index,
    family: a.family,
    address: a.address,
    prefixLength: a.prefixLength,
    scope: a.scope,
    flags: { tentative: a.flags.tentative, dadfailed: a.flags.dadfailed },
    validLifetime: a.validLifetime,
    preferredLifetime: a.preferredLifetime,
  };
}

/** Link and address state of one namespace, and listeners per interface name. */
export class InterfaceTracker {
  private readonly links = new Map<number, TrackedLink>();
  private readonly indexByName = new Map<string, number>();
  private readonly addresses = new Map<number, Map<string, TrackedAddress>>();
  /** Arrays rather than Sets (no duplicates either): one per served interface, a thousand of them. */
  private readonly listeners = new Map<string, InterfaceListener[]>();
  private readonly reported = new Map<string, LinkInfo | undefined>();

  /** The interface's current state. */
  lookup(name: string): LinkInfo | undefined {
    const index = this.indexByName.get(name);
    const link = index === undefined ? undefined : this.links.get(index);
    if (!link || !link.up || !link.carrier) return undefined;
    // Keep the address already in use while it stays valid, so RAs keep one source.
    const current = this.reported.get(name)?.linkLocal;
    let chosen: TrackedAddress | undefined;
    for (const a of this.addresses.get(link.index)?.values() ?? []) {
      if (!usableLinkLocal(a)) continue;
      if (a.address === current) {
        chosen = a;
        break;
      }
      chosen ??= a;
    }
    if (!chosen) return undefined;
    const info: LinkInfo = { index: link.index, name: link.name, mac: link.mac, mtu: link.mtu, linkLocal: chosen.address };
    // Only when there are any: most served bridges have none, and lookups run per event.
    let prefixes: OwnPrefix[] | undefined;
    for (const a of this.addresses.get(link.index)?.values() ?? []) {
      const p = ownPrefix(a);
      if (p && !prefixes?.some((q) => q.address === p.address && q.length === p.length)) (prefixes ??= []).push(p);
    }
    if (prefixes) info.prefixes = prefixes.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : x.length - y.length));
    return info;
  }

  /** Calls `listener` now (if ready) and on every change of `name`; returns the unsubscribe function. */
  watch(name: string, listener: InterfaceListener): () => void {
    let list = this.listeners.get(name);
    // A one-element literal: an empty array's first push would reserve 16 slots.
    if (!list) this.listeners.set(name, (list = [listener]));
    else if (!list.includes(listener)) list.push(listener);
    const now = this.lookup(name);
    this.reported.set(name, now);
    if (now) listener(now);
    return () => {
      const at = list.indexOf(listener);
      if (at !== -1) list.splice(at, 1);
      if (list.length === 0) {
        this.listeners.delete(name);
        this.reported.delete(name);
      }
    };
  }

  /**
   * Tells `name`'s listeners it is not ready, until the next link or address event about it
   * says otherwise. For what netlink does not report: the kernel re-runs DAD (address
   * tentative again) when a link regains carrier, and announces only the end of it.
   */
  suspend(name: string): void {
    const list = this.listeners.get(name);
    if (!list || this.reported.get(name) === undefined) return;
    this.reported.set(name, undefined);
    for (const listener of [...list]) listener(undefined);
  }

  private notify(name: string | undefined): void {
    if (name === undefined) return;
    const list = this.listeners.get(name);
    if (!list) return;
    const now = this.lookup(name);
    if (same(now, this.reported.get(name))) return;
    this.reported.set(name, now);
    for (const listener of [...list]) listener(now);
  }

  /** Applies a link event (what it is given is kept: pass TrackedLinks, not whole Links). */
  onLink(event: TrackedLinkEvent): void {
    const { link } = event;
    const previous = this.links.get(link.index);
    const affected = new Set<string>([link.name]);
    if (previous) {
      affected.add(previous.name);
      if (this.indexByName.get(previous.name) === link.index) this.indexByName.delete(previous.name);
    }
    if (event.type === 'new') {
      this.links.set(link.index, link);
      this.indexByName.set(link.name, link.index);
    } else {
      this.links.delete(link.index);
      this.addresses.delete(link.index);
      if (this.indexByName.get(link.name) === link.index) this.indexByName.delete(link.name);
    }
    for (const name of affected) this.notify(name);
  }

  /** Applies an address event (only IPv6 ones matter; kept as given, see onLink). */
  onAddress(event: TrackedAddressEvent): void {
    const a = event.address;
    if (a.family !== 6) return;
    let set = this.addresses.get(a.index);
    if (event.type === 'new') {
      if (!set) this.addresses.set(a.index, (set = new Map()));
      set.set(a.address, a);
    } else {
      set?.delete(a.address);
    }
    this.notify(this.links.get(a.index)?.name);
  }
}
