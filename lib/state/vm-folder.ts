/**
 * A VM's folder in the run directory, `<runDir>/vm/<name>/`:
 *
 *     spec.json   what a later process needs to manage the VM (record 'vm', ./record.ts)
 *     pid         written by qemu itself (-pidfile), the path is also its identity mark
 *     qmp.sock    the VM's QMP monitor: one client at a time, the owner (holder of `lock`)
 *     status.sock a second monitor for short status queries (Qemu.list, `vmplumb vm status`)
 *     qemu.log    qemu's stdout and stderr
 *     lock        flock(2)-ed by the process that manages the VM (spawner or attacher)
 *
 * The folder is a cache of the truth (the qemu process); readers check it against /proc
 * (./identity.ts) before trusting a pid.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { ResolvedAccel } from '../qemu/accel.js';
import type { QemuNicInfo } from '../qemu/qemu.js';
import { dirname, join } from 'node:path';

import { ERROR_CODES, VmplumbError } from '../errors.js';
import type { GuardRecord } from '../guard/identity.js';
import { livePidOf } from './identity.js';
import { tryLock, type FileLock } from './lock.js';
import { readRecord, writeRecord } from './record.js';
import { vmRoot } from './run-dir.js';

/** The files of one VM's folder. */
export interface VmFolder {
  name: string;
  dir: string;
  spec: string;
  pid: string;
  qmp: string;
  status: string;
  log: string;
  lock: string;
}

/** A NIC as spec.json keeps it: what Qemu reports of it, and how it came (hot-plug, its port). */
export interface VmRecordNic extends QemuNicInfo {
  hotplugged: boolean;
  port?: string;
  /** The port security of its tap (lib/guard), removed with the VM. */
  guard?: GuardRecord;
}

/** spec.json: the resolved spec and what hot-plug changed since. */
export interface VmRecord {
  name: string;
  createdAt: string;
  qemuBinary: string;
  argv: string[];
  machine: string;
  accel: ResolvedAccel;
  nics: VmRecordNic[];
  freePorts: string[];
  nextNic: number;
  serialFile?: string;
  metadata?: Record<string, unknown>;
}

/** The paths of VM `name`'s folder. */
export function vmFolder(runDir: string, name: string): VmFolder {
  const dir = join(vmRoot(runDir), name);
  return {
    name,
    dir,
    spec: join(dir, 'spec.json'),
    pid: join(dir, 'pid'),
    qmp: join(dir, 'qmp.sock'),
    status: join(dir, 'status.sock'),
    log: join(dir, 'qemu.log'),
    lock: join(dir, 'lock'),
  };
}

/** Writes spec.json atomically. */
export function writeVmRecord(folder: VmFolder, record: VmRecord): void {
  writeRecord(folder.spec, 'vm', record);
}

/** Reads spec.json (StateRecordError when missing or not a vm record). */
export function readVmRecord(folder: VmFolder): Promise<VmRecord> {
  return readRecord<VmRecord>(folder.spec, 'vm');
}

/** Why a VM name cannot be taken. */
function nameTaken(folder: VmFolder, why: string): VmplumbError {
  return new VmplumbError(ERROR_CODES.EXISTS, `VM ${folder.name}: ${why} (${folder.dir})`);
}

/**
 * Creates the folder of a new VM and locks it for the caller. A folder left by a VM that is
 * gone (no process, nobody holding its lock) is replaced; a live VM's or one another process
 * is starting is refused with EEXIST.
 */
export function claimVmFolder(folder: VmFolder): FileLock {
  mkdirSync(dirname(folder.dir), { recursive: true, mode: 0o700 });
  try {
    mkdirSync(folder.dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const pid = livePidOf(folder.pid);
    if (pid !== undefined) throw nameTaken(folder, `a VM of that name is running as pid ${pid}`);
    const lock = tryLock(folder.lock);
    if (!lock) throw nameTaken(folder, 'another process is starting or managing a VM of that name');
    // Stale: what is left of a VM that ended without a process to clean up after it.
    for (const f of [folder.spec, folder.pid, folder.qmp, folder.status, folder.log]) rmSync(f, { force: true });
    return lock;
  }
  const lock = tryLock(folder.lock);
  if (!lock) throw nameTaken(folder, 'another process is starting a VM of that name');
  return lock;
}

/** Removes a VM's folder (the caller holds its lock or proved nobody does). */
export function removeVmFolder(folder: VmFolder): void {
  rmSync(folder.dir, { recursive: true, force: true });
}

/** Whether the folder exists. */
export function vmFolderExists(folder: VmFolder): boolean {
  return existsSync(folder.dir);
}
