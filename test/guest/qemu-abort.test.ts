/**
 * AbortSignal on qemu's long operations, against a real qemu (TCG, `-S`, no guest): spawn,
 * shutdown, addNic and removeNic, each with an already-aborted signal (nothing changes) and one
 * aborted mid-way (what was made is undone). The oracle is qemu itself (`qom-list` of
 * /machine/peripheral: the devices it has), its fd table in /proc (`heldTaps`: the taps it
 * holds) and the run directory. Controls: the same calls, not aborted, do what they say.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { Qemu, type QmpClient, type QmpEvent } from '../../lib/qemu/index.js';
import { openTap, type Tap } from '../../lib/tap.js';
import { TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { heldTaps, reaped } from '../helpers/proc.js';

/** The device ids qemu has under /machine/peripheral (the NICs' `<id>.dev`). */
async function devices(vm: Qemu): Promise<string[]> {
  const list = await vm.qmp.execute<Array<{ name: string; type: string }>>('qom-list', { path: '/machine/peripheral' });
  return list
    .filter((p) => p.type.startsWith('child<'))
    .map((p) => p.name)
    .sort();
}

/** Calls `then` once `command` has been answered (or sent, with `when: 'sent'`) on this client. */
function afterCommand(qmp: QmpClient, command: string, then: () => void, when: 'sent' | 'answered' = 'answered'): () => void {
  const execute = qmp.execute.bind(qmp);
  const patched = (async (name: string, args?: Record<string, unknown>, options?: object) => {
    const reply = execute(name, args, options);
    if (name === command) {
      if (when === 'sent') then();
      else await reply.then(then, then);
    }
    return reply;
  }) as QmpClient['execute'];
  qmp.execute = patched;
  return () => {
    qmp.execute = execute;
  };
}

