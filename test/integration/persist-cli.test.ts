/**
 * The daemonless commands as child processes against the kernel and qemu (-S, no guest):
 * `net create` records a network and returns; `vmplumb serve` advertises it (rdisc6 in a
 * client namespace hears it) and a restart hands over; `vm start` returns with the VM
 * running; `vm list`/`vm status` report it as qemu says; `vm stop` stops it from another
 * process; `net destroy` removes everything; `gc` finds nothing left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { joinWithVeth, runAsync, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { tempRunDir } from '../helpers/run-dir.js';

/** `vmplumb …args --run-dir runDir`, run to its end. */
const cli = (args: string[], runDir: string): ReturnType<typeof runCli> => runCli([...args, '--run-dir', runDir]);

describe.skipIf(skipUnlessRoot('daemonless CLI tests', ['/dev/net/tun']))('vmplumb net create / vm start / serve / gc', () => {
  let host: TestNetns;
  let peer: TestNetns;
  let client: TestNetns;
  let runDir: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    host = new TestNetns('vmpcl');
    peer = new TestNetns('vmpcl');
    client = new TestNetns('vmpclc');
    joinWithVeth(host, 'eth0', peer, 'eth0');
    runDir = tempRunDir();
    writeFileSync(join(runDir, 'empty.img'), Buffer.alloc(1 << 20));
  });

  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    host?.cleanup();
    peer?.cleanup();
    client?.cleanup();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it('creates, serves, starts, lists, stops and destroys across processes', async () => {
    const created = await cli(['net', 'create', '--id', '100', '--dev', 'eth0', '--prefix', '2001:db8:100::/64', '--netns', host.name, '--json'], runDir);
    expect(created.code, created.err).toBe(0);
    expect(host.ipJson('link', 'show', 'dev', 'vxlan100')[0].master).toBe('br100');

    let list = JSON.parse((await cli(['net', 'list', '--json'], runDir)).out) as Array<{
      id: number;
      condition: string;
      managed: boolean;
      advertised: boolean;
    }>;
    expect(list).toEqual([expect.objectContaining({ id: 100, condition: 'ok', managed: false, advertised: false })]);

    // serve takes the RAs over; a client on the bridge hears them.
    host.ip('link', 'add', 'cl0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
    host.ip('link', 'set', 'cl0', 'master', 'br100', 'up');
    client.ip('link', 'set', 'eth0', 'up');
    const serve = spawn(process.execPath, [...CLI, 'serve', '--run-dir', runDir, '--interval', '200'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(serve);
    await until('serve to advertise network 100', async () => {
      const l = JSON.parse((await cli(['net', 'list', '--json'], runDir)).out) as Array<{ advertised: boolean }>;
      return l[0]?.advertised === true;
    });
    await until('the client link-local address', () => client.linkLocal('eth0') !== undefined);
    const heard = await runAsync('ip', ['netns', 'exec', client.name, 'rdisc6', '-1', '-r', '3', '-w', '2000', 'eth0']);
    expect(heard).toMatch(/Prefix\s+:\s+2001:db8:100::\/64/u);
    expect(heard).toMatch(/Router lifetime\s+:\s+3600/u);

    const started = await cli(
      [
        'vm',
        'start',
        '--net',
        '100',
        '--id',
        '1',
        '--netns',
        host.name,
        '--disk',
        join(runDir, 'empty.img'),
        '--memory',
        '64',
        '--cpus',
        '1',
        '--accel',
        'tcg',
        '--paused',
        '--json',
      ],
      runDir,
    );
    expect(started.code, started.err).toBe(0);
    const vm = JSON.parse(started.out) as { name: string; pid: number; tap: string };
    expect(host.ipJson('link', 'show', 'dev', vm.tap)[0].master).toBe('br100');
    const status = JSON.parse((await cli(['vm', 'status', vm.name, '--json'], runDir)).out) as {
      state: string;
      pid: number;
      status: string;
      portSecurity: { port: string; counters: Array<{ name: string; verdict: string; packets: number }> } | null;
    };
    expect(status).toMatchObject({ state: 'paused', pid: vm.pid, status: 'prelaunch' });
    // The guard's counters, read from the kernel by another process; nft sees the same chains.
    expect(status.portSecurity?.port).toBe(vm.tap);
    expect(status.portSecurity?.counters.map((c) => c.name)).toContain('router-advertisement');
    const nft = JSON.parse(await runAsync('ip', ['netns', 'exec', host.name, 'nft', '-j', 'list', 'chains', 'netdev'])) as {
      nftables: Array<{ chain?: { name: string } }>;
    };
    expect(nft.nftables.some((o) => o.chain?.name === vm.tap)).toBe(true);
    const vms = JSON.parse((await cli(['vm', 'list', '--json'], runDir)).out) as Array<{ name: string }>;
    expect(vms.map((v) => v.name)).toEqual([vm.name]);
    expect((await cli(['vm', 'status', 'nosuchvm'], runDir)).code).toBe(1);

    // Restart serve: a handover, the network is served again by the next instance.
    serve.kill('SIGTERM');
    await new Promise((resolve) => serve.once('close', resolve));
    list = JSON.parse((await cli(['net', 'list', '--json'], runDir)).out);
    expect(list[0]?.advertised).toBe(false);

    const stopped = await cli(['vm', 'stop', vm.name, '--timeout', '1000'], runDir);
    expect(stopped.code, stopped.err).toBe(0);
    await until('qemu to be gone', () => {
      try {
        process.kill(vm.pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    expect(readdirSync(join(runDir, 'vm'))).toEqual([]);

    const destroyed = await cli(['net', 'destroy', '--id', '100', '--netns', host.name], runDir);
    expect(destroyed.code, destroyed.err).toBe(0);
    host.ip('link', 'del', 'cl0');
    expect(
      host
        .ipJson<Array<{ ifname: string }>>('link', 'show')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['eth0', 'lo']);
    const gc = JSON.parse((await cli(['gc', '--json'], runDir)).out) as { vms: string[]; networks: string[] };
    expect(gc).toMatchObject({ vms: [], networks: [] });
    expect(JSON.parse((await cli(['net', 'list', '--json'], runDir)).out)).toEqual([]);
  }, 300_000);
});
