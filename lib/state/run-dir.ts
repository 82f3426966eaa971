/**
 * Where vmplumb keeps the host state any process can find again (docs/ARCHITECTURE.md,
 * "State on disk"):
 *
 *     <runDir>/vm/<name>/                 one folder per VM (see ./vm-folder.ts)
 *     <runDir>/net/<netns-key>/<id>.json  one record per network (see ./network-record.ts)
 *
 * The run directory is the `runDir` option, else $VMPLUMB_RUN_DIR, else /run/vmplumb (a
 * tmpfs: the state goes with a reboot, as the VMs and links it describes do).
 */
import { isAbsolute, join, normalize } from 'node:path';

import { CURRENT_NETNS_KEY } from '../netns.js';
import { invalidType, invalidValue } from '../validate.js';

/** The run directory when neither the option nor $VMPLUMB_RUN_DIR says otherwise. */
export const DEFAULT_RUN_DIR = '/run/vmplumb';

/** The last run directory resolved: the networks of a process share its string, not one copy each. */
let lastRunDir = DEFAULT_RUN_DIR;

function shared(path: string): string {
  if (path !== lastRunDir) lastRunDir = path;
  return lastRunDir;
}

/** Resolves the `runDir` option: an absolute path, else $VMPLUMB_RUN_DIR, else /run/vmplumb. */
export function resolveRunDir(value: unknown, field = 'runDir'): string {
  if (value === undefined || value === null) {
    const env = process.env.VMPLUMB_RUN_DIR;
    if (env === undefined || env === '') return DEFAULT_RUN_DIR;
    if (!isAbsolute(env) || env.includes('\0')) throw invalidValue('VMPLUMB_RUN_DIR', 'an absolute path', env);
    return shared(normalize(env));
  }
  if (typeof value !== 'string') throw invalidType(field, 'an absolute path', value);
  if (!isAbsolute(value) || value.includes('\0')) throw invalidValue(field, 'an absolute path', value);
  return shared(normalize(value));
}

/** The folder of all VMs. */
export function vmRoot(runDir: string): string {
  return join(runDir, 'vm');
}

/** The folder of all network records. */
export function netRoot(runDir: string): string {
  return join(runDir, 'net');
}

/**
 * A namespace key as a single path component: 'host' for the current namespace, else the
 * namespace path with '/' escaped as '%2F' ('%' itself as '%25'), reversible and unique.
 */
export function netnsDirName(netnsKey: string): string {
  if (netnsKey === CURRENT_NETNS_KEY) return 'host';
  return netnsKey.replaceAll('%', '%25').replaceAll('/', '%2F');
}

/** The inverse of {@link netnsDirName}. */
export function netnsKeyFromDirName(dir: string): string {
  if (dir === 'host') return CURRENT_NETNS_KEY;
  return dir.replaceAll('%2F', '/').replaceAll('%25', '%');
}
