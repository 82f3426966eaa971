/**
 * The demo's two throwaway "hosts": network namespaces `vmplumb-demo-<pid>-host1` and
 * `-host2`, joined by a veth pair named eth0 on both sides (the underlay, with ULA addresses),
 * and the reference script that host 2 runs unchanged (docs/ARCHITECTURE.md, "The reference setup").
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

import { runCommand } from '../run.js';

const execFileP = promisify(execFile);

/** The underlay addresses of the two hosts (RFC 4193 ULA, so nothing leaves the machine). */
export const UNDERLAY = { host1: 'fd00:4789::1', host2: 'fd00:4789::2', length: 64 } as const;

/**
 * The reference commands of docs/ARCHITECTURE.md for network `id` with address `address/64` on
 * br<id>; with `unicastPeer`, the unicast form (no group, an all-zeros FDB entry for the peer
 * VTEP). Written as the script writes them, group `ff05::<id>` literally (so only for ids
 * below 10000), and not through vxlanGroupForId: a peer that interoperates only because it
 * shares our code would prove nothing.
 */
export function referenceScript(options: { id: number; address: string; unicastPeer?: string }): string[] {
  const { id } = options;
  if (!Number.isInteger(id) || id < 0 || id >= 10000) throw new RangeError(`the reference script writes group ff05::<id> for ids 0 to 9999, got ${id}`);
  const lines =
    options.unicastPeer === undefined
      ? [`ip -6 link add vxlan${id} type vxlan id ${id} dstport 4789 group ff05::${id} dev eth0 ttl 5`]
      : [
          `ip -6 link add vxlan${id} type vxlan id ${id} dstport 4789 dev eth0 ttl 5`,
          `bridge fdb append 00:00:00:00:00:00 dev vxlan${id} dst ${options.unicastPeer}`,
        ];
  return [
    ...lines,
    `ip link add br${id} type bridge`,
    `ip link set vxlan${id} master br${id} up ; ip link set br${id} up`,
    `ip addr add ${options.address}/64 dev br${id}`,
  ];
}

/** Runs a command and resolves with its stdout (30 s at most: nothing the demo runs takes longer). */
export function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return runCommand(cmd, args, { timeoutMs });
}

/** Two namespaces joined by eth0 ↔ eth0. */
export class DemoHosts {
  readonly host1: string;
  readonly host2: string;
  private made: string[] = [];

  constructor(prefix = `vmplumb-demo-${process.pid}`) {
    this.host1 = `${prefix}-host1`;
    this.host2 = `${prefix}-host2`;
  }

  /** Makes both namespaces and the underlay. */
  async create(): Promise<void> {
    for (const ns of [this.host1, this.host2]) {
      await run('ip', ['netns', 'add', ns]);
      this.made.push(ns);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await run('ip', ['-n', this.host1, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.host2]);
    for (const [ns, address] of [
      [this.host1, UNDERLAY.host1],
      [this.host2, UNDERLAY.host2],
    ] as const) {
      await run('ip', ['-n', ns, 'addr', 'add', `${address}/${UNDERLAY.length}`, 'dev', 'eth0', 'nodad']);
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    }
  }

  /** Runs shell lines in a namespace, as an operator would type them (`ip netns exec NS sh -ec …`). */
  async shell(ns: string, lines: string[]): Promise<string> {
    return run('ip', ['netns', 'exec', ns, 'sh', '-ec', lines.join('\n')]);
  }

  /**
   * Pings `address` from `ns`; resolves with the summary (packets and rtt) or rejects with
   * ping's own statistics line.
   */
  async ping(ns: string, address: string, count = 3): Promise<{ transmitted: number; received: number; rtt: string | undefined }> {
    let out: string;
    try {
      out = (
        await execFileP('ip', ['netns', 'exec', ns, 'ping', '-6', '-n', '-c', String(count), '-i', '0.3', '-W', '2', address], {
          encoding: 'utf8',
          timeout: 30_000,
        })
      ).stdout;
    } catch (error) {
      out = (error as { stdout?: string }).stdout ?? '';
    }
    const stats = /(\d+) packets transmitted, (\d+) received/u.exec(out);
    const rtt = /= ([\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms)/u.exec(out);
    return { transmitted: Number(stats?.[1] ?? count), received: Number(stats?.[2] ?? 0), rtt: rtt?.[1] };
  }

  /** Removes the namespaces (and everything in them); synchronous so it also runs on exit. */
  cleanup(): void {
    for (const ns of this.made.splice(0).reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}
