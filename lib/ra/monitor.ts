/**
 * Watches a namespace's links and addresses through netlink events (not polling) and tells
 * each interface advertiser when its interface is ready, changed or gone. One monitor per
 * namespace, shared by every RouterAdvertiser there (see ./namespace.ts).
 */
import { AF } from '../netlink/constants.js';
import { ADDRESSES, EventStream, LINKS, type StreamKind } from '../netlink/events.js';
import type { NativeNetns } from '../native.js';
import {
  InterfaceTracker,
  trackedAddress,
  trackedLink,
  type InterfaceListener,
  type TrackedAddress,
  type TrackedAddressEvent,
  type TrackedLink,
  type TrackedLinkEvent,
} from './interface-tracker.js';

/**
 * Link events parsed straight into the few fields the tracker keeps: the stream holds one
 * item per link of the namespace for its re-dump comparison, and a whole parsed Link is ~10×
 * bigger (8,192 links at 4,096 networks).
 */
const TRACKED_LINKS: StreamKind<TrackedLink, TrackedLinkEvent> = {
  ...LINKS,
  parse: (m) => trackedLink(LINKS.parse(m)),
  key: (l) => String(l.index),
  event: (type, link) => ({ type, link }),
};

/** IPv6 address events as TrackedAddresses (RAs need no IPv4 address, so none is kept). */
const TRACKED_ADDRESSES: StreamKind<TrackedAddress, TrackedAddressEvent> = {
  ...ADDRESSES,
  accept: (m) => m.family === AF.INET6,
  parse: (m) => trackedAddress(ADDRESSES.parse(m)),
  key: (a) => `${a.index} ${a.address}/${a.prefixLength}`,
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
