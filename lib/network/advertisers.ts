/**
 * One router advertiser per network namespace, shared by every network in it: a host runs
 * hundreds of networks, and one ICMPv6 socket with one timer queue serves them all (each
 * network adds its bridge as an interface). The advertiser starts with its first interface
 * and stops after its last.
 *
 * Nothing is serialized per namespace: RFC 4861's spacing of final RAs is per interface, so
 * the removals of different networks run concurrently (each sends its bridge's final RA and
 * resolves), and additions only wait for the advertiser's start. A namespace whose last
 * interface is being removed is stopping: an addition then waits for that stop and starts a
 * fresh advertiser.
 */
import type { NetnsOption } from '../netns.js';
import type { AdvertiserPort } from './deps.js';
import type { AdvertisedInterface } from './types.js';

type Factory = (options: { netns?: NetnsOption; interfaces: AdvertisedInterface[] }) => AdvertiserPort;

/** Told about the advertiser's failures that concern one interface (or all of them). */
export type AdvertiserErrorListener = (error: Error & { interface?: string }) => void;

interface Entry {
  advertiser: AdvertiserPort;
  /** Settles when start() has (rejects with its error). */
  started: Promise<void>;
  /** Interfaces served or being added (reserved before their addition settles). */
  interfaces: Set<string>;
  listeners: Map<string, AdvertiserErrorListener>;
  /** Set when start() failed: there is nothing to stop. */
  failed: boolean;
  /** Set once the last interface went: the advertiser is stopping. */
  stopping: Promise<void> | undefined;
}

/** The shared advertisers, keyed by namespace identity (lib/netns.ts netnsIdentity: one for every path to it). */
export class AdvertiserRegistry {
  private readonly entries = new Map<string, Entry>();

  /** Adds an interface to the namespace's advertiser, creating and starting it first if needed. */
  async add(key: string, netns: NetnsOption | undefined, config: AdvertisedInterface, create: Factory, onError?: AdvertiserErrorListener): Promise<void> {
    let entry = this.entries.get(key);
    while (entry?.stopping) {
      await entry.stopping;
      entry = this.entries.get(key);
    }
    if (!entry) {
      this.start(key, netns, config, create, onError);
      const created = this.entries.get(key)!;
      try {
        await created.started;
      } catch (error) {
        await this.forget(key, created, config.name);
        throw error;
      }
      return;
    }
    const existing = entry;
    existing.interfaces.add(config.name);
    if (onError) existing.listeners.set(config.name, onError);
    try {
      await existing.started;
      await existing.advertiser.addInterface(config);
    } catch (error) {
      await this.forget(key, existing, config.name);
      throw error;
    }
  }

  /**
   * Sends the final RA of an interface this process does not advertise (another process did,
   * e.g. `vmplumb serve`, and this one takes the router down), with no RA before it, through
   * the namespace's advertiser (made for the occasion when there is none, and stopped after).
   * An interface this process serves is simply removed (its final RA goes out); one it was
   * about to serve but that is not ready yet is removed and then given its farewell. Resolves
   * whether a final RA went out (false: the interface was not ready within `timeoutMs`, or
   * the advertiser cannot send one).
   */
  async farewell(key: string, netns: NetnsOption | undefined, config: AdvertisedInterface, create: Factory, timeoutMs?: number): Promise<boolean> {
    let entry = this.entries.get(key);
    while (entry?.stopping) {
      await entry.stopping;
      entry = this.entries.get(key);
    }
    if (entry?.interfaces.has(config.name)) {
      const serving = entry.advertiser.stats?.().some((s) => s.name === config.name && s.state === 'serving') ?? true;
      if (serving) {
        await this.remove(key, config.name);
        return true;
      }
      // Not ready yet here (just adopted): drop it and wait for the interface with a farewell.
      await this.remove(key, config.name, { final: false });
      return this.farewell(key, netns, config, create, timeoutMs);
    }
    if (!entry) this.start(key, netns, undefined, create);
    const used = this.entries.get(key)!;
    // Reserved meanwhile, so that the removal of the namespace's last other interface does not stop the advertiser.
    used.interfaces.add(config.name);
    try {
      await used.started;
      return (await used.advertiser.farewell?.(config, timeoutMs === undefined ? {} : { timeoutMs })) ?? false;
    } finally {
      used.interfaces.delete(config.name);
      if (used.interfaces.size === 0 && !used.stopping && !used.failed) await this.stop(key, used, { final: false }).catch(() => undefined);
    }
  }

