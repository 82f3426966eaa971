/**
 * Throwaway network namespaces for integration tests. Every name is unique (prefix, pid, a
 * counter, random), every namespace is removed in `cleanup()` — call it from afterAll/afterEach
 * so it also runs when a test fails — and nothing here touches the host's own namespace.
 */
import { execFile, execFileSync, type ExecFileOptions, type ExecFileSyncOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { until } from './poll.js';

let counter = 0;

/** A unique namespace name: `vmpt-<pid>-<n>-<rand>` (well under the 255-byte limit). */
export function uniqueName(prefix = 'vmpt'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
}

/** Runs a command synchronously and returns its stdout (throws with stderr on failure). */
export function run(cmd: string, args: string[], options: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options }) as string;
  } catch (error) {
    const e = error as { stderr?: Buffer | string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${String(e.stderr ?? '').trim() || e.message}`, { cause: error });
  }
}

/**
 * Runs a command without blocking the event loop (npm, qemu, apt, ping, anything that may
 * take seconds: a blocked worker misses vitest's RPC deadline) and resolves with its stdout;
 * rejects with the command, its exit status and the tail of stdout/stderr. `input`, when
 * given, is written to its stdin.
 */
export function runAsync(cmd: string, args: string[], options: ExecFileOptions = {}, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options }, (error, stdout, stderr) => {
      if (!error) return resolve(String(stdout));
      const tail = (s: unknown) => String(s ?? '').slice(-4000);
      reject(new Error(`${cmd} ${args.join(' ')} failed: ${error.message}\n${tail(stdout)}\n${tail(stderr)}`));
    });
    // A command that exits without reading its stdin makes this write fail with EPIPE: its
    // exit status is what counts, reported above.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

/** A namespace made for one test file; `ip(...)` runs `ip -n NAME ...`. */
export class TestNetns {
  readonly name: string;
  readonly path: string;

  constructor(prefix?: string) {
    this.name = uniqueName(prefix);
    run('ip', ['netns', 'add', this.name]);
    this.path = `/run/netns/${this.name}`;
    run('ip', ['-n', this.name, 'link', 'set', 'lo', 'up']);
  }

  /** `ip -n NAME args…` → stdout. */
  ip(...args: string[]): string {
    return run('ip', ['-n', this.name, ...args]);
  }

  /** `ip -n NAME -batch -` with one `ip` command (without the `ip`) per entry. */
  ipBatch(commands: string[]): string {
    return run('ip', ['-n', this.name, '-batch', '-'], { input: `${commands.join('\n')}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** `ip -n NAME -j args…` parsed (e.g. `ipJson('-d', 'link', 'show', 'dev', 'br0')`). */
  ipJson<T = any>(...args: string[]): T {
    const out = run('ip', ['-n', this.name, '-j', ...args]);
    return (out.trim() ? JSON.parse(out) : []) as T;
  }

  /**
   * The link-local address of `dev` once it is usable (past DAD), else undefined. Anything
   * that sends from it (rdisc6, an RA source) fails at once while it is still tentative.
   */
  linkLocal(dev: string): string | undefined {
    const [link] = this.ipJson<Array<{ addr_info: Array<{ local?: string; tentative?: boolean }> }>>('-6', 'addr', 'show', 'dev', dev, 'scope', 'link');
    return link?.addr_info.find((a) => a.local?.startsWith('fe80:') && a.tentative !== true)?.local;
  }

  /** `bridge -n NAME -j args…` parsed. */
  bridgeJson<T = any>(...args: string[]): T {
    const out = run('bridge', ['-n', this.name, '-j', ...args]);
    return (out.trim() ? JSON.parse(out) : []) as T;
  }

  /** `ip netns exec NAME cmd args…` → stdout. */
  exec(cmd: string, args: string[], options: ExecFileSyncOptions = {}): string {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], options);
  }

  /**
   * Pings `address` from this namespace until an echo reply comes (the first may wait for
   * neighbour discovery, DAD or a tunnel), without blocking the event loop; rejects at the
   * deadline with ping's last output.
   */
  async pingUntilReply(address: string, timeoutMs = 60_000): Promise<string> {
    let last = '';
    try {
      return await until(
        `an echo reply from ${address} in ${this.name}`,
        () =>
          runAsync('ip', ['netns', 'exec', this.name, 'ping', '-6', '-n', '-c', '2', '-i', '0.3', '-W', '2', address]).catch((error: Error) => {
            last = error.message;
            return false as const;
          }),
        { timeoutMs, intervalMs: 300 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${last}`, { cause: error });
    }
  }

  /** Sets a sysctl inside this namespace only (never the host's). */
  sysctl(key: string, value: string | number): void {
    this.exec('sysctl', ['-qw', `${key}=${value}`]);
  }

  /** Removes the namespace (idempotent). Links inside it go with it. */
  cleanup(): void {
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/** Joins two namespaces with a veth pair named `aName` in `a` and `bName` in `b`, both up. */
export function joinWithVeth(a: TestNetns, aName: string, b: TestNetns, bName: string): void {
  a.ip('link', 'add', aName, 'type', 'veth', 'peer', 'name', bName, 'netns', b.name);
  a.ip('link', 'set', aName, 'up');
  b.ip('link', 'set', bName, 'up');
}
