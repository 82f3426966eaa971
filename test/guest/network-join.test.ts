/**
 * VxlanNetwork.join with a real guest: another process (`vmplumb net up`, a child) makes
 * network 100 in host 1 and sends its RAs; this process joins it by id (bridge br100, the
 * prefix read from br100's global /64) and starts a VM in it. The guest boots (tcg) and must
 * configure `vm.address` from the other process's RAs through the joined bridge, whose port the
 * tap is (`ip -j -d`). join's contract: the handle owns only the VMs it starts, so its
 * destroy() stops the VM and removes the tap but leaves the network (links, address, the other
 * process's RAs) to its maker, which still tears it down on Ctrl-C.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureGuest, guestBootOptions, waitForGuestConsole, type GuestConsoleLine } from '../../testing/guest/index.js';
import { eui64Address, macForVm } from '../../lib/mac.js';
import { VxlanNetwork, type NetworkVm } from '../../lib/network.js';
import { twoHostsWithVeth } from '../helpers/hosts.js';
import type { TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { reaped, running } from '../helpers/proc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PREFIX = '2a0a:e5c1:111:888::/64';
const BOOT_TIMEOUT_MS = 240_000;

interface LinkJson {
  ifname: string;
  master?: string;
  flags: string[];
  linkinfo?: { info_kind?: string; info_slave_kind?: string };
}

describe.skipIf(skipUnlessRoot('VxlanNetwork.join with a guest', ['/dev/net/tun']))('VxlanNetwork.join: a VM in a network another process made', () => {
  let h1: TestNetns;
  let h2: TestNetns;
  let work: string;
  let maker: { child: ChildProcessWithoutNullStreams; out: () => string; done: Promise<number | null> } | undefined;
  let joined: VxlanNetwork | undefined;
  let vm: NetworkVm | undefined;

  beforeAll(async () => {
    await ensureGuest();
    work = mkdtempSync(join(tmpdir(), 'vmpjoin-'));
    [h1, h2] = twoHostsWithVeth('vmpjoin', 'fd00:4789::1/64', 'fd00:4789::2/64');
    // The other process: the command, through tsx, with this file's run directory (inherited).
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'lib', 'cli.ts'), 'net', 'up', '--id', '100', '--dev', 'eth0', '--prefix', PREFIX, '--netns', h1.name],
      { cwd: ROOT, stdio: 'pipe' },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    maker = { child, out: () => out, done: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
    await until('"network 100 up" from vmplumb net up', () => out.includes('press Ctrl-C') || child.exitCode !== null, 60_000);
    expect(child.exitCode, out).toBeNull();
  }, 300_000);

  afterAll(async () => {
    await joined?.destroy({ timeoutMs: 2000 }).catch(() => undefined);
    if (maker && maker.child.exitCode === null) maker.child.kill('SIGKILL');
    await maker?.done;
    h1?.cleanup();
    h2?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it(
    'the guest takes vm.address from the maker’s RAs through the joined bridge; destroy() leaves the network',
    async () => {
      const guest = await ensureGuest();
      joined = await VxlanNetwork.join({ id: 100, netns: h1.name });
      // Found by id: br100, the prefix and router address from br100's global /64.
      expect(joined).toMatchObject({ bridgeName: 'br100', prefix: PREFIX, routerAddress: '2a0a:e5c1:111:888::1' });

      const serial = join(work, 'vm1.console');
      vm = await joined.startVm({ id: 1, ...guestBootOptions(guest, serial) });
      expect(vm.address).toBe(eui64Address(PREFIX, macForVm(1)));
      // The tap is a port of the maker's bridge, up (the kernel's view).
      const [tap] = h1.ipJson<LinkJson[]>('-d', 'link', 'show', 'dev', vm.tap);
      expect(tap).toMatchObject({ ifname: 'vm1n100', master: 'br100', linkinfo: { info_kind: 'tun', info_slave_kind: 'bridge' } });
      expect(tap!.flags).toContain('UP');

      // The guest's own SLAAC: only the maker sends RAs on br100 (a joined network sends none).
      const addr = await waitForGuestConsole(serial, (l): l is Extract<GuestConsoleLine, { kind: 'addr' }> => l.kind === 'addr' && l.scope === 'global', {
        timeoutMs: BOOT_TIMEOUT_MS,
      });
      expect(`${addr.address}/${addr.prefixLength}`).toBe(`${vm.address}/64`);
      const route = await waitForGuestConsole(serial, (l): l is Extract<GuestConsoleLine, { kind: 'route' }> => l.kind === 'route', { timeoutMs: 60_000 });
      expect(route.via).toBe(h1.linkLocal('br100'));

      // destroy(): the VM and its tap go, the network stays with its maker.
      const pid = vm.pid;
      await joined.destroy({ timeoutMs: 2000 });
      await until('qemu reaped', () => !running(pid) && reaped(pid), 30_000);
      const links = h1.ipJson<LinkJson[]>('-d', 'link', 'show');
      expect(links.map((l) => l.ifname)).not.toContain('vm1n100');
      expect(links.find((l) => l.ifname === 'vxlan100')).toMatchObject({ master: 'br100', linkinfo: { info_kind: 'vxlan' } });
      expect(links.find((l) => l.ifname === 'br100')?.flags).toContain('UP');
      const addresses = h1.ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>('-6', 'addr', 'show', 'dev', 'br100', 'scope', 'global');
      expect(addresses[0]?.addr_info).toContainEqual(expect.objectContaining({ local: '2a0a:e5c1:111:888::1', prefixlen: 64 }));
      expect(maker!.child.exitCode).toBeNull();

      // The maker still owns it: Ctrl-C tears it down (exit 130), nothing of 100 is left.
      maker!.child.kill('SIGINT');
      expect(await maker!.done).toBe(130);
      expect(
        h1
          .ipJson<LinkJson[]>('link', 'show')
          .map((l) => l.ifname)
          .sort(),
      ).toEqual(['eth0', 'lo']);
    },
    BOOT_TIMEOUT_MS + 120_000,
  );
});
