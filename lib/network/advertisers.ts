/**
 * One router advertiser per network namespace, shared by every network in it: a host runs
 * hundreds of networks, and one ICMPv6 socket with one timer wheel serves them all (each
 * network adds its bridge as an interface). The advertiser starts with its first interface
 * and stops after its last; operations on one namespace are serialized so a network being
 * destroyed and one being created never race on start/stop.
 */
import type { NetnsOption } from '../netns.js';
import type { AdvertiserPort } from './deps.js';
import type { AdvertisedInterface } from './types.js';

type Factory = (options: { netns?: NetnsOption; interfaces: AdvertisedInterface[] }) => AdvertiserPort;

/** Told about the advertiser's failures that concern one interface (or all of them). */
export type AdvertiserErrorListener = (error: Error & { interface?: string }) => void;

interface Entry {
  advertiser: AdvertiserPort;
  interfaces: Set<string>;
  listeners: Map<string, AdvertiserErrorListener>;
}

/** The shared advertisers, keyed by resolved namespace. */
export class AdvertiserRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly queues = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier operation on `key` has settled. */
  private serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(() => undefined, () => undefined);
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return next;
  }

  /** Adds an interface to the namespace's advertiser, creating and starting it first if needed. */
  add(key: string, netns: NetnsOption | undefined, config: AdvertisedInterface, create: Factory, onError?: AdvertiserErrorListener): Promise<void> {
    return this.serialize(key, async () => {
      const entry = this.entries.get(key);
      if (entry) {
        await entry.advertiser.addInterface(config);
        entry.interfaces.add(config.name);
        if (onError) entry.listeners.set(config.name, onError);
        return;
      }
      const advertiser = create(netns === undefined ? { interfaces: [config] } : { netns, interfaces: [config] });
      const created: Entry = { advertiser, interfaces: new Set([config.name]), listeners: new Map() };
      if (onError) created.listeners.set(config.name, onError);
      // One listener per advertiser: each failure goes to the network whose bridge it concerns.
      advertiser.on?.('error', (error) => {
        const targets = error.interface === undefined ? [...created.listeners.values()] : [created.listeners.get(error.interface)];
        for (const listener of targets) listener?.(error);
      });
      await advertiser.start();
      this.entries.set(key, created);
    });
  }

  /**
   * Removes an interface (the advertiser sends its final RAs, router lifetime 0, RFC 4861
   * §6.2.5, unless `final` is false: a handover); stops the advertiser when it was the last one.
   */
  remove(key: string, name: string, options: { final?: boolean } = {}): Promise<void> {
    const how = options.final === false ? { final: false } : {};
    return this.serialize(key, async () => {
      const entry = this.entries.get(key);
      if (!entry || !entry.interfaces.has(name)) return;
      entry.interfaces.delete(name);
      entry.listeners.delete(name);
      if (entry.interfaces.size > 0) {
        await entry.advertiser.removeInterface(name, how);
        return;
      }
      this.entries.delete(key);
      await entry.advertiser.stop(how);
    });
  }

  /** The number of namespaces with a running advertiser (for tests and stats). */
  get size(): number {
    return this.entries.size;
  }

  /** The interfaces served in a namespace. */
  interfaces(key: string): string[] {
    return [...(this.entries.get(key)?.interfaces ?? [])];
  }
}

/** The process-wide registry VxlanNetwork uses. */
export const sharedAdvertisers = new AdvertiserRegistry();
