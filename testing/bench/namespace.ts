/**
 * The benchmark's throwaway network namespace (ip-netns(8)): an underlay `eth0` (one end of a
 * veth pair whose other end, `eth0p`, stays in the same namespace) with an IPv6 address, as
 * the reference setup's host has. Nothing outside the namespace is touched.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

import { MULTICAST_MEMBERSHIP_BYTES } from '../../lib/network/kernel-limits.js';

const execFileAsync = promisify(execFile);

/** The underlay device every vxlan of the benchmark uses. */
export const UNDERLAY = 'eth0';

let counter = 0;

/** Namespaces created and not yet destroyed, so an interrupted process can remove them. */
const live = new Set<BenchNamespace>();

/** The benchmark namespaces that exist right now (for Ctrl-C handlers). */
export function liveNamespaces(): BenchNamespace[] {
  return [...live];
}

/** Runs `ip args…` and returns stdout; the error names the command and quotes ip's stderr. */
export async function ip(args: readonly string[], signal?: AbortSignal): Promise<string> {
  try {
    const { stdout } = await execFileAsync('ip', args, { encoding: 'utf8', signal, maxBuffer: 64 << 20 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`, { cause: error });
  }
}

/** A namespace made for one measurement; `destroy()` removes it (idempotent). */
export class BenchNamespace {
  readonly name: string;
  #destroyed = false;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates `PREFIX-PID-N-RANDOM` with lo up and the underlay eth0 (2001:db8::1/64, nodad). */
  static async create(prefix: string, signal?: AbortSignal): Promise<BenchNamespace> {
    counter += 1;
    const ns = new BenchNamespace(`${prefix}-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`);
    await ip(['netns', 'add', ns.name], signal);
    live.add(ns);
    try {
      await ip(['-n', ns.name, 'link', 'set', 'lo', 'up'], signal);
      await ip(['-n', ns.name, 'link', 'add', UNDERLAY, 'type', 'veth', 'peer', 'name', `${UNDERLAY}p`], signal);
      await ip(['-n', ns.name, 'address', 'add', '2001:db8::1/64', 'dev', UNDERLAY, 'nodad'], signal);
      await ip(['-n', ns.name, 'link', 'set', UNDERLAY, 'up'], signal);
      await ip(['-n', ns.name, 'link', 'set', `${UNDERLAY}p`, 'up'], signal);
    } catch (error) {
      await ns.destroy();
      throw error;
    }
    return ns;
  }

  /**
   * Raises the namespace's own net.core.optmem_max (per namespace since Linux 6.9, never the
   * host's) when `memberships` IPv6 multicast memberships of one socket would not fit, with a
   * quarter to spare; returns the value in force.
   */
  async makeRoomForMemberships(memberships: number): Promise<number> {
    const needed = Math.ceil((memberships * MULTICAST_MEMBERSHIP_BYTES * 1.25) / 4096) * 4096;
    const current = Number((await ip(['netns', 'exec', this.name, 'sysctl', '-n', 'net.core.optmem_max'])).trim());
    if (current >= needed) return current;
    await ip(['netns', 'exec', this.name, 'sysctl', '-qw', `net.core.optmem_max=${needed}`]);
    return needed;
  }

  /** Names of the links in the namespace other than lo and the underlay pair. */
  async extraLinks(): Promise<string[]> {
    const links = JSON.parse((await ip(['-n', this.name, '-j', 'link', 'show'])) || '[]') as { ifname: string }[];
    return links.map((l) => l.ifname).filter((n) => n !== 'lo' && n !== UNDERLAY && n !== `${UNDERLAY}p`);
  }

  /**
   * Removes the namespace. Links still in it go with it (the kernel tears them down in its
   * cleanup worker, after this returns).
   */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    live.delete(this);
    try {
      await ip(['netns', 'del', this.name]);
    } catch {
      // already gone
    }
  }

  /** Synchronous removal, for process exit paths where no promise can finish. */
  destroySync(run: (cmd: string, args: string[]) => void): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    live.delete(this);
    try {
      run('ip', ['netns', 'del', this.name]);
    } catch {
      // already gone
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}