describe.skipIf(skipUnlessRoot('qemu abort tests', ['/dev/net/tun']))('AbortSignal on Qemu', () => {
  let ns: TestNetns;
  const vms: Qemu[] = [];
  const taps: Tap[] = [];
  const runDir = process.env.VMPLUMB_RUN_DIR as string;

  beforeAll(() => {
    ns = new TestNetns('vmpqab');
  });
  afterEach(async () => {
    for (const vm of vms.splice(0)) {
      vm.kill();
      await vm.exited;
    }
    for (const tap of taps.splice(0)) tap.close();
  });
  afterAll(() => ns?.cleanup());

  const spawn = async (name: string): Promise<Qemu> => {
    const vm = await Qemu.spawn({ name, accel: 'tcg', memoryMiB: 64, cpus: 1, extraArgs: ['-S'] });
    vms.push(vm);
    return vm;
  };
  const tap = async (): Promise<Tap> => {
    const t = await openTap({ netns: ns.name, name: 'vmpqab%d' });
    taps.push(t);
    return t;
  };
  const links = (): string[] => ns.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname);

  it('spawn with an aborted signal starts nothing: no folder, no process', async () => {
    const reason = new Error('never mind');
    await expect(Qemu.spawn({ name: 'abpre', accel: 'tcg', memoryMiB: 64, cpus: 1, extraArgs: ['-S'], signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
    expect(existsSync(join(runDir, 'vm', 'abpre'))).toBe(false);
    const marked = readdirSync('/proc')
      .filter((d) => /^\d+$/u.test(d))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(join(runDir, 'vm', 'abpre'));
        } catch {
          return false;
        }
      });
    expect(marked).toEqual([]);
  });

  it('shutdown: an aborted signal leaves qemu running; an abort mid-way kills it before rejecting', async () => {
    const vm = await spawn('abshut');
    const reason = new Error('stop waiting');
    await expect(vm.shutdown({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(await vm.qmp.execute('query-status')).toMatchObject({ status: 'prelaunch' });

    // Mid-way: a paused qemu ignores the ACPI power button; abort once it has been pressed.
    const controller = new AbortController();
    const restore = afterCommand(vm.qmp, 'system_powerdown', () => controller.abort(reason));
    const started = Date.now();
    try {
      await expect(vm.shutdown({ timeoutMs: 120_000, signal: controller.signal })).rejects.toBe(reason);
    } finally {
      restore();
    }
    // Rejected only once qemu is gone, long before the power-down share of the timeout.
    expect(vm.running).toBe(false);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await vm.exited).toMatchObject({ signal: 'SIGKILL', reason: 'killed' });
    expect(reaped(vm.pid)).toBe(true);
    expect(existsSync(vm.folder)).toBe(false);
  });

  it('addNic with an aborted signal changes nothing; the control adds the NIC', async () => {
    const vm = await spawn('abadd');
    const t = await tap();
    const reason = new Error('not now');
    await expect(vm.addNic({ tap: t }, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(await devices(vm)).toEqual([]);
    expect(heldTaps(vm.pid)).toEqual([]);
    expect(t.closed).toBe(false);
    expect(vm.nics).toEqual([]);

    // Control: the same call, with a signal that does not fire.
    const nic = await vm.addNic({ tap: t }, { signal: new AbortController().signal });
    expect(await devices(vm)).toEqual([`${nic.id}.dev`]);
    expect(heldTaps(vm.pid)).toEqual([t.name]);
    expect(t.closed).toBe(true);
  });

  it.each([
    ['while getfd is in flight', 'getfd', 'sent'],
    ['once netdev_add is answered', 'netdev_add', 'answered'],
  ] as const)('addNic aborted %s is undone: no device, qemu holds no fd of the tap, the tap stays the caller’s', async (_, command, when) => {
    const vm = await spawn(`abadd${command.length}`);
    const t = await tap();
    const controller = new AbortController();
    const reason = new Error('orchestrator gave up');
    const restore = afterCommand(vm.qmp, command, () => controller.abort(reason), when);
    try {
      await expect(vm.addNic({ tap: t }, { signal: controller.signal })).rejects.toBe(reason);
    } finally {
      restore();
    }
    expect(await devices(vm)).toEqual([]);
    expect(heldTaps(vm.pid)).toEqual([]); // closefd / netdev_del ran: qemu let go of the tap
    expect(t.closed).toBe(false);
    expect(vm.nics).toEqual([]);
    expect(JSON.parse(readFileSync(join(vm.folder, 'spec.json'), 'utf8')).nics).toEqual([]);
    // The tap is the caller's alone: closing it removes the link.
    t.close();
    expect(links()).not.toContain(t.name);

    // Control: not aborted, the same hook in place, the NIC is added.
    const t2 = await tap();
    const again = new AbortController();
    const restore2 = afterCommand(vm.qmp, command, () => undefined, when);
    try {
      const nic = await vm.addNic({ tap: t2 }, { signal: again.signal });
      expect(await devices(vm)).toEqual([`${nic.id}.dev`]);
      expect(heldTaps(vm.pid)).toEqual([t2.name]);
    } finally {
      restore2();
    }
  });

  it('removeNic: an aborted signal sends nothing; an abort while the guest is waited for rejects at once, the NIC stays recorded', async () => {
    const vm = await spawn('abrm');
    const t = await tap();
    const nic = await vm.addNic({ tap: t });
    const events: string[] = [];
    vm.on('event', (e: QmpEvent) => events.push(e.event));
    const reason = new Error('enough');
    await expect(vm.removeNic(nic.id, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(await devices(vm)).toEqual([`${nic.id}.dev`]);

    // Mid-way: device_del is sent; with no guest to eject it, the device stays.
    const controller = new AbortController();
    const restore = afterCommand(vm.qmp, 'device_del', () => controller.abort(reason));
    const removing = vm.removeNic(nic.id, { timeoutMs: 4000, signal: controller.signal });
    restore();
    await expect(removing).rejects.toBe(reason);
    // The truth and the record agree: qemu still has the device and the tap, nics lists it.
    expect(await devices(vm)).toEqual([`${nic.id}.dev`]);
    expect(heldTaps(vm.pid)).toEqual([t.name]);
    expect(vm.nics.map((n) => n.id)).toEqual([nic.id]);
    expect(JSON.parse(readFileSync(join(vm.folder, 'spec.json'), 'utf8')).nics.map((n: { id: string }) => n.id)).toEqual([nic.id]);
    // A later removeNic joins the removal under way (no second device_del): it ends with it,
    // here at its 4 s timeout since no guest releases the device.
    const sent: string[] = [];
    const restore2 = afterCommand(vm.qmp, 'device_del', () => sent.push('device_del'), 'sent');
    try {
      await expect(vm.removeNic(nic.id)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    } finally {
      restore2();
    }
    expect(sent).toEqual([]);
    expect(vm.nics.map((n) => n.id)).toEqual([nic.id]);
    expect(events).not.toContain('DEVICE_DELETED');
  });

  it('a signal that is not an AbortSignal is refused before anything is sent', async () => {
    const vm = await spawn('abbad');
    const t = await tap();
    await expect(vm.addNic({ tap: t }, { signal: 'no' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(vm.removeNic('net0', { signal: {} as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(await devices(vm)).toEqual([]);
    await until('qemu still answers', () => vm.qmp.execute('query-status'), 10_000);
  });
});
