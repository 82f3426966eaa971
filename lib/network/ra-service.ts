/**
 * The host's router-advertisement service (`vmplumb serve`): sends the RAs of every recorded
 * network that no other process advertises, following networks as they are created and
 * destroyed. Ownership of a network's RAs is its RA lock (lib/state/network-record.ts): a
 * process that manages a network (create/open) advertises it itself while it holds the lock;
 * when that process closes the network or dies, the lock is free and this service takes the
 * network over within one scan interval, with the recorded config, so clients never miss
 * their default router. Restarting the service is a handover too: stop({ final: false })
 * sends no final RA.
 *
 * The service never sends a final RA (router lifetime 0) for a network on its own: when a
 * record says 'destroying' or is gone, the bridge is dropped without one and the RA lock
 * freed — and its file touched, so the process that destroys the network, waiting for the
 * lock on inotify, takes it at once — because that process sends the final RA itself before
 * it deletes the bridge (./final-ra.ts). Changes of the records are seen at
 * once (inotify on the record folders) and by the periodic scan, whichever comes first.
 */
import { EventEmitter } from 'node:events';
import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

import type { FileLock } from '../state/lock.js';
import { releaseAndNotify } from '../state/lock-wait.js';
import { listNetworkFiles, lockNetworkRa, readNetworkRecord, type NetworkFiles } from '../state/network-record.js';
import { netRoot, resolveRunDir } from '../state/run-dir.js';
import { AdvertiserRegistry } from './advertisers.js';
import type { AdvertiserPort } from './deps.js';
import type { AdvertisedInterface } from './types.js';
import { netnsIdentity, type NetnsOption } from '../netns.js';

/** Options of {@link RaService}. */
export interface RaServiceOptions {
  /** The run directory; default $VMPLUMB_RUN_DIR or /run/vmplumb. */
  runDir?: string;
  /** How often the run directory is scanned for new, removed and released networks (ms, default 500). */
  intervalMs?: number;
}

interface Served {
  files: NetworkFiles;
  lock: FileLock;
  /** The namespace's path key in the run directory (what the events report). */
  netnsKey: string;
  /** The namespace's identity: the key of the shared advertiser (lib/netns.ts). */
  netnsId: string;
  bridge: string;
}

/** Events: 'serve' and 'unserve' (network id and namespace key), 'error'. */
export interface RaServiceEvents {
  /** The service took over a network's router advertisements. */
  serve: [
    {
      /** The network id. */
      id: number;
      /** The key of the network's namespace in the run directory. */
      netnsKey: string;
      /** The bridge it advertises on. */
      bridge: string;
    },
  ];
  /** The service stopped advertising a network (a destroyed one's final RA is its destroyer's). */
  unserve: [
    {
      /** The network id. */
      id: number;
      /** The key of the network's namespace in the run directory. */
      netnsKey: string;
      /** The bridge it advertised on. */
      bridge: string;
      /** Whether final RAs (router lifetime 0) went out: only on stop({ final: true }). */
      final: boolean;
    },
  ];
  /** A network could not be served (the service goes on with the others). */
  error: [Error];
}

/** See the file header. */
export class RaService extends EventEmitter<RaServiceEvents> {
  /** The run directory it serves the recorded networks of. */
  readonly runDir: string;
  private readonly intervalMs: number;
  private readonly registry = new AdvertiserRegistry();
  private readonly served = new Map<string, Served>();
  private readonly createAdvertiser: (options: { netns?: NetnsOption; interfaces: AdvertisedInterface[] }) => AdvertiserPort;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private readonly watchers = new Map<string, FSWatcher>();
  private stopped = false;

  constructor(options: RaServiceOptions, createAdvertiser: RaService['createAdvertiser']) {
    super();
    this.runDir = resolveRunDir(options.runDir);
    this.intervalMs = options.intervalMs ?? 500;
    this.createAdvertiser = createAdvertiser;
  }

