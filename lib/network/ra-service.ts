/**
 * The host's router-advertisement service (`vmplumb serve`): sends the RAs of every recorded
 * network that no other process advertises, following networks as they are created and
 * destroyed. Ownership of a network's RAs is its RA lock (lib/state/network-record.ts): a
 * process that manages a network (create/open) advertises it itself while it holds the lock;
 * when that process closes the network or dies, the lock is free and this service takes the
 * network over (at once on a close, within a few scan intervals on a death, see below) with
 * the recorded config, so clients never miss their default router. Restarting the service is a handover too: stop({ final: false })
 * sends no final RA.
 *
 * The service never sends a final RA (router lifetime 0) for a network on its own: when a
 * record says 'destroying' or is gone, the bridge is dropped without one and the RA lock
 * freed — and its file touched, so the process that destroys the network, waiting for the
 * lock on inotify, takes it at once — because that process sends the final RA itself before
 * it deletes the bridge (./final-ra.ts). Changes of the records are seen at
 * once (inotify on the record folders) and by the periodic scan, whichever comes first.
 *
 * A scan costs what changed, not what is recorded: a host has thousands of networks, and
 * reading every record twice a second was 57 % of a core at 4,096 (bench/FINDINGS.md, "vmplumb
 * serve at scale"). A folder event names the file, so only that network is looked at again;
 * a periodic scan looks at SCAN_SLICE networks more, in turn, for what no event announces (a
 * manager that died frees its RA lock without touching the file; an event the kernel
 * dropped), and lists the folders every LIST_EVERY scans.
 */
import { EventEmitter } from 'node:events';
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, join } from 'node:path';

import type { FileLock } from '../state/lock.js';
import { releaseAndNotify } from '../state/lock-wait.js';
import { listNetworkFiles, lockNetworkRa, networkFiles, readNetworkRecord, type NetworkFiles, type NetworkRecord } from '../state/network-record.js';
import { netnsKeyFromDirName, netRoot, resolveRunDir } from '../state/run-dir.js';
import { AdvertiserRegistry } from './advertisers.js';
import type { AdvertiserPort } from './deps.js';
import type { AdvertisedInterface } from './types.js';
import { netnsIdentity, type NetnsOption } from '../netns.js';

/** A network's record or RA lock file in its namespace's folder (./network-record.ts). */
const RECORD_FILE = /^(\d+)\.(?:json|ra\.lock)$/u;

/** Options of {@link RaService}. */
export interface RaServiceOptions {
  /** The run directory; default $VMPLUMB_RUN_DIR or /run/vmplumb. */
  runDir?: string;
  /** How often the run directory is scanned for new, removed and released networks (ms, default 500). */
  intervalMs?: number;
}

/**
 * Networks a periodic scan looks at in turn besides those events named: a crashed manager's
 * network is taken over within (networks / SCAN_SLICE) scan intervals (one, up to 32 networks).
 */
export const SCAN_SLICE = 32;

/** Every this many periodic scans, the folders are listed again (new and removed records an event missed). */
export const LIST_EVERY = 20;

/** A recorded network the service knows of. */
interface Known {
  netnsKey: string;
  id: number;
  files: NetworkFiles;
  /** The record file last read (recordStamp), or undefined before the first read. */
  stamp?: string | undefined;
  /** Whether that record was ready with RAs. */
  ready?: boolean;
}

/**
 * Which file the record is: a record is only ever replaced whole (written to a temp file,
 * renamed into place: a new inode), so one stat tells whether it changed since it was read.
 */
