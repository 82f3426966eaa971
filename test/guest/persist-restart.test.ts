/**
 * An agent restart no guest notices (issue 8): a child process makes network 100 and a real
 * tcg guest, and is SIGKILLed. Host 2 pings the guest every 100 ms through the VXLAN
 * throughout and loses no reply; a new process opens the network; its router advertisements
 * resume with no lifetime-0 RA in between (dumpcap in a client namespace on the bridge) and
 * the client keeps its default route; Qemu.attach works (QMP), the new process shuts the
 * guest down over QMP, destroys the network, and nothing is left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureGuest, waitForGuestConsole, type GuestConsoleLine } from '../../testing/guest/index.js';
import { VxlanNetwork } from '../../lib/network.js';
import { joinWithVeth, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { Capture, type SeenAdvertisement } from '../helpers/ra-capture.js';
import { tempRunDir } from '../helpers/run-dir.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PREFIX = '2a0a:e5c1:111:888::/64';
const H1 = 'fd00:4790::1';
const H2 = 'fd00:4790::2';

/** Collects a child's stdout and stderr. */
function collect(child: ChildProcess): { out: string; err: string } {
  const io = { out: '', err: '' };
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    io.out += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    io.err += c;
  });
  return io;
}

describe.skipIf(skipUnlessRoot('agent restart guest test', ['/dev/net/tun']))('agent restart with a real guest', () => {
  let h1: TestNetns;
  let h2: TestNetns;
  let client: TestNetns;
  let runDir: string;
  const children: ChildProcess[] = [];
  let capture: Capture | undefined;

  beforeAll(() => {
    h1 = new TestNetns('vmprs');
    // The router forwards, as a platform host does: otherwise its answers to the client's
    // unreachability probes say IsRouter 0 and the client drops its default route (RFC 4861
    // §7.2.5; test/integration/persist-serve-destroy.test.ts).
    h1.sysctl('net.ipv6.conf.all.forwarding', 1);
    h2 = new TestNetns('vmprs');
    client = new TestNetns('vmprc');
    joinWithVeth(h1, 'eth0', h2, 'eth0');
    h1.ip('addr', 'add', `${H1}/64`, 'dev', 'eth0', 'nodad');
    h2.ip('addr', 'add', `${H2}/64`, 'dev', 'eth0', 'nodad');
    runDir = tempRunDir();
    // Host 2: the reference commands.
    h2.exec('sh', [
      '-ec',
      [
        'ip -6 link add vxlan100 type vxlan id 100 dstport 4789 group ff05::100 dev eth0 ttl 5',
        'ip link add br100 type bridge',
        'ip link set vxlan100 master br100 up ; ip link set br100 up',
        'ip addr add 2a0a:e5c1:111:888::2/64 dev br100',
      ].join('\n'),
    ]);
  });

  afterAll(async () => {
    await capture?.stop();
    for (const c of children) c.kill('SIGKILL');
    for (const dir of runDir ? readdirSync(join(runDir, 'vm')).map((n) => join(runDir, 'vm', n)) : []) {
      const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      if (pid > 0)
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    }
    h1?.cleanup();
    h2?.cleanup();
    client?.cleanup();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it('SIGKILL of the agent: no ping lost, RAs resume without a lifetime-0 RA, attach and QMP shutdown work, nothing left', async () => {
    const guest = await ensureGuest();
    const serial = join(runDir, 'console.log');
    const agent = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'persist-guest-agent.ts')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        VMPLUMB_RUN_DIR: runDir,
        NETNS: h1.name,
        NET_ID: '100',
        PREFIX,
        KERNEL: guest.kernel,
        INITRD: guest.initrd,
        APPEND: guest.append,
        SERIAL: serial,
      },
    });
    children.push(agent);
    const agentIo = collect(agent);
    await until('the agent to start the VM', () => agentIo.out.includes('\n') || agent.exitCode !== null, 120_000);
    expect(agent.exitCode, agentIo.err).toBeNull();
    const vm = JSON.parse(agentIo.out.trim()) as { address: string; pid: number; name: string };

    // A client host on the bridge, configured by the kernel's SLAAC from our RAs.
    h1.ip('link', 'add', 'cl0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
    h1.ip('link', 'set', 'cl0', 'master', 'br100', 'up');
    client.sysctl('net.ipv6.conf.eth0.accept_ra', 2);
    client.ip('link', 'set', 'eth0', 'up');
    const defaultRoute = (): string => client.ip('-6', 'route', 'show', 'default').trim();
    await until("the client's default route from our RAs", () => defaultRoute() !== '', 60_000);

    await waitForGuestConsole(serial, (l): l is Extract<GuestConsoleLine, { kind: 'addr' }> => l.kind === 'addr' && l.scope === 'global', {
      timeoutMs: 240_000,
    });
    // Reachable from host 2 before the clock starts (neighbour discovery across the tunnel).
    await until(
      'a first ping reply from host 2',
      () => {
        try {
          h2.exec('ping', ['-6', '-n', '-c', '1', '-W', '1', vm.address]);
          return true;
        } catch {
          return false;
        }
      },
      60_000,
    );

    // RAs on the client's link, with their router lifetime, from now until before destroy().
    capture = new Capture(client, 'eth0');
    await capture.ready;
    const ras = (): SeenAdvertisement[] => capture!.advertisements();

    // 200 pings, one every 100 ms (20 s): the kill and the restart happen in the middle.
    const ping = spawn('ip', ['netns', 'exec', h2.name, 'ping', '-6', '-n', '-c', '200', '-i', '0.1', '-W', '5', vm.address], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(ping);
    const pingIo = collect(ping);
    const pinged = new Promise<number | null>((resolve) => ping.on('close', (code) => resolve(code)));
    // The agent's RAs reach the client before it is killed (unsolicited ones come every 3-5 s).
    await until('an RA from the agent', () => ras().length > 0, 20_000);

    agent.kill('SIGKILL');
    await new Promise((resolve) => agent.once('close', resolve));
    expect(existsSync(`/proc/${vm.pid}`)).toBe(true);
    const killedAt = Date.now();

    const net = await VxlanNetwork.open({ id: 100, netns: h1.name, runDir });
    const openedAt = Date.now();
    expect(net.vmList.map((v) => [v.name, v.pid, v.address])).toEqual([[vm.name, vm.pid, vm.address]]);
    expect(await net.vmList[0]!.qmp.execute('query-status')).toMatchObject({ status: 'running' });

    expect(await pinged).toBe(0);
    expect(pingIo.out).toMatch(/200 packets transmitted, 200 received, 0% packet loss/u);

    await until('an RA from the new process', () => ras().some((r) => r.at >= openedAt), 10_000);
    await capture.stop();
    // Positive control: RAs were seen before the kill too, and none of them said "lifetime 0".
    expect(ras().some((r) => r.at < killedAt)).toBe(true);
    expect(ras().filter((r) => r.routerLifetime === 0)).toEqual([]);
    expect(defaultRoute()).not.toBe('');

    // The new process shuts the guest down over QMP and removes everything.
    const exit = await net.vmList[0]!.stop({ timeoutMs: 20_000 });
    expect(exit.reason).toMatch(/guest-shutdown|host-qmp-quit|killed/u);
    await net.destroy({ timeoutMs: 2000 });
    h1.ip('link', 'del', 'cl0');
    // qemu's parent was the killed agent: init reaps it, a moment after the pidfd saw the exit.
    await until(
      'qemu to be reaped',
      () => {
        try {
          return /^State:\s*Z/mu.test(readFileSync(`/proc/${vm.pid}/status`, 'utf8'));
        } catch {
          return true; // gone
        }
      },
      10_000,
    );
    expect(
      h1
        .ipJson<{ ifname: string }[]>('link', 'show')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['eth0', 'lo']);
    expect(readdirSync(join(runDir, 'vm'))).toEqual([]);
    expect((await VxlanNetwork.list({ runDir })).length).toBe(0);
  }, 600_000);
});