  /** Starts scanning; resolves after the first scan. */
  async start(): Promise<void> {
    await this.scan();
    this.timer = setInterval(() => {
      void this.scan();
    }, this.intervalMs);
  }

  /**
   * Follows the record folders with inotify, so that a network being destroyed is let go
   * (and a new one taken) at once rather than at the next scan: the net/ folder for
   * namespaces that appear, and each namespace's folder for its records.
   */
  private watchFolders(): void {
    const root = netRoot(this.runDir);
    const wanted = new Set([root]);
    try {
      for (const dir of readdirSync(root)) wanted.add(join(root, dir));
    } catch {
      // no network recorded yet: net/ appears with the first
    }
    for (const [dir, watcher] of this.watchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      this.watchers.delete(dir);
    }
    for (const dir of wanted) {
      if (this.watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, () => this.scanSoon());
        watcher.on('error', () => {
          watcher.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, watcher);
      } catch {
        // gone meanwhile, or no net/ yet: the periodic scan covers it
      }
    }
  }

  /** A scan after the current one, coalescing a burst of changes into one. */
  private scanSoon(): void {
    if (this.stopped || this.again) return;
    this.again = true;
    void (this.scanning ?? Promise.resolve()).then(() => {
      this.again = false;
      return this.scan();
    });
  }

  /** The networks served now ('<netns-key>/<id>'). */
  get networks(): string[] {
    return [...this.served.keys()].sort();
  }

  /** One pass over the records: take free networks, drop removed or destroying ones. */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce()
      .catch((error: unknown) => {
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
      })
      .finally(() => {
        this.scanning = undefined;
      });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    if (this.stopped) return;
    this.watchFolders();
    const seen = new Set<string>();
    for (const { netnsKey, id, files } of listNetworkFiles(this.runDir)) {
      const key = `${netnsKey}/${id}`;
      const record = await readNetworkRecord(files).catch(() => undefined);
      if (!record || record.state !== 'ready' || record.ra === false) continue;
      seen.add(key);
      if (this.served.has(key)) continue;
      const lock = lockNetworkRa(files);
      if (!lock) continue; // its manager advertises it
      let netnsId: string;
      try {
        netnsId = netnsIdentity(record.netns);
        await this.registry.add(netnsId, record.netns, record.ra, this.createAdvertiser, (error) => this.emit('error', error));
      } catch (error) {
        lock.release();
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      this.served.set(key, { files, lock, netnsKey, netnsId, bridge: record.bridge });
      this.emit('serve', { id, netnsKey, bridge: record.bridge });
    }
    // Gone or being destroyed: let go without a final RA; the destroyer sends it before the
    // bridge goes, once it has the RA lock (./final-ra.ts). Nothing waits for this one's removal.
    await Promise.all(
      [...this.served]
        .filter(([key]) => !seen.has(key))
        .map(async ([key, s]) => {
          this.served.delete(key);
          await this.registry.remove(s.netnsId, s.bridge, { final: false }).catch(() => undefined);
          releaseAndNotify(s.lock);
          this.emit('unserve', { id: Number(key.slice(key.lastIndexOf('/') + 1)), netnsKey: s.netnsKey, bridge: s.bridge, final: false });
        }),
    );
  }

  /**
   * Stops serving. `final: false` (the default: a restart or upgrade of the service) sends no
   * final RA, so clients keep their default route until the next sender takes over.
   */
  async stop(options: { final?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    await this.scanning;
    const final = options.final === true;
    for (const [key, s] of this.served) {
      this.served.delete(key);
      await this.registry.remove(s.netnsId, s.bridge, { final }).catch(() => undefined);
      releaseAndNotify(s.lock);
      this.emit('unserve', { id: Number(key.slice(key.lastIndexOf('/') + 1)), netnsKey: s.netnsKey, bridge: s.bridge, final });
    }
  }
}
