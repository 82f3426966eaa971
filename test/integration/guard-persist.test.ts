/**
 * Guards across processes (issues 8 and 10): an agent process starts guarded VMs and is
 * SIGKILLed. The kernel keeps each guard with its identity (base chain comment: id, MAC, VM),
 * the VM's folder records the same; `cleanup()` (vmplumb gc) removes exactly the guard whose
 * tap vanished and keeps a live VM's (the positive control); a VM stopped through
 * `Qemu.attach` takes its guard along; `VxlanNetwork.open` adopts the rest (counters work) and
 * `destroy()` leaves no rule. Oracle: `nft -j list ruleset` in the test namespace.
 * qemu runs with -S on an empty disk: no guest boots.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { VxlanNetwork } from '../../lib/network.js';
import { Qemu } from '../../lib/qemu/index.js';
import { joinWithVeth, runAsync, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { tempRunDir } from '../helpers/run-dir.js';

const ROOT = join(import.meta.dirname, '..', '..');
const AGENT = join(ROOT, 'test', 'helpers', 'guard-agent.ts');
const ID = 420;

interface NftChain {
  chain?: { table: string; name: string };
  table?: { name: string };
  rule?: { table: string; chain: string };
}

describe.skipIf(skipUnlessRoot('guard persistence tests', ['/dev/net/tun']))('guards outlive the process that made them', () => {
  let ns: TestNetns;
  let peer: TestNetns;
  let runDir: string;
  let disk: string;
  let agentVms: Array<{ name: string; tap: string; pid: number; guard: string }> = [];
  let net: VxlanNetwork | undefined;

  const ruleset = async (): Promise<NftChain[]> =>
    (JSON.parse(await runAsync('ip', ['netns', 'exec', ns.name, 'nft', '-j', 'list', 'ruleset'])) as { nftables: NftChain[] }).nftables;
  /** Our base chains by port, with their comment (nft 1.0.6 leaves chain comments out of its JSON: read from its text). */
  const baseChains = async (): Promise<Map<string, string | undefined>> => {
    const ports = (await ruleset()).filter((o) => o.chain?.table === 'vmplumb-guard' && !o.chain.name.includes('/')).map((o) => o.chain?.name as string);
    const text = await Promise.all(ports.map((p) => runAsync('ip', ['netns', 'exec', ns.name, 'nft', 'list', 'chain', 'netdev', 'vmplumb-guard', p])));
    return new Map(ports.map((p, i) => [p, /comment "([^"]*)"/u.exec(text[i] ?? '')?.[1]]));
  };

  beforeAll(async () => {
    ns = new TestNetns('vmpgp');
    peer = new TestNetns('vmpgpp');
    joinWithVeth(ns, 'eth0', peer, 'eth0');
    runDir = tempRunDir();
    disk = join(runDir, 'empty.img');
    writeFileSync(disk, Buffer.alloc(1 << 20));
    // The agent: network + three guarded VMs, then SIGKILL once it said they run.
    const child = spawn(process.execPath, ['--import', 'tsx', AGENT], {
      cwd: ROOT,
      env: { ...process.env, VMPLUMB_RUN_DIR: runDir, NETNS: ns.name, NET_ID: String(ID), DISK: disk, VM_IDS: '1,2,3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await until('the agent to start its VMs', () => (child.exitCode !== null ? Promise.reject(new Error(err)) : out.includes('\n')), 120_000);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    agentVms = JSON.parse(out) as typeof agentVms;
  }, 180_000);

  afterAll(async () => {
    await net?.destroy({ timeoutMs: 600 }).catch(() => undefined);
    // Whatever a failed test left running of ours (pids proven by Qemu.list).
    for (const vm of runDir ? await Qemu.list({ runDir }).catch(() => []) : []) if (vm.pid !== undefined) process.kill(vm.pid, 'SIGKILL');
    ns?.cleanup();
    peer?.cleanup();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it('keeps each guard in the kernel with its identity, and in the VM folder', async () => {
    expect(agentVms.map((v) => v.name)).toEqual([`vm1n${ID}`, `vm2n${ID}`, `vm3n${ID}`]);
    const chains = await baseChains();
    for (const vm of agentVms) {
      expect(chains.get(vm.tap)).toMatch(new RegExp(`^vmplumb-guard id=${vm.guard} mac=02:[0-9a-f:]+ vm=${vm.name}$`, 'u'));
      const spec = JSON.parse(readFileSync(join(runDir, 'vm', vm.name, 'spec.json'), 'utf8')) as { nics: Array<{ guard?: unknown }> };
      expect(spec.nics[0]?.guard).toMatchObject({ port: vm.tap, id: vm.guard, vm: vm.name, netns: ns.path });
    }
  });

  it('gc removes exactly the guard whose tap vanished; a running VM keeps its guard', async () => {
    const [vm1, vm2] = agentVms;
    // vm2's qemu dies with nobody managing it: its tap goes, the kernel keeps its guard.
    const entry = (await Qemu.list({ runDir })).find((e) => e.name === vm2?.name);
    expect(entry?.pid).toBe(vm2?.pid);
    process.kill(entry?.pid as number, 'SIGKILL');
    await until('vm2 tap gone', () => !ns.ipJson<Array<{ ifname: string }>>('link', 'show').some((l) => l.ifname === vm2?.tap));
    expect((await baseChains()).has(vm2?.tap as string)).toBe(true);

    const report = await VxlanNetwork.cleanup({ runDir });
    expect(report.guards).toEqual([`${ns.path}:${vm2?.tap}`]);
    expect(report.vms).toEqual([vm2?.name]);
    const chains = await baseChains();
    expect(chains.has(vm2?.tap as string)).toBe(false);
    expect((await ruleset()).some((o) => o.chain?.name.startsWith(`${vm2?.tap}/`))).toBe(false);
    // Positive control: the guards of the VMs that run are still there, rules and all.
    expect(chains.get(vm1?.tap as string)).toContain(`id=${vm1?.guard}`);
    expect((await ruleset()).filter((o) => o.rule?.chain.startsWith(vm1?.tap as string)).length).toBeGreaterThan(20);
  });

  it('a VM stopped by another process (Qemu.attach) takes its guard along', async () => {
    const vm3 = agentVms[2];
    const q = await Qemu.attach(vm3?.name as string, { runDir });
    expect(q.nics[0]?.guard).toMatchObject({ id: vm3?.guard });
    await q.shutdown({ timeoutMs: 1000 });
    const chains = await baseChains();
    expect(chains.has(vm3?.tap as string)).toBe(false);
    expect(chains.has(agentVms[0]?.tap as string)).toBe(true);
  });

  it('open() adopts the guard (counters from the kernel); destroy() leaves no rule', async () => {
    net = await VxlanNetwork.open({ id: ID, netns: ns.name, runDir });
    const [vm] = net.vmList;
    expect(vm?.name).toBe(agentVms[0]?.name);
    const counters = await vm?.portSecurity?.counters();
    expect(counters?.map((c) => c.name)).toEqual(expect.arrayContaining(['mac-source', 'router-advertisement', 'ns-source-lladdr']));
    await net.destroy({ timeoutMs: 600 });
    const left = await ruleset();
    expect(left.filter((o) => o.table?.name === 'vmplumb-guard' || o.chain?.table === 'vmplumb-guard' || o.rule?.table === 'vmplumb-guard')).toEqual([]);
    expect(await Qemu.list({ runDir })).toEqual([]);
  });
});
