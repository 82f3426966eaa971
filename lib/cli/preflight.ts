/**
 * What `vmplumb demo` needs of the machine, checked before anything is made, each failure one
 * line saying what is missing and how to get it.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync } from 'node:fs';
import { delimiter, join } from 'node:path';

import { CliError } from './common.js';

/** Finds an executable in PATH (as execvp would), or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), fsConstants.X_OK);
      return join(dir, name);
    } catch {
      // next
    }
  }
  return undefined;
}

/** Programs the demo runs itself, with the Debian package that has them. */
export const DEMO_TOOLS: Record<string, string> = { ip: 'iproute2', ping: 'iputils-ping' };

/**
 * Checks root, /dev/net/tun and the programs the demo runs; installs missing packages with
 * apt-get (saying so through `progress`) when it can. Throws CliError otherwise.
 */
export function preflight(progress: (line: string) => void): void {
  if (process.platform !== 'linux') throw new CliError(`needs Linux (network namespaces, VXLAN, tap), this is ${process.platform}`);
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new CliError('needs root (CAP_NET_ADMIN for namespaces, links and taps): run it with sudo');
  }
  try {
    closeSync(openSync('/dev/net/tun', fsConstants.O_RDWR));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new CliError(`cannot open /dev/net/tun (${code}): load the tun module (modprobe tun) or give the container the device`);
  }
  const missing = Object.entries(DEMO_TOOLS)
    .filter(([tool]) => !which(tool))
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (!which('apt-get')) throw new CliError(`needs ${missing.join(', ')}, and there is no apt-get to install them with`);
  progress(`installing ${missing.join(' ')} with apt-get`);
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'ignore', env });
  } catch {
    throw new CliError(`could not install ${missing.join(' ')} with apt-get: install them and run the demo again`);
  }
}
