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
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { tryLock, type FileLock } from './lock.js';
import { isTempFile, readRecord, writeRecord } from './record.js';
import { netnsDirName, netnsKeyFromDirName, netRoot } from './run-dir.js';

/** The router-advertisement interface config as recorded (AdvertisedInterface). */
export type RecordedRaConfig = Record<string, unknown> & { name: string };

/** A network's record. */
export interface NetworkRecord {
  id: number;
  state: 'creating' | 'ready' | 'destroying';
  /** The namespace as the addon takes it (a path), or undefined for the host's. */
  netns: string | undefined;
  /** The resolved namespace key ('current' or the path). */
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
  /** The RA interface config, or false for none. */
  ra: RecordedRaConfig | false;
  createdAt: string;
}

/** The files of one network. */
export interface NetworkFiles {
  dir: string;
  record: string;
  lock: string;
  raLock: string;
}

/** The paths of network `id` in namespace `netnsKey`. */
export function networkFiles(runDir: string, netnsKey: string, id: number): NetworkFiles {
  const dir = join(netRoot(runDir), netnsDirName(netnsKey));
  return { dir, record: join(dir, `${id}.json`), lock: join(dir, `${id}.lock`), raLock: join(dir, `${id}.ra.lock`) };
}

/** Takes the management lock (making the folder); undefined when another process manages the network. */
export function lockNetwork(files: NetworkFiles): FileLock | undefined {
  return lockInFolder(files.dir, files.lock);
}

/** Takes the router-advertisement lock; undefined when another process sends the RAs. */
export function lockNetworkRa(files: NetworkFiles): FileLock | undefined {
  return lockInFolder(files.dir, files.raLock);
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

/** Writes the record atomically. */
export function writeNetworkRecord(files: NetworkFiles, record: NetworkRecord): void {
  writeRecord(files.record, 'network', record);
}

/** Reads the record (StateRecordError, code 'ENOENT' when there is none). */
export function readNetworkRecord(files: NetworkFiles): Promise<NetworkRecord> {
  return readRecord<NetworkRecord>(files.record, 'network');
}

/** Removes the record and its lock files (the caller holds the management lock). */
export function removeNetworkRecord(files: NetworkFiles): void {
  rmSync(files.record, { force: true });
  rmSync(files.raLock, { force: true });
  rmSync(files.lock, { force: true });
  // The namespace's folder goes with its last network (ENOTEMPTY: others are still recorded).
  try {
    rmdirSync(files.dir);
  } catch {
    // not empty, or already gone
  }
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