function recordStamp(files: NetworkFiles): string | undefined {
  const st = statSync(files.record, { throwIfNoEntry: false, bigint: false });
  return st ? `${st.ino}:${st.mtimeMs}:${st.size}` : undefined;
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
  /** The networks recorded at the last listing, and those events named since ('<netns-key>/<id>'). */
  private known = new Map<string, Known>();
  /** Networks an event named since the last scan, looked at next. */
  private readonly dirty = new Set<string>();
  /** Whether the next scan lists the folders (the first, and after an event that names no record). */
  private listDue = true;
  private scans = 0;
  /** Where the next periodic slice starts, in `known`'s order. */
  private cursor = 0;

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
      this.scans += 1;
      if (this.scans % LIST_EVERY === 0) this.listDue = true;
      void this.scan(true);
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
        const netnsKey = dir === root ? undefined : netnsKeyFromDirName(basename(dir));
        const watcher = watch(dir, { persistent: false }, (_type, name) => {
          this.noteChange(netnsKey, name);
          this.scanSoon();
        });
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

  /**
   * Remembers what a folder event names: the network of a record or RA lock file (written,
   * renamed into place, removed, or touched as its lock was freed); anything else, or an
   * event in net/ itself (a namespace folder came or went), has the folders listed again.
   */
  private noteChange(netnsKey: string | undefined, name: string | Buffer | null): void {
    const m = netnsKey === undefined || typeof name !== 'string' ? null : RECORD_FILE.exec(name);
    if (!m) {
      if (netnsKey === undefined || name === null) this.listDue = true;
      return; // the management lock, a temp file: nothing for the RAs
    }
    const id = Number(m[1]);
    const key = `${netnsKey!}/${id}`;
    if (!this.known.has(key)) this.known.set(key, { netnsKey: netnsKey!, id, files: networkFiles(this.runDir, netnsKey!, id) });
    this.dirty.add(key);
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

  /**
   * One pass: the networks events named (all of them on the first scan or after a listing
   * found new or removed records), and with `periodic`, SCAN_SLICE more in turn. Takes free
   * networks, drops removed or destroying ones.
   */
  scan(periodic = false): Promise<void> {
    this.scanning ??= this.scanOnce(periodic)
      .catch((error: unknown) => {
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
      })
      .finally(() => {
        this.scanning = undefined;
      });
    return this.scanning;
  }

  private async scanOnce(periodic: boolean): Promise<void> {
    if (this.stopped) return;
    this.watchFolders();
    if (this.listDue) this.list();
    const keys = new Set(this.dirty);
    this.dirty.clear();
    // RA locks taken before reading the record: networks whose manager may have died.
    const taken = new Map<string, FileLock>();
    if (periodic) {
      for (const key of this.nextSlice()) {
        const known = this.known.get(key);
        if (!known || keys.has(key)) continue;
        // Rewritten (a new file, renamed into place), or gone: read it again.
        if (recordStamp(known.files) !== known.stamp) keys.add(key);
        else if (known.ready && !this.served.has(key)) {
          // Unchanged and ready, advertised by another process: free only if that one died.
          const lock = lockNetworkRa(known.files);
          if (lock) {
            taken.set(key, lock);
            keys.add(key);
          }
        }
      }
    }
    // Read together (./record-reads.ts batches them into a few thread-pool jobs): the first
    // scan of a host reads every record.
    const looked = [...keys];
    const records = await Promise.all(looked.map((key) => this.readRecord(key)));
    const gone: Array<[string, Served]> = [];
    for (const [i, key] of looked.entries()) {
      const known = this.known.get(key);
      const record = records[i];
      const served = this.served.get(key);
      const ready = record !== undefined && record.state === 'ready' && record.ra !== false;
      if (known) known.ready = ready;
      if (!known || !record || !ready || record.ra === false) {
        if (!record) this.known.delete(key);
        if (served) gone.push([key, served]);
        const early = taken.get(key);
        if (early) releaseAndNotify(early); // a destroyer may be waiting for it
        continue;
      }
      if (served) continue;
      const lock = taken.get(key) ?? lockNetworkRa(known.files);
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
      this.served.set(key, { files: known.files, lock, netnsKey: known.netnsKey, netnsId, bridge: record.bridge });
      this.emit('serve', { id: known.id, netnsKey: known.netnsKey, bridge: record.bridge });
    }
    // Gone or being destroyed: let go without a final RA; the destroyer sends it before the
    // bridge goes, once it has the RA lock (./final-ra.ts). Nothing waits for this one's removal.
    await Promise.all(
      gone.map(async ([key, s]) => {
        this.served.delete(key);
        await this.registry.remove(s.netnsId, s.bridge, { final: false }).catch(() => undefined);
        releaseAndNotify(s.lock);
        this.emit('unserve', { id: Number(key.slice(key.lastIndexOf('/') + 1)), netnsKey: s.netnsKey, bridge: s.bridge, final: false });
      }),
    );
  }

  /** Reads the record of `key`, noting the file it read (a rewrite after that changes the stamp). */
  private readRecord(key: string): Promise<NetworkRecord | undefined> {
    const known = this.known.get(key);
    if (!known) return Promise.resolve(undefined);
    known.stamp = recordStamp(known.files);
    return readNetworkRecord(known.files).catch(() => undefined);
  }

  /** Lists the record folders: records new since the last listing, and those gone, are looked at next. */
  private list(): void {
    this.listDue = false;
    const listed = new Map<string, Known>();
    for (const { netnsKey, id, files } of listNetworkFiles(this.runDir)) {
      const key = `${netnsKey}/${id}`;
      listed.set(key, this.known.get(key) ?? { netnsKey, id, files });
      if (!this.known.has(key)) this.dirty.add(key);
    }
    for (const key of this.known.keys()) if (!listed.has(key)) this.dirty.add(key);
    for (const key of this.served.keys()) if (!listed.has(key)) this.dirty.add(key);
    this.known = listed;
  }

  /** The next SCAN_SLICE known networks, in turn. */
  private nextSlice(): string[] {
    const keys = [...this.known.keys()];
    if (keys.length <= SCAN_SLICE) return keys;
    if (this.cursor >= keys.length) this.cursor = 0;
    const slice = keys.slice(this.cursor, this.cursor + SCAN_SLICE);
    if (slice.length < SCAN_SLICE) slice.push(...keys.slice(0, SCAN_SLICE - slice.length));
    this.cursor = (this.cursor + SCAN_SLICE) % keys.length;
    return slice;
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
