/**
 * A network's record, `<runDir>/net/<netns-key>/<id>.json`, and its two locks:
 *
 *     <id>.json      record 'network': links, mode, prefix, router address, RA config, state
 *     <id>.lock      held by the process that manages the network (create/open … close/destroy)
 *     <id>.ra.lock   held by the process that sends its router advertisements (the manager,
 *                    or `vmplumb serve` for networks nobody manages)
 *
 * `state` makes create and destroy crash-consistent: 'creating' is written before the first
 * link, 'ready' after the last step, 'destroying' before the first removal; the record goes
 * last. A record in 'creating'/'destroying' whose lock is free was left by a process that
 * died half-way: cleanup completes the removal.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import type { AdvertisedInterface } from '../network/types.js';
import { tryLock, tryLockAsync, type FileLock } from './lock.js';
import { inLane } from './fs-lanes.js';
import { isTempFile, parseRecord, recordText, unreadableRecord } from './record.js';
import { readFileBatched } from './record-reads.js';
import { recordJournal } from './record-journal.js';
import { netnsDirName, netnsKeyFromDirName, netRoot } from './run-dir.js';

/** A network's record. */
export interface NetworkRecord {
  id: number;
  state: 'creating' | 'ready' | 'destroying';
  /** The namespace as the addon takes it (a path), or undefined for the host's. */
  netns: string | undefined;
  /** The namespace's key in the run directory (lib/netns.ts netnsKeyOf: 'current' or the path). */
  netnsKey: string;
  vxlan: string;
  bridge: string;
  mode: 'group' | 'peers';
  group: string | undefined;
  peers: string[];
  underlay: string;
  port: number;
  ttl: number;
  local: string | undefined;
  mtu: number | undefined;
  prefix: string;
  routerAddress: string;
  /**
   * The RA interface config, or false for none. As read from disk it is what create wrote;
   * the advertiser validates it again when it is served (RouterAdvertiser.addInterface).
   */
  ra: AdvertisedInterface | false;
  createdAt: string;
}

/** The files of one network. */
export interface NetworkFiles {
  readonly dir: string;
  readonly record: string;
  readonly lock: string;
  readonly raLock: string;
}

/**
 * A network's paths, made when asked for: a served network keeps its NetworkFiles for as long
 * as it lives, and four strings of ~110 bytes each were ~0.4 KB of every network's heap.
 */
class FolderFiles implements NetworkFiles {
  constructor(
    readonly dir: string,
    private readonly id: number,
  ) {}

  get record(): string {
    return `${this.dir}/${this.id}.json`;
  }

  get lock(): string {
    return `${this.dir}/${this.id}.lock`;
  }

  get raLock(): string {
    return `${this.dir}/${this.id}.ra.lock`;
  }
}

/** The folder of the last networkFiles call: thousands of networks of one namespace share its string. */
let lastFolder = { runDir: '', netnsKey: '', dir: '' };

/** The paths of network `id` in namespace `netnsKey`. */
export function networkFiles(runDir: string, netnsKey: string, id: number): NetworkFiles {
  if (lastFolder.runDir !== runDir || lastFolder.netnsKey !== netnsKey) {
    lastFolder = { runDir, netnsKey, dir: join(netRoot(runDir), netnsDirName(netnsKey)) };
  }
  return new FolderFiles(lastFolder.dir, id);
}

/** Takes the management lock (making the folder); undefined when another process manages the network. */
export function lockNetwork(files: NetworkFiles): FileLock | undefined {
  return lockInFolder(files.dir, files.lock);
}

/** Takes the router-advertisement lock; undefined when another process sends the RAs. */
export function lockNetworkRa(files: NetworkFiles): FileLock | undefined {
  return lockInFolder(files.dir, files.raLock);
}

/** lockNetwork off the event loop (see tryLockAsync): what creating thousands of networks uses. */
export function lockNetworkAsync(files: NetworkFiles): Promise<FileLock | undefined> {
  return lockInFolderAsync(files.dir, files.lock);
}

/** lockNetworkRa off the event loop. */
export function lockNetworkRaAsync(files: NetworkFiles): Promise<FileLock | undefined> {
  return lockInFolderAsync(files.dir, files.raLock);
}

/** Folders this process made or found: a lock in them tries the open first (one pool operation, not two). */
const knownDirs = new Set<string>();

