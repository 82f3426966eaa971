/**
 * AbortSignal on VxlanNetwork.create, startVm and destroy, against the kernel (`ip -j link`,
 * `nft -j`), qemu's process (/proc) and the run directory. Each call with an already-aborted
 * signal changes nothing; startVm aborted while qemu starts is rolled back (tap, port guard,
 * VM folder); destroy aborted while a VM powers off kills the VM, keeps the links and records
 * the network as 'destroying', and a later destroy() completes the removal. VMs are real qemu
 * paused with -S (no guest: the ACPI power button is never answered).
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { VxlanNetwork } from '../../lib/network.js';
import type { QmpClient } from '../../lib/qemu/index.js';
import { joinWithVeth, run, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { reaped } from '../helpers/proc.js';

const PREFIX = '2001:db8:ac::/64';

describe.skipIf(skipUnlessRoot('network abort tests', ['/dev/net/tun']))('AbortSignal on VxlanNetwork', () => {
  let ns: TestNetns | undefined;
  let peer: TestNetns | undefined;
  let work = '';
  let cdrom = '';
  const runDir = process.env.VMPLUMB_RUN_DIR as string;
  const nets: VxlanNetwork[] = [];

  beforeAll(() => {
    ns = new TestNetns('vmpnab');
    peer = new TestNetns('vmpnabp');
    joinWithVeth(ns, 'eth0', peer, 'eth0');
    ns.ip('-6', 'addr', 'add', '2001:db8:fe::1/64', 'dev', 'eth0', 'nodad');
    work = mkdtempSync(join(tmpdir(), 'vmpnab-'));
    cdrom = join(work, 'empty.iso');
    writeFileSync(cdrom, '');
  });

  afterAll(async () => {
    for (const net of nets) await net.destroy({ timeoutMs: 1000 }).catch(() => undefined);
    ns?.cleanup();
    peer?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const links = (): string[] =>
    ns!
      .ipJson<Array<{ ifname: string }>>('link', 'show')
      .map((l) => l.ifname)
      .sort();
  const records = (): Array<{ id: number; state: string }> =>
    existsSync(join(runDir, 'net'))
      ? readdirSync(join(runDir, 'net'), { recursive: true })
          .map(String)
          .filter((f) => f.endsWith('.json') && !f.split('/').pop()!.startsWith('.'))
          .map((f) => JSON.parse(readFileSync(join(runDir, 'net', f), 'utf8')) as { id: number; state: string })
      : [];
  const guardedPorts = (): string => {
    try {
      return run('ip', ['netns', 'exec', ns!.name, 'nft', '-j', 'list', 'ruleset']);
    } catch {
      return '';
    }
  };
  const create = async (id: number): Promise<VxlanNetwork> => {
    const net = await VxlanNetwork.create({ id, underlay: 'eth0', prefix: PREFIX, netns: ns!.name, runDir });
    nets.push(net);
    return net;
  };

  it('create with an aborted signal makes nothing: no link, no record', async () => {
    const reason = new Error('not today');
    await expect(VxlanNetwork.create({ id: 311, underlay: 'eth0', prefix: PREFIX, netns: ns!.name, runDir, signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
    expect(links()).toEqual(['eth0', 'lo']);
    expect(records()).toEqual([]);
  });

  it('startVm: an aborted signal makes nothing; an abort while qemu starts removes tap, guard and VM folder', async () => {
    const net = await create(312);
    const reason = new Error('cancelled');
    await expect(net.startVm({ id: 1, memoryMiB: 64, cpus: 1, accel: 'tcg', cdrom, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(links()).toEqual(['br312', 'eth0', 'lo', 'vxlan312']);

    // A "qemu" that never greets on QMP: the abort lands inside the spawn step.
    const fake = join(work, 'qemu-silent');
    writeFileSync(fake, '#!/bin/bash\nexec -a "qemu-silent $*" sleep 120\n');
    chmodSync(fake, 0o755);
    const controller = new AbortController();
    const starting = net.startVm({ id: 2, memoryMiB: 64, cpus: 1, accel: 'tcg', cdrom, qemuBinary: fake, signal: controller.signal });
    // Control: the tap is made, guarded and in the bridge, and qemu is being waited for.
    await until('the tap in the bridge and the VM folder', () => links().includes('vm2n312') && existsSync(join(runDir, 'vm', 'vm2n312')), 30_000);
    expect(guardedPorts()).toContain('vm2n312');
    controller.abort(reason);
    // The caller's reason, not a NetworkSetupError wrapping it.
    await expect(starting).rejects.toBe(reason);
    expect(links()).toEqual(['br312', 'eth0', 'lo', 'vxlan312']);
    expect(guardedPorts()).not.toContain('vm2n312');
    expect(existsSync(join(runDir, 'vm', 'vm2n312'))).toBe(false);
    await net.destroy();
    expect(links()).toEqual(['eth0', 'lo']);
  });

  it('destroy: an aborted signal changes nothing; an abort while a VM powers off kills it, keeps the links recorded as destroying; destroy() completes', async () => {
    const net = await create(313);
    const vm = await net.startVm({ id: 1, memoryMiB: 64, cpus: 1, accel: 'tcg', cdrom, extraArgs: ['-S'] });
    const reason = new Error('orchestrator shutting down');

    await expect(net.destroy({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(net.destroyed).toBe(false);
    expect(links()).toEqual(['br313', 'eth0', 'lo', 'vm1n313', 'vxlan313']);
    expect(records()).toMatchObject([{ id: 313, state: 'ready' }]);
    expect(vm.running).toBe(true);

    // Mid-way: abort once the VM's power button has been pressed (a paused qemu ignores it).
    const controller = new AbortController();
    const qmp = vm.qmp as QmpClient;
    const execute = qmp.execute.bind(qmp);
    qmp.execute = (async (command: string, args?: Record<string, unknown>, options?: object) => {
      const reply = execute(command, args, options);
      if (command === 'system_powerdown') await reply.then(() => controller.abort(reason));
      return reply;
    }) as QmpClient['execute'];
    const started = Date.now();
    await expect(net.destroy({ timeoutMs: 120_000, signal: controller.signal })).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(60_000); // not the power-down share of 120 s
    // The VM is gone (killed, reaped, its tap with it); the links stay, and the record says so.
    expect(vm.running).toBe(false);
    expect(reaped(vm.pid)).toBe(true);
    expect(links()).toEqual(['br313', 'eth0', 'lo', 'vxlan313']);
    expect(records()).toMatchObject([{ id: 313, state: 'destroying' }]);
    expect(net.destroyed).toBe(true);
    await expect(net.startVm({ id: 3, memoryMiB: 64, cpus: 1, accel: 'tcg', cdrom })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });

    // A later destroy() completes the removal.
    await net.destroy();
    expect(links()).toEqual(['eth0', 'lo']);
    expect(records()).toEqual([]);
  });
});
