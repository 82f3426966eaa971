/**
 * Watches a namespace's links and addresses through netlink events (not polling) and tells
 * each interface advertiser when its interface is ready, changed or gone. One monitor per
 * namespace, shared by every RouterAdvertiser there (see ./namespace.ts).
 */
import { AF, IFF } from '../netlink/constants.js';
import type { NativeRtnlMessage } from '../native.js';
import { addressKey, ADDRESSES, EventStream, LINKS, type StreamKind } from '../netlink/events.js';
import type { NativeNetns } from '../native.js';
import {
  InterfaceTracker,
  trackedAddress,
  type InterfaceListener,
  type TrackedAddress,
  type TrackedAddressEvent,
  type TrackedLink,
  type TrackedLinkEvent,
} from './interface-tracker.js';

/**
 * Link events parsed straight into the few fields the tracker keeps: the stream holds one
 * item per link of the namespace for its re-dump comparison, and a whole parsed Link is ~10×
 * bigger (8,192 links at 4,096 networks). The socket decodes no more than those fields
 * (briefLinks): every notification of a bridge or vxlan decoded whole was ~60 properties,
 * made and dropped, the largest single allocator of a 512-network create (~40 % of its
 * bytes, sampling heap profile, bench:scale --alloc-profile).
 */
const TRACKED_LINKS: StreamKind<TrackedLink, TrackedLinkEvent> = {
  ...LINKS,
  briefLinks: true,
  parse: briefLink,
  key: (l) => l.index,
  event: (type, link) => ({ type, link }),
};

/** A brief link message as a TrackedLink: the fields parseLink would give (lib/netlink/parse.ts). */
function briefLink(m: NativeRtnlMessage): TrackedLink {
  const flags = typeof m.flags === 'number' ? m.flags : 0;
  // Links without a hardware address (tun, some tunnels) report none or a zero-length one.
  const mac = typeof m.mac === 'string' && m.mac !== '' ? m.mac : undefined;
  return {
    index: typeof m.index === 'number' ? m.index : 0,
    name: typeof m.name === 'string' ? m.name : '',
    up: (flags & IFF.UP) !== 0,
    carrier: (flags & IFF.LOWER_UP) !== 0,
    mtu: typeof m.mtu === 'number' ? m.mtu : 0,
    mac,
  };
}

/** IPv6 address events as TrackedAddresses (RAs need no IPv4 address, so none is kept). */
const TRACKED_ADDRESSES: StreamKind<TrackedAddress, TrackedAddressEvent> = {
  ...ADDRESSES,
  accept: (m) => m.family === AF.INET6,
  parse: (m) => trackedAddress(ADDRESSES.parse(m)),
  key: addressKey,
  event: (type, address) => ({ type, address }),
};

/** The interface state source an RA namespace needs. */
export interface InterfaceMonitor {
  /** See InterfaceTracker.watch. */
  watch(name: string, listener: InterfaceListener): () => void;
  /** Reports `name` as not ready until the next event about it (see InterfaceTracker.suspend). */
  suspend(name: string): void;
  /** Stops watching (idempotent). */
  close(): Promise<void>;
}

/** An InterfaceMonitor over rtnetlink link and address notifications. */
export class NetlinkInterfaceMonitor implements InterfaceMonitor {
  private readonly tracker = new InterfaceTracker();
  private closed = false;
  private readonly streams: [EventStream<TrackedLink, TrackedLinkEvent>, EventStream<TrackedAddress, TrackedAddressEvent>];
  private readonly loops: Promise<void>[];

  private constructor(
    netns: NativeNetns,
    private readonly onError: (error: Error) => void,
  ) {
    // `existing: true`: everything present first, then changes, with no gap between them.
    const links = new EventStream(TRACKED_LINKS, netns, true, undefined, () => {});
    let addresses;
    try {
      addresses = new EventStream(TRACKED_ADDRESSES, netns, true, undefined, () => {});
    } catch (error) {
      links.close();
      throw error;
    }
    this.streams = [links, addresses];
    this.loops = [this.pump(links, (e) => this.tracker.onLink(e)), this.pump(addresses, (e) => this.tracker.onAddress(e))];
  }

  /** Starts following events in `netns` (an already resolved namespace: path, fd or undefined). */
  static async open(netns: NativeNetns, onError: (error: Error) => void): Promise<NetlinkInterfaceMonitor> {
    return Promise.resolve().then(() => new NetlinkInterfaceMonitor(netns, onError));
  }

  private async pump<E>(events: AsyncIterableIterator<E>, apply: (event: E) => void): Promise<void> {
    try {
      for await (const event of events) {
        if (this.closed) break;
        apply(event);
      }
    } catch (error) {
      if (!this.closed) this.onError(error as Error);
    }
  }

  watch(name: string, listener: InterfaceListener): () => void {
    return this.tracker.watch(name, listener);
  }

  suspend(name: string): void {
    this.tracker.suspend(name);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams) stream.close();
    await Promise.allSettled(this.loops);
  }
}
