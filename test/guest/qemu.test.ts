/**
 * qemu for real, under TCG: one boot of the tiny test guest (testing/guest) on a tap in a test
 * namespace whose bridge has an address and radvd as the router, plus a few qemu starts with
 * -S and no guest at all for start-up errors and a hung qemu.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureGuest, guestBootOptions, waitForGuestConsole, type Guest } from '../../testing/guest/index.js';
import { eui64Address } from '../../lib/mac.js';
import { Qemu, QemuExitedError, type QemuExit, type QmpEvent } from '../../lib/qemu/index.js';
import { openTap, type Tap } from '../../lib/tap.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { TestNetns } from '../helpers/netns.js';
import { heldTaps, reaped, running } from '../helpers/proc.js';
import { until } from '../helpers/poll.js';

const PREFIX = '2001:db8:77::/64';
/**
 * shutdown({ timeoutMs }) promises qemu is gone at the timeout. Checked with room for the
 * kernel to reap qemu on a loaded machine, yet far below the 30 s default a dropped option
 * would fall back to.
 */
const SHUTDOWN_MARGIN_MS = 5000;

describe.skipIf(skipUnlessRoot('qemu guest tests', ['/dev/net/tun']))('qemu', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmptap-guest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('without a guest (-S)', () => {
    let sns: TestNetns;
    beforeAll(() => {
      sns = new TestNetns('vmptap');
    });
    afterAll(() => sns?.cleanup());

    it('hands a multiqueue tap over as fds=3:4 with mq=on, all queues attached', async () => {
      const tap = await openTap({ netns: sns.name, name: 'vmptmq%d', queues: 2 });
      const vm = await Qemu.spawn({ name: 'mq', accel: 'tcg', memoryMiB: 64, cpus: 1, nics: [{ tap }], extraArgs: ['-S'] });
      try {
        expect(vm.argv).toContain('tap,id=net0,fds=3:4');
        expect(heldTaps(vm.pid)).toEqual([tap.name, tap.name]);
        expect(heldTaps('self')).not.toContain(tap.name);
        const info = sns.ipJson<Array<{ linkinfo: { info_data: { multi_queue: boolean; numqueues: number; numdisabled: number } } }>>(
          '-d',
          'link',
          'show',
          'dev',
          tap.name,
        );
        // Both queues are qemu's; until the guest's driver enables the second, qemu keeps it
        // detached (TUNSETQUEUE IFF_DETACH_QUEUE), which the kernel counts as disabled.
        const data = info[0]?.linkinfo.info_data;
        expect(data?.multi_queue).toBe(true);
        expect((data?.numqueues ?? 0) + (data?.numdisabled ?? 0)).toBe(2);
        const mq = await vm.qmp.execute('qom-get', { path: '/machine/peripheral/net0.dev', property: 'mq' });
        expect(mq).toBe(true);
      } finally {
        vm.kill();
        expect(await vm.exited).toMatchObject({ signal: 'SIGKILL', reason: 'killed' });
      }
      expect(sns.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).not.toContain(tap.name);
    });

    it("emits 'exit' once, and `await using` ends qemu at the end of the scope", async () => {
      const exits: QemuExit[] = [];
      let pid: number;
      {
        await using vm = await Qemu.spawn({ name: 'scoped', accel: 'tcg', memoryMiB: 64, cpus: 1, extraArgs: ['-S'] });
        pid = vm.pid;
        vm.on('exit', (exit: QemuExit) => exits.push(exit));
        expect(running(pid)).toBe(true);
      }
      expect(running(pid)).toBe(false);
      expect(reaped(pid)).toBe(true);
      expect(exits).toHaveLength(1);
      expect(exits[0]).toMatchObject({ reason: expect.any(String) });
    }, 30_000);

    it("rejects with qemu's own error text when qemu exits before QMP is ready", async () => {
      const error = await Qemu.spawn({ name: 'early', accel: 'tcg', memoryMiB: 64, cpus: 1, extraArgs: ['-no-such-option'] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QemuExitedError);
      expect(error).toMatchObject({ code: 'ERR_QEMU_EXITED', exit: { code: 1 } });
      expect(String((error as Error).message)).toMatch(/qemu exited with code 1 before QMP was ready: .*-no-such-option.*invalid option/s);
    });

    it('times a command to a hung qemu out, and shutdown still ends it within the timeout', async () => {
      const vm = await Qemu.spawn({ name: 'hung', accel: 'tcg', memoryMiB: 64, cpus: 1, extraArgs: ['-S'] });
      const events: string[] = [];
      vm.on('event', (e: QmpEvent) => events.push(e.event));
      expect(await vm.qmp.execute('query-status')).toMatchObject({ status: 'prelaunch', running: false });
      await vm.qmp.execute('cont');
      process.kill(vm.pid, 'SIGSTOP');
      await expect(vm.qmp.execute('query-status', undefined, { timeoutMs: 300 })).rejects.toMatchObject({
        code: 'ETIMEDOUT',
        message: expect.stringMatching(/query-status: no reply within 300 ms \(is qemu hung\?\)/),
      });
      const started = Date.now();
      const exit = await vm.shutdown({ timeoutMs: 2000 });
      const elapsed = Date.now() - started;
      expect(exit).toEqual({ code: null, signal: 'SIGKILL', reason: 'killed' });
      // Powerdown and quit each had their share before the kill (a wait cannot end early).
      expect(elapsed).toBeGreaterThanOrEqual(1600);
      // The contract: done at the timeout, not at the 30 s default; the margin is for reaping
      // on a loaded machine (how fast is `npm run bench:qemu`'s business).
      expect(elapsed).toBeLessThan(2000 + SHUTDOWN_MARGIN_MS);
      expect(events).toContain('RESUME');
      expect(reaped(vm.pid)).toBe(true);
      expect(vm.running).toBe(false);
    });
  });

  describe('a booted guest', () => {
    let ns: TestNetns;
    let radvd: ChildProcess | undefined;
    let guest: Guest;
    let tap: Tap;
    let vm: Qemu;
    const serial = join(dir, 'serial.log');
    const mac = '02:00:f0:a9:c4:4e';
    const events: QmpEvent[] = [];

    beforeAll(async () => {
      guest = await ensureGuest();
      ns = new TestNetns('vmptap');
      ns.ip('link', 'add', 'br0', 'type', 'bridge');
      ns.ip('link', 'set', 'br0', 'up');
      ns.ip('addr', 'add', '2001:db8:77::1/64', 'dev', 'br0');
      const conf = join(dir, 'radvd.conf');
      writeFileSync(conf, `interface br0 {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 5;\n  prefix ${PREFIX} { };\n};\n`);
      radvd = spawn(
        'ip',
        ['netns', 'exec', ns.name, 'radvd', '--nodaemon', '-C', conf, '-p', join(dir, 'radvd.pid'), '-m', 'logfile', '-l', join(dir, 'radvd.log')],
        { stdio: 'ignore' },
      );

      tap = await openTap({ netns: ns.name });
      ns.ip('link', 'set', tap.name, 'master', 'br0', 'up');
      vm = await Qemu.spawn({
        name: 'vmptap-guest',
        machine: 'q35',
        ...guestBootOptions(guest, serial),
        nics: [{ tap, mac }],
      });
      vm.on('event', (e: QmpEvent) => events.push(e));
    }, 180_000);

    afterAll(async () => {
      if (vm?.running) vm.kill();
      await vm?.exited;
      if (radvd?.pid !== undefined && radvd.exitCode === null) radvd.kill('SIGTERM');
      ns?.cleanup();
    });

    it('hands the tap to qemu: qemu holds it and the library no longer does', () => {
      expect(tap.closed).toBe(true);
      expect(heldTaps(vm.pid)).toEqual([tap.name]);
      expect(readFileSync(`/proc/${vm.pid}/fdinfo/3`, 'utf8')).toMatch(new RegExp(`^iff:\\s*${tap.name}$`, 'mu'));
      expect(heldTaps('self')).not.toContain(tap.name);
    });

    it('answers QMP query-status with running', async () => {
      expect(await vm.qmp.execute('query-status')).toMatchObject({ status: 'running', running: true });
    });

    it('the guest configures the predicted EUI-64 address by SLAAC and answers ping from the bridge', async () => {
      const address = eui64Address(PREFIX, mac);
      const line = await waitForGuestConsole(serial, (l) => l.kind === 'addr' && l.address === address, { timeoutMs: 150_000 });
      expect(line).toMatchObject({ ifname: 'eth0', prefixLength: 64, scope: 'global' });
      const ping = await ns.pingUntilReply(address);
      expect(ping).toMatch(/\b[12] received/);
    }, 180_000);

    it('a hot-plugged second NIC shows up in the guest, and goes again on removal', async () => {
      const tap2 = await openTap({ netns: ns.name, name: 'vmphot%d', queues: 2 });
      // An unrelated child started while the library holds tap2 inherits none of its fds.
      const script = 'for f in /proc/$$/fdinfo/*; do grep -h "^iff:" "$f" 2>/dev/null; done; true';
      expect(spawnSync('sh', ['-c', script], { encoding: 'utf8' }).stdout).toBe('');
      ns.ip('link', 'set', tap2.name, 'master', 'br0', 'up');
      const nic = await vm.addNic({ tap: tap2 });
      expect(nic).toMatchObject({ id: 'net1', tapName: tap2.name, queues: 2, hotplugged: true, port: 'vmphp0' });
      expect(tap2.closed).toBe(true);
      expect(heldTaps(vm.pid).filter((n) => n === tap2.name)).toHaveLength(2);
      expect(heldTaps('self')).not.toContain(tap2.name);
      const link = await waitForGuestConsole(serial, (l) => l.kind === 'link' && l.mac === nic.mac, { timeoutMs: 60_000 });
      expect(link).toMatchObject({ ifname: 'eth1' });
      await waitForGuestConsole(serial, (l) => l.kind === 'addr' && l.address === eui64Address(PREFIX, nic.mac), { timeoutMs: 60_000 });

      // A device qemu refuses is rolled back: no netdev left, the tap still the caller's.
      const tap3 = await openTap({ netns: ns.name, name: 'vmpbad%d' });
      try {
        await expect(vm.addNic({ tap: tap3, model: 'no-such-nic' })).rejects.toMatchObject({ name: 'QmpError', command: 'device_add' });
        expect(tap3.closed).toBe(false);
        expect(heldTaps(vm.pid)).not.toContain(tap3.name);
        expect(vm.nics.map((n) => n.id)).toEqual(['net0', 'net1']);
      } finally {
        tap3.close();
      }

      await vm.removeNic(nic.id, { timeoutMs: 60_000 });
      expect(events.some((e) => e.event === 'DEVICE_DELETED' && e.data?.device === 'net1.dev')).toBe(true);
      expect(heldTaps(vm.pid)).not.toContain(tap2.name);
      expect(ns.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).not.toContain(tap2.name);
    }, 150_000);

    it('removeNic aborted after device_del rejects at once; the guest still releases the NIC and it goes in the background', async () => {
      const tap4 = await openTap({ netns: ns.name, name: 'vmpabr%d' });
      ns.ip('link', 'set', tap4.name, 'master', 'br0', 'up');
      const nic = await vm.addNic({ tap: tap4 });
      // The guest names it eth1 again, which its console does not report twice: ask qemu
      // instead whether the guest's virtio driver has taken the device (status DRIVER_OK).
      await until(
        "the guest's driver on the new NIC",
        async () =>
          JSON.stringify(await vm.qmp.execute('x-query-virtio-status', { path: `/machine/peripheral/${nic.id}.dev/virtio-backend` })).includes('DRIVER_OK'),
        90_000,
      );
      const controller = new AbortController();
      const reason = new Error('stop waiting for the guest');
      const execute = vm.qmp.execute.bind(vm.qmp);
      vm.qmp.execute = (async (command: string, args?: Record<string, unknown>, options?: object) => {
        const reply = execute(command, args, options);
        if (command === 'device_del') await reply.then(() => controller.abort(reason));
        return reply;
      }) as typeof vm.qmp.execute;
      try {
        await expect(vm.removeNic(nic.id, { timeoutMs: 90_000, signal: controller.signal })).rejects.toBe(reason);
      } finally {
        vm.qmp.execute = execute;
      }
      // Heard before the guest could answer: the NIC is still there, and recorded.
      expect(vm.nics.map((n) => n.id)).toContain(nic.id);
      // The removal goes on: DEVICE_DELETED, netdev_del, qemu lets go of the tap.
      await until('the NIC removed in the background', () => !vm.nics.some((n) => n.id === nic.id), 90_000);
      expect(events.some((e) => e.event === 'DEVICE_DELETED' && e.data?.device === `${nic.id}.dev`)).toBe(true);
      expect(heldTaps(vm.pid)).not.toContain(tap4.name);
      expect(ns.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).not.toContain(tap4.name);
    }, 150_000);

    it('a guest that ignores ACPI is stopped within the timeout; the tap goes with qemu; no zombie', async () => {
      const started = Date.now();
      const timeoutMs = 8000;
      const exit = await vm.shutdown({ timeoutMs });
      const elapsed = Date.now() - started;
      // The guest has no handler for the power button: POWERDOWN reached it and was ignored for
      // the power-down share of the timeout (60 %); then `quit` ended qemu, or, when a loaded
      // machine made qemu slower than the quit share (25 %), SIGKILL did. Either way: in time.
      expect(events.some((e) => e.event === 'POWERDOWN')).toBe(true);
      expect([
        { code: 0, signal: null, reason: 'host-qmp-quit' },
        { code: null, signal: 'SIGKILL', reason: 'killed' },
      ]).toContainEqual(exit);
      expect(elapsed).toBeGreaterThanOrEqual(timeoutMs * 0.6 - 100);
      expect(elapsed).toBeLessThan(timeoutMs + SHUTDOWN_MARGIN_MS);
      expect(reaped(vm.pid)).toBe(true);
      expect(ns.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).not.toContain(tap.name);
      expect(await vm.shutdown()).toBe(exit); // idempotent
    }, 30_000);
  });
});
