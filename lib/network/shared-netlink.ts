/**
 * One rtnetlink connection per namespace, shared (reference-counted) by every network in it:
 * a host with thousands of networks holds one socket per namespace, not one per network, and
 * the requests of concurrent creations pipeline on it (one flush carries them all). Each
 * network holds a lease, a small object whose close() drops its reference; the last one
 * closes the socket. Deletions go through the namespace's LinkDeleter, so concurrent
 * destroy() calls share bulk deletions.
 */
import type {
  AddAddressOptions,
  CreateBridgeOptions,
  CreateVxlanOptions,
  FdbEntryOptions,
  LinkRef,
  RenameLinkOptions,
  SetLinkOptions,
} from '../netlink/types.js';
import type { NetlinkPort } from './deps.js';
import { LinkDeleter } from './link-deleter.js';

/** One namespace's connection, with what its last lease needs to close it. */
interface Share {
  port: Promise<NetlinkPort>;
  refs: number;
  deleter: LinkDeleter | undefined;
  /** The map it is kept in, under `key`, while it has leases. */
  map: Map<string, Share>;
  key: string;
}

/**
 * Drops one reference to `share`; the last closes the connection. A function of the share,
 * not a closure per lease: a lease lives as long as its network, and a closure made in
 * acquire() would keep acquire's whole async context with it (~150 bytes a network).
 */
async function releaseShare(share: Share, port: NetlinkPort): Promise<void> {
  share.refs -= 1;
  if (share.refs > 0) return;
  if (share.map.get(share.key) === share) share.map.delete(share.key);
  // Deletions handed in before the last release still go out on this socket.
  await share.deleter?.whenIdle();
  await port.close();
}

/** A network's reference to its namespace's shared connection (a NetlinkPort itself). */
export class NetlinkLease implements NetlinkPort {
  #released = false;

  /** @internal */
  constructor(
    private readonly port: NetlinkPort,
    private readonly share: Share,
  ) {}

  createVxlan(options: CreateVxlanOptions): Promise<void> {
    return this.port.createVxlan(options);
  }
  createBridge(options: CreateBridgeOptions): Promise<void> {
    return this.port.createBridge(options);
  }
  setLink(link: LinkRef, changes: SetLinkOptions): ReturnType<NetlinkPort['setLink']> {
    return this.port.setLink(link, changes);
  }
  renameLink(link: LinkRef, name: string, options: RenameLinkOptions): Promise<void> {
    return this.port.renameLink(link, name, options);
  }
  getLink(link: LinkRef): ReturnType<NetlinkPort['getLink']> {
    return this.port.getLink(link);
  }
  deleteLink(link: LinkRef): Promise<void> {
    return this.port.deleteLink(link);
  }
  addAddress(link: LinkRef, address: string, options?: AddAddressOptions): Promise<void> {
    return this.port.addAddress(link, address, options);
  }
  listAddresses(link?: LinkRef): ReturnType<NetlinkPort['listAddresses']> {
    return this.port.listAddresses(link);
  }
  addFdb(entry: FdbEntryOptions): Promise<void> {
    return this.port.addFdb(entry);
  }
  deleteFdb(entry: FdbEntryOptions): Promise<void> {
    return this.port.deleteFdb(entry);
  }

  /**
   * Deletes `links` together with what other networks of the namespace delete meanwhile
   * (see LinkDeleter); in this order when they go one by one. Gone links count as deleted.
   */
  deleteLinks(links: LinkRef[]): Promise<void> {
    this.share.deleter ??= new LinkDeleter(this.port);
    return this.share.deleter.delete(links);
  }

  /** Drops this reference (idempotent); the last one closes the connection. */
  close(): Promise<void> {
    if (this.#released) return Promise.resolve();
    this.#released = true;
    return releaseShare(this.share, this.port);
  }
}

/** The shared connections, per opener (the real Netlink, or a test's fake) and namespace identity (lib/netns.ts). */
export class SharedNetlinks {
  private readonly shares = new WeakMap<object, Map<string, Share>>();

  /**
   * A lease on the connection of namespace `key`, opened with `open` on first use. A failed
   * open is not kept: the next acquire tries again.
   */
  async acquire(owner: object, key: string, open: () => Promise<NetlinkPort>): Promise<NetlinkLease> {
    let byKey = this.shares.get(owner);
    if (!byKey) this.shares.set(owner, (byKey = new Map()));
    const map = byKey;
    let share = map.get(key);
    if (!share) {
      const created: Share = { port: open(), refs: 0, deleter: undefined, map, key };
      share = created;
      map.set(key, created);
      created.port.catch(() => {
        if (map.get(key) === created) map.delete(key);
      });
    }
    share.refs += 1;
    let port: NetlinkPort;
    try {
      port = await share.port;
    } catch (error) {
      share.refs -= 1;
      throw error;
    }
    return new NetlinkLease(port, share);
  }

  /** Open connections of `owner` (for tests and stats). */
  count(owner: object): number {
    return this.shares.get(owner)?.size ?? 0;
  }
}

/** The process-wide registry VxlanNetwork uses. */
export const sharedNetlinks = new SharedNetlinks();
