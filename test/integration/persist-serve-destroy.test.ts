/**
 * `net destroy` of a network whose router advertisements `vmplumb serve` sends (issue 8, RFC
 * 4861 §6.2.5): serve lets go on seeing the record say 'destroying', the destroying process
 * sends the one final RA itself before it deletes the bridge, and serve goes on serving the
 * other networks. Restarting serve sends no final RA. A real client namespace on each bridge
 * (the kernel's own RA handling: its default route) and dumpcap are the oracle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { VxlanNetwork } from '../../lib/network.js';
import { joinWithVeth, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { tempRunDir } from '../helpers/run-dir.js';
import { Capture } from '../helpers/ra-capture.js';

/** `vmplumb …args --run-dir runDir`, run to its end. */
const cli = (args: string[], runDir: string): ReturnType<typeof runCli> => runCli([...args, '--run-dir', runDir]);

/** Router lifetime (seconds) of each captured RA, in order. */
const lifetimes = (capture: Capture): number[] => capture.packets().map((p) => p.payload.readUInt16BE(6));

/** The client's default routes (via the router's link-local address). */
const defaultRoutes = (client: TestNetns): Array<{ gateway?: string }> => client.ipJson('-6', 'route', 'show', 'default');

describe.skipIf(skipUnlessRoot('serve and destroy across processes'))('net destroy while vmplumb serve advertises', () => {
  let host: TestNetns;
  let peer: TestNetns;
  const clients: TestNetns[] = [];
  const captures: Capture[] = [];
  let runDir: string;
  let serve: ChildProcess | undefined;
  let serveLog = '';

  beforeAll(async () => {
    host = new TestNetns('vmpsd');
    // The router forwards, as a platform host does. A namespace that does not answers the
    // clients' unreachability probes with IsRouter 0, and a client then drops the default
    // route it has through it (RFC 4861 §7.2.5) whatever the RAs said: seen under load, when
    // the test ran long enough for a probe.
    host.sysctl('net.ipv6.conf.all.forwarding', 1);
    peer = new TestNetns('vmpsdp');
    joinWithVeth(host, 'eth0', peer, 'eth0');
    runDir = tempRunDir();
    for (const id of [100, 101]) {
      // Recorded and handed over (no final RA): serve advertises them from then on.
      const net = await VxlanNetwork.create({ id, underlay: 'eth0', prefix: `2001:db8:${id}::/64`, netns: host.name, runDir });
      await net.close();
      const client = new TestNetns('vmpsdc');
      clients.push(client);
      host.ip('link', 'add', `cl${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
      host.ip('link', 'set', `cl${id}`, 'master', `br${id}`, 'up');
      client.ip('link', 'set', 'eth0', 'up');
    }
  });

  afterAll(async () => {
    serve?.kill('SIGKILL');
    for (const c of captures) await c.stop();
    for (const c of clients) c.cleanup();
    host?.cleanup();
    peer?.cleanup();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it('sends exactly one final RA, before the bridge goes; serve keeps serving the other network; a serve restart sends none', async () => {
    const [client100, client101] = clients as [TestNetns, TestNetns];
    const [cap100, cap101] = [new Capture(client100, 'eth0'), new Capture(client101, 'eth0')];
    captures.push(cap100, cap101);
    await Promise.all([cap100.ready, cap101.ready]);
    // A long scan interval: serve must see the destroy through the record folder at once.
    serve = spawn(process.execPath, [...CLI, 'serve', '--run-dir', runDir, '--interval', '20000'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    serve.stderr!.setEncoding('utf8').on('data', (d: string) => (serveLog += d));
    // Both clients take the router as their default router from serve's RAs.
    const router100 = await until('client 100 to route via the router', () => defaultRoutes(client100)[0]?.gateway, { timeoutMs: 90_000 });
    await until('client 101 to route via the router', () => defaultRoutes(client101)[0]?.gateway, { timeoutMs: 90_000 });
    expect(router100).toBe(host.linkLocal('br100'));
    expect(lifetimes(cap100).every((l) => l === 3600)).toBe(true);

    const destroyed = await cli(['net', 'destroy', '--id', '100', '--netns', host.name], runDir);
    expect(destroyed.code, destroyed.err).toBe(0);
    expect(host.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).not.toContain('br100');
    // Exactly one RA with router lifetime 0, and it is the last one: it left before the bridge
    // was deleted (no RA can leave a bridge that is gone), and nothing re-announced the router after it.
    await until('the final RA at client 100', () => lifetimes(cap100).includes(0), { timeoutMs: 10_000 });
    const seen = lifetimes(cap100);
    expect(seen.filter((l) => l === 0)).toEqual([0]);
    expect(seen.at(-1)).toBe(0);
    // The client withdrew its default route at once, instead of keeping it for 3600 s.
    await until('client 100 to drop its default route', () => defaultRoutes(client100).length === 0, { timeoutMs: 10_000 });
    // serve let go without a final RA of its own (the one above is the destroyer's).
    await until('serve to let network 100 go', () => /network 100 handed over/u.test(serveLog), { timeoutMs: 10_000 });
    expect(serveLog).not.toMatch(/final RAs sent/u);

    // Positive control: network 101 is still served: new RAs with lifetime 3600, default route kept.
    const before = cap101.packets().length;
    await until('another RA on network 101', () => cap101.packets().length > before, { timeoutMs: 30_000 });
    expect(lifetimes(cap101).every((l) => l === 3600)).toBe(true);
    expect(defaultRoutes(client101)[0]?.gateway).toBe(host.linkLocal('br101'));

    // A serve restart hands over: no lifetime-0 RA.
    serve.kill('SIGTERM');
    await new Promise((resolve) => serve!.once('close', resolve));
    serve = undefined;
    expect(lifetimes(cap101).every((l) => l === 3600)).toBe(true);
    expect(defaultRoutes(client101)[0]?.gateway).toBe(host.linkLocal('br101'));

    // Without serve, net destroy advertises it itself for the occasion: again one final RA.
    const gone = await cli(['net', 'destroy', '--id', '101', '--netns', host.name], runDir);
    expect(gone.code, gone.err).toBe(0);
    await until('the final RA at client 101', () => lifetimes(cap101).includes(0), { timeoutMs: 10_000 });
    expect(lifetimes(cap101).filter((l) => l === 0)).toEqual([0]);
    await until('client 101 to drop its default route', () => defaultRoutes(client101).length === 0, { timeoutMs: 10_000 });
  }, 300_000);
});
