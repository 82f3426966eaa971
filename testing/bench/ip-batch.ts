/**
 * The `ip -batch` peer: the reference setup's commands (docs/ARCHITECTURE.md), one pair after another,
 * fed to one `ip -n NS -batch -` per phase (ip(8) -batch).
 */
import { spawn } from 'node:child_process';

import { vxlanGroupForId } from '../../lib/netlink/vxlan-group.js';
import { UNDERLAY } from './namespace.js';

/** The link names of pair `k`. */
export function pairNames(k: number): { bridge: string; vxlan: string } {
  return { bridge: `br${k}`, vxlan: `vx${k}` };
}

/** The reference commands creating pairs 1..pairs, one line each. */
export function ipBatchCreateCommands(pairs: number): string {
  const lines: string[] = [];
  for (let k = 1; k <= pairs; k++) {
    const { bridge, vxlan } = pairNames(k);
    lines.push(
      `link add ${bridge} type bridge`,
      `link set ${bridge} up`,
      `link add ${vxlan} type vxlan id ${k} dstport 4789 group ${vxlanGroupForId(k)} dev ${UNDERLAY} ttl 5`,
      `link set ${vxlan} master ${bridge} up`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The commands deleting pairs 1..pairs (the vxlan, then its bridge). */
export function ipBatchDeleteCommands(pairs: number): string {
  const lines: string[] = [];
  for (let k = 1; k <= pairs; k++) {
    const { bridge, vxlan } = pairNames(k);
    lines.push(`link del ${vxlan}`, `link del ${bridge}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs `ip -n NETNS -batch -` on `commands`; resolves with the elapsed microseconds. */
export async function runIpBatch(netns: string, commands: string, signal?: AbortSignal): Promise<number> {
  const started = process.hrtime.bigint();
  await new Promise<void>((resolvePromise, reject) => {
    const child = spawn('ip', ['-n', netns, '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, sig) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`ip -batch failed (${sig ?? `exit ${code}`}): ${stderr.trim()}`));
    });
    child.stdin.end(commands);
  });
  return Number(process.hrtime.bigint() - started) / 1000;
}