/** lockInFolder with the mkdir and the open in the thread pool (./fs-lanes.ts). */
async function lockInFolderAsync(dir: string, path: string): Promise<FileLock | undefined> {
  for (let attempt = 1; ; attempt++) {
    if (!knownDirs.has(dir)) {
      await inLane(() => mkdir(dir, { recursive: true, mode: 0o700 }));
      knownDirs.add(dir);
    }
    try {
      // tryLockAsync takes its own lane, for all the locks asked for in this turn.
      return await tryLockAsync(path);
    } catch (error) {
      // The folder went with its last network meanwhile: make it again.
      knownDirs.delete(dir);
      if ((error as { code?: string }).code !== 'ENOENT' || attempt === 3) throw error;
    }
  }
}

/**
 * Makes the namespace's folder and takes a lock in it. The folder goes when its last network
 * does (removeNetworkRecord): if another process removed it between our mkdir and our open,
 * make it again.
 */
function lockInFolder(dir: string, path: string): FileLock | undefined {
  for (let attempt = 1; ; attempt++) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      return tryLock(path);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT' || attempt === 3) throw error;
    }
  }
}

/**
 * Writes the record atomically and durably, in the thread pool, batched with the other
 * networks' writes (./record-journal.ts: thousands of networks share fsyncs).
 */
export function writeNetworkRecord(files: NetworkFiles, record: NetworkRecord): Promise<void> {
  return recordJournal.write(files.record, recordText('network', record));
}

/**
 * Reads the record (StateRecordError, code 'ENOENT' when there is none), after this process's
 * pending writes of it; batched with the other reads of this turn (./record-reads.ts).
 */
export async function readNetworkRecord(files: NetworkFiles): Promise<NetworkRecord> {
  await recordJournal.settled(files.record);
  let text: string | undefined;
  try {
    text = await readFileBatched(files.record);
  } catch (error) {
    throw unreadableRecord(files.record, (error as { code?: string }).code ?? 'EIO');
  }
  if (text === undefined) throw unreadableRecord(files.record, 'ENOENT');
  return parseRecord<NetworkRecord>(files.record, 'network', text);
}

/**
 * Removes the record and its lock files (the caller holds the management lock), batched like
 * writes. The namespace's folder goes with its last network (not when others are recorded).
 */
export function removeNetworkRecord(files: NetworkFiles): Promise<void> {
  return recordJournal.remove([files.record, files.raLock, files.lock], files.dir);
}

/** Every recorded network: its namespace key, id and files. */
export function listNetworkFiles(runDir: string): Array<{ netnsKey: string; id: number; files: NetworkFiles }> {
  let dirs: string[];
  try {
    dirs = readdirSync(netRoot(runDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: Array<{ netnsKey: string; id: number; files: NetworkFiles }> = [];
  for (const dir of dirs.sort()) {
    const netnsKey = netnsKeyFromDirName(dir);
    let names: string[];
    try {
      names = readdirSync(join(netRoot(runDir), dir));
    } catch {
      continue;
    }
    for (const name of names) {
      const m = /^(\d+)\.json$/u.exec(name);
      if (!m || isTempFile(name)) continue;
      const id = Number(m[1]);
      out.push({ netnsKey, id, files: networkFiles(runDir, netnsKey, id) });
    }
  }
  return out.sort((a, b) => a.id - b.id || a.netnsKey.localeCompare(b.netnsKey));
}

/** Removes temp files left by writers killed mid-write, in every network folder. */
export function removeNetworkTempFiles(runDir: string): string[] {
  const removed: string[] = [];
  let dirs: string[];
  try {
    dirs = readdirSync(netRoot(runDir));
  } catch {
    return removed;
  }
  for (const dir of dirs) {
    const path = join(netRoot(runDir), dir);
    for (const name of readdirSync(path)) {
      if (!isTempFile(name)) continue;
      // `.<file>.<pid>.tmp`: a live writer's file is its own business.
      const pid = Number(/\.(\d+)\.tmp$/u.exec(name)?.[1]);
      if (Number.isInteger(pid) && existsSync(`/proc/${pid}`)) continue;
      rmSync(join(path, name), { force: true });
      removed.push(join(path, name));
    }
  }
  return removed;
}
