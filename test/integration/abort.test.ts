/**
 * Cancelling long operations with an AbortSignal: an aborted VxlanNetwork.create rolls back
 * like a failed one (no link, no record — checked with `ip -j` and the run directory), and an
 * aborted Qemu.spawn kills its qemu (checked in /proc) and removes the VM's folder. Controls:
 * the same calls, not aborted, make the network and get qemu to the point where it is waited for.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NETLINK_TRACING_CHANNEL, type NetlinkRequestMessage } from '../../lib/diagnostics.js';
import { VxlanNetwork } from '../../lib/network.js';
import { Qemu } from '../../lib/qemu/index.js';
import { joinWithVeth, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { tempRunDir } from '../helpers/run-dir.js';

const PREFIX = '2001:db8:ab::/64';

describe.skipIf(skipUnlessRoot('abort'))('AbortSignal on long operations', () => {
  let ns: TestNetns | undefined;
  let peer: TestNetns | undefined;
  let runDir = '';
  let work = '';

  beforeAll(() => {
    ns = new TestNetns('vmpabort');
    peer = new TestNetns('vmpabortp');
    joinWithVeth(ns, 'eth0', peer, 'eth0');
    ns.ip('-6', 'addr', 'add', '2001:db8:ff::1/64', 'dev', 'eth0', 'nodad');
    runDir = tempRunDir();
    work = mkdtempSync(join(tmpdir(), 'vmpabort-'));
  });

  afterAll(() => {
    ns?.cleanup();
    peer?.cleanup();
    rmSync(runDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  const links = (): string[] =>
    ns!
      .ipJson<Array<{ ifname: string }>>('link', 'show')
      .map((l) => l.ifname)
      .sort();
  const records = (): string[] =>
    existsSync(join(runDir, 'net'))
      ? readdirSync(join(runDir, 'net'), { recursive: true })
          .map(String)
          .filter((f) => f.endsWith('.json'))
      : [];

  it('an aborted VxlanNetwork.create rolls back: no link, no record; the control makes the network', async () => {
    const controller = new AbortController();
    const reason = new Error('orchestrator gave up');
    // Abort once the kernel has made the bridge (made under its staging name, then named br301): the next step sees the signal.
    const onEnd = (m: unknown): void => {
      const r = m as NetlinkRequestMessage;
      if (r.operation === 'renameLink' && r.object?.endsWith(' to br301')) controller.abort(reason);
    };
    const channel = diagnostics_channel.tracingChannel(NETLINK_TRACING_CHANNEL);
    const handlers = { asyncEnd: onEnd, start() {}, end() {}, asyncStart() {}, error() {} };
    channel.subscribe(handlers as never);
    try {
      await expect(
        VxlanNetwork.create({ id: 301, underlay: 'eth0', prefix: PREFIX, netns: ns!.name, runDir, signal: controller.signal } as never),
      ).rejects.toBe(reason);
    } finally {
      channel.unsubscribe(handlers as never);
    }
    expect(controller.signal.aborted).toBe(true);
    expect(links()).toEqual(['eth0', 'lo']);
    expect(records()).toEqual([]);

    // Control: the same create, not aborted.
    const net = await VxlanNetwork.create({
      id: 301,
      underlay: 'eth0',
      prefix: PREFIX,
      netns: ns!.name,
      runDir,
      signal: new AbortController().signal,
    } as never);
    expect(links()).toEqual(['br301', 'eth0', 'lo', 'vxlan301']);
    expect(records()).toHaveLength(1);
    await net.destroy();
    expect(links()).toEqual(['eth0', 'lo']);
  });

  it('an aborted Qemu.spawn kills its qemu and removes its folder', async () => {
    // A "qemu" that never greets on QMP: spawn waits for it until the signal fires.
    const fake = join(work, 'qemu-silent');
    // exec -a keeps qemu's arguments (the pidfile mark) in the process's cmdline.
    writeFileSync(fake, '#!/bin/bash\nexec -a "qemu-silent $*" sleep 120\n');
    chmodSync(fake, 0o755);
    const controller = new AbortController();
    const started = Qemu.spawn({ name: 'abortvm', memoryMiB: 64, cpus: 1, accel: 'tcg', qemuBinary: fake, runDir, signal: controller.signal } as never);
    // Control: qemu was spawned and is being waited for (its pidfile mark is on a live process).
    const pid = await until(
      'the fake qemu runs',
      () => {
        const dir = join(runDir, 'vm', 'abortvm');
        if (!existsSync(dir)) return undefined;
        for (const p of readdirSync('/proc').filter((d) => /^\d+$/u.test(d))) {
          try {
            if (readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(join(dir, 'pid'))) return Number(p);
          } catch {
            /* gone */
          }
        }
        return undefined;
      },
      10_000,
    );
    const reason = new Error('no longer wanted');
    controller.abort(reason);
    await expect(started).rejects.toBe(reason);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(join(runDir, 'vm', 'abortvm'))).toBe(false);
  });
});
