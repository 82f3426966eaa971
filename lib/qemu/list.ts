/**
 * Every VM of the run directory with its state, as the kernel and qemu say it, not as the
 * folder claims: the pid is proven to be the VM's qemu (lib/state/identity.ts) and the run
 * state comes from qemu itself over the VM's second monitor (status.sock), which works while
 * another process holds the main one.
 */
import { readdir } from 'node:fs/promises';

import { livePidOf, readPidFile } from '../state/identity.js';
import { isLocked } from '../state/lock.js';
import { resolveRunDir, vmRoot } from '../state/run-dir.js';
import { readVmRecord, vmFolder, type VmFolder, type VmRecord } from '../state/vm-folder.js';
import { checkBoolean, checkInteger, checkObject } from '../validate.js';
import { native } from '../native.js';
import { Socket } from 'node:net';
import { QmpClient } from './qmp.js';

/**
 * A VM's state: 'running' or 'paused' (qemu says so), 'starting' (a process is creating it
 * and qemu has not written its pid yet), 'shutoff' (its folder is left but no qemu runs:
 * cleanup removes it), 'unknown' (qemu runs but did not answer on its status monitor).
 */
export type VmState = 'running' | 'paused' | 'starting' | 'shutoff' | 'unknown';

/** One VM of {@link Qemu.list}. */
export interface VmListEntry {
  /** The VM's name (its folder under `<runDir>/vm/`, qemu's `-name`). */
  name: string;
  /** What the folder and /proc say of it (see {@link VmState}). */
  state: VmState;
  /** qemu's pid, when proven to be this VM's qemu. */
  pid: number | undefined;
  /** qemu's own run state (query-status: 'running', 'prelaunch', 'paused', 'shutdown', …) when it answered. */
  status: string | undefined;
  /** Whether a process manages it right now (holds its QMP monitor). */
  managed: boolean;
  /** The pid the folder's pidfile names when that process is not this VM's qemu (recycled or gone). */
  stalePid?: number;
  /** The VM's folder. */
  folder: string;
  /** spec.json, when readable. */
  record: VmRecord | undefined;
}

/** Options of `Qemu.list()`. */
export interface ListVmsOptions {
  /** The run directory; default $VMPLUMB_RUN_DIR or /run/vmplumb. */
  runDir?: string;
  /** How long each VM may take to answer query-status; default 2000 ms. */
  timeoutMs?: number;
  /** Ask each live VM for its run state (default true); without, live VMs are 'unknown' with their pid. */
  status?: boolean;
}

/** qemu's run states that mean the guest's CPUs do not run (qapi/run-state.json). */
const PAUSED = new Set([
  'paused',
  'prelaunch',
  'inmigrate',
  'postmigrate',
  'finish-migrate',
  'save-vm',
  'restore-vm',
  'suspended',
  'watchdog',
  'guest-panicked',
  'io-error',
  'internal-error',
  'colo',
]);

/** query-status over the VM's status monitor, or undefined when it does not answer. */
export async function queryStatus(folder: VmFolder, timeoutMs: number): Promise<string | undefined> {
  let qmp: QmpClient | undefined;
  try {
    const fd = native.unixConnect(folder.status);
    qmp = new QmpClient(new Socket({ fd, readable: true, writable: true }));
    await qmp.negotiate(timeoutMs);
    const status = await qmp.execute<{ status?: string }>('query-status', undefined, { timeoutMs });
    return typeof status.status === 'string' ? status.status : undefined;
  } catch {
    return undefined;
  } finally {
    qmp?.close();
  }
}

/** The state of one VM folder. */
export async function inspectVm(folder: VmFolder, timeoutMs: number, askStatus = true): Promise<VmListEntry> {
  const record = await readVmRecord(folder).catch(() => undefined);
  const managed = isLocked(folder.lock);
  const pidInFile = readPidFile(folder.pid);
  const pid = livePidOf(folder.pid);
  const base = { name: folder.name, folder: folder.dir, record, managed };
  const stale = pidInFile !== undefined && pidInFile !== pid ? { stalePid: pidInFile } : {};
  if (pid === undefined) {
    return { ...base, ...stale, pid: undefined, status: undefined, state: managed ? 'starting' : 'shutoff' };
  }
  const status = askStatus ? await queryStatus(folder, timeoutMs) : undefined;
  const state: VmState = status === undefined ? 'unknown' : status === 'running' ? 'running' : PAUSED.has(status) ? 'paused' : 'unknown';
  return { ...base, ...stale, pid, status, state };
}

/** Every VM folder of the run directory, inspected in parallel, sorted by name. */
export async function listVms(options: ListVmsOptions = {}): Promise<VmListEntry[]> {
  const o = checkObject('options', options);
  const runDir = resolveRunDir(o.runDir);
  const timeoutMs = o.timeoutMs === undefined ? 2000 : checkInteger('options.timeoutMs', o.timeoutMs, 1, 600_000);
  const askStatus = o.status === undefined ? true : checkBoolean('options.status', o.status);
  let names: string[];
  try {
    names = (await readdir(vmRoot(runDir), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const entries = await Promise.all(names.sort().map((name) => inspectVm(vmFolder(runDir, name), timeoutMs, askStatus)));
  return entries;
}