  /** Makes and starts the namespace's advertiser, with `config` as its first interface if given. */
  private start(
    key: string,
    netns: NetnsOption | undefined,
    config: AdvertisedInterface | undefined,
    create: Factory,
    onError?: AdvertiserErrorListener,
  ): void {
    const interfaces = config === undefined ? [] : [config];
    const advertiser = create(netns === undefined ? { interfaces } : { netns, interfaces });
    const entry: Entry = {
      advertiser,
      started: Promise.resolve(),
      interfaces: new Set(interfaces.map((c) => c.name)),
      listeners: new Map(),
      failed: false,
      stopping: undefined,
    };
    if (onError && config) entry.listeners.set(config.name, onError);
    // One listener per advertiser: each failure goes to the network whose bridge it concerns.
    advertiser.on?.('error', (error) => {
      const targets = error.interface === undefined ? [...entry.listeners.values()] : [entry.listeners.get(error.interface)];
      for (const listener of targets) listener?.(error);
    });
    entry.started = advertiser.start().catch((error: unknown) => {
      entry.failed = true;
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw error;
    });
    this.entries.set(key, entry);
  }

  /** Drops an interface whose addition failed (no final RA: it was never served), stopping an empty advertiser. */
  private async forget(key: string, entry: Entry, name: string): Promise<void> {
    entry.interfaces.delete(name);
    entry.listeners.delete(name);
    if (entry.interfaces.size === 0 && !entry.stopping && !entry.failed) await this.stop(key, entry).catch(() => undefined);
  }

  private stop(key: string, entry: Entry, how: { final?: boolean } = {}): Promise<void> {
    const stopping = (async () => {
      await entry.started.catch(() => undefined);
      await entry.advertiser.stop(how);
    })();
    // Whoever waits to add does not care how the stop went, only that it is over.
    entry.stopping = stopping
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      });
    return stopping;
  }

  /**
   * Removes an interface (the advertiser sends its final RA, router lifetime 0, RFC 4861
   * §6.2.5, concurrently with the removals of other interfaces); stops the advertiser when it
   * was the last one. Resolves once the final RA has left. `final: false` sends none: a
   * handover to another sender (close(), an agent restart), where clients keep their route.
   */
  async remove(key: string, name: string, options: { final?: boolean } = {}): Promise<void> {
    const how = options.final === false ? { final: false } : {};
    const entry = this.entries.get(key);
    if (!entry || !entry.interfaces.has(name)) return;
    entry.interfaces.delete(name);
    entry.listeners.delete(name);
    if (entry.interfaces.size > 0) {
      await entry.started.catch(() => undefined);
      await entry.advertiser.removeInterface(name, how);
      return;
    }
    await this.stop(key, entry, how);
  }

  /** The number of namespaces with a running advertiser (for tests and stats). */
  get size(): number {
    return this.entries.size;
  }

  /** RAs sent and send errors of the namespace's advertiser so far (0 when there is none). */
  counters(key: string): { advertisementsSent: number; sendErrors: number } {
    const out = { advertisementsSent: 0, sendErrors: 0 };
    for (const s of this.entries.get(key)?.advertiser.stats?.() ?? []) {
      out.advertisementsSent += s.advertisementsSent;
      out.sendErrors += s.sendErrors;
    }
    return out;
  }

  /** The interfaces served in a namespace. */
  interfaces(key: string): string[] {
    return [...(this.entries.get(key)?.interfaces ?? [])];
  }
}

/** The process-wide registry VxlanNetwork uses. */
export const sharedAdvertisers = new AdvertiserRegistry();
