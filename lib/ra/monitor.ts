/**
 * Watches a namespace's links and addresses through netlink events (not polling) and tells
 * each interface advertiser when its interface is ready, changed or gone. One monitor per
 * namespace, shared by every RouterAdvertiser there (see ./namespace.ts).
 */
import { Netlink } from '../netlink/index.js';
import { InterfaceTracker, type InterfaceListener } from './interface-tracker.js';

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
  private readonly loops: Promise<void>[];

  private constructor(
    private readonly nl: Netlink,
    private readonly onError: (error: Error) => void,
  ) {
    // `existing: true`: everything present first, then changes, with no gap between them.
    this.loops = [
      this.pump(nl.linkEvents({ existing: true }), (e) => this.tracker.onLink(e)),
      this.pump(nl.addressEvents({ existing: true }), (e) => this.tracker.onAddress(e)),
    ];
  }

  /** Opens the netlink connection in `netns` and starts following events. */
  static async open(netns: string | number | undefined, onError: (error: Error) => void): Promise<NetlinkInterfaceMonitor> {
    const nl = await Netlink.open(netns === undefined ? {} : { netns });
    return new NetlinkInterfaceMonitor(nl, onError);
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
    await this.nl.close();
    await Promise.allSettled(this.loops);
  }
}
