/**
 * 300 VxlanNetworks created and destroyed concurrently in one namespace, as an orchestrator
 * does it (Promise.all). The oracles are the kernel's: `ip -j link` for the links, and a client
 * namespace plugged into a sample of the bridges whose own kernel learns a default route from
 * our RAs and drops it only on a final RA (router lifetime 0; otherwise the route would stay
 * for the advertised 3600 s). Afterwards the process holds the descriptors and timers it
 * held before.
 */
import { readdirSync, readlinkSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { VxlanNetwork } from '../../lib/network.js';
import { TestNetns, joinWithVeth } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { until } from '../helpers/poll.js';

const NETWORKS = 300;
const FIRST = 2000;
const SAMPLE = [FIRST, FIRST + 101, FIRST + 202, FIRST + NETWORKS - 1];

const fds = (): number => readdirSync('/proc/self/fd').length;
/** Descriptors on files of the run directory: each recorded network holds its flock(2) locks open. */
const runDirFds = (): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(process.env.VMPLUMB_RUN_DIR ?? '/run/vmplumb');
    } catch {
      return false;
    }
  }).length;
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe.skipIf(skipUnlessRoot('VxlanNetwork scale test'))('300 networks in one namespace', () => {
  let host: TestNetns;
  let client: TestNetns;

  beforeAll(() => {
    host = new TestNetns('vmpscale');
    client = new TestNetns('vmpscalec');
    host.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    host.ip('addr', 'add', 'fd00:4789::1/64', 'dev', 'eth0', 'nodad');
    host.ip('link', 'set', 'eth0', 'up');
    host.ip('link', 'set', 'eth0p', 'up');
  });

  afterAll(() => {
    host?.cleanup();
    client?.cleanup();
  });

  const defaultRoutes = (): string[] => client.ipJson<{ dev: string }[]>('-6', 'route', 'show', 'default').map((r) => r.dev);

  it('creates and destroys them concurrently: links gone, final RAs seen, fds and timers back', async () => {
    const fdsBefore = fds();
    const timersBefore = timers();
    const ids = Array.from({ length: NETWORKS }, (_, i) => FIRST + i);
    const nets = await Promise.all(
      ids.map((id) =>
        VxlanNetwork.create({
          id,
          underlay: 'eth0',
          prefix: `fd01:0:${id.toString(16)}::/64`,
          netns: host.name,
        }),
      ),
    );
    let destroyed = false;
    try {
      // One shared rtnetlink socket for all of them, not one each (the run directory's locks,
      // two per recorded network, are counted apart).
      const locks = runDirFds();
      expect(locks).toBeLessThanOrEqual(2 * NETWORKS);
      expect(fds() - locks - fdsBefore).toBeLessThan(20);
      const bridges = host.ipJson<{ ifname: string }[]>('link', 'show', 'type', 'bridge').map((l) => l.ifname);
      expect(bridges).toHaveLength(NETWORKS);

      // A client port in each sampled bridge; the client's kernel learns a default route from our RAs.
      for (const id of SAMPLE) {
        joinWithVeth(client, `c${id}`, host, `p${id}`);
        host.ip('link', 'set', `p${id}`, 'master', `br${id}`);
      }
      for (const id of SAMPLE) {
        await until(`a default route via c${id} (an RA from br${id})`, () => defaultRoutes().includes(`c${id}`));
      }

      await Promise.all(nets.map((n) => n.destroy()));
      destroyed = true;

      const left = host
        .ipJson<{ ifname: string }[]>('link', 'show')
        .map((l) => l.ifname)
        .filter((n) => /^(br|vxlan)\d/u.test(n));
      expect(left).toEqual([]);
      // The final RA (router lifetime 0) made each client kernel drop its default route.
      await until('the sampled default routes withdrawn by final RAs', () => SAMPLE.every((id) => !defaultRoutes().includes(`c${id}`)), { timeoutMs: 10_000 });
      await until(`fds back to ${fdsBefore} (now ${fds()})`, () => fds() === fdsBefore, { timeoutMs: 5_000 });
      await until(`timers back to ${timersBefore} (now ${timers()})`, () => timers() <= timersBefore, { timeoutMs: 5_000 });
    } finally {
      if (!destroyed) await Promise.allSettled(nets.map((n) => n.destroy({ timeoutMs: 1000 })));
    }
  }, 240_000);

  it('names net.core.optmem_max when the VXLAN socket cannot join another multicast group', async () => {
    const ns = new TestNetns('vmpscalecap');
    const nets: VxlanNetwork[] = [];
    try {
      ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
      ns.ip('link', 'set', 'eth0', 'up');
      ns.ip('link', 'set', 'eth0p', 'up');
      // The namespace's own option memory (never the host's): room for about 18 memberships.
      ns.sysctl('net.core.optmem_max', 1024);
      let failure: unknown;
      for (let id = 3000; id < 3100 && failure === undefined; id++) {
        await VxlanNetwork.create({ id, underlay: 'eth0', prefix: `fd02:0:${id.toString(16)}::/64`, netns: ns.name, ra: false }).then(
          (n) => {
            nets.push(n);
          },
          (error: unknown) => {
            failure = error;
          },
        );
      }
      expect(nets.length).toBeGreaterThan(0);
      expect(nets.length).toBeLessThan(100);
      const error = failure as Error & { code?: string; step?: string; cause?: Error & { limit?: string; cause?: { code?: string } } };
      // A kernel limit (VmplumbError ENOTSUP) whose cause is the kernel's ENOMEM.
      expect(error.code).toBe('ENOTSUP');
      expect(error.cause?.cause?.code).toBe('ENOMEM');
      expect(error.step).toMatch(/^create vxlan\d+ on underlay eth0$/u);
      expect(error.message).toContain('net.core.optmem_max');
      expect(error.cause?.limit).toBe('net.core.optmem_max');
      const refused = 3000 + nets.length;
      // Rolled back: the refused network's bridge is gone.
      expect(ns.ipJson<{ ifname: string }[]>('link', 'show').map((l) => l.ifname)).not.toContain(`br${refused}`);
      // Positive control: with more option memory the same network is made.
      ns.sysctl('net.core.optmem_max', 131072);
      nets.push(await VxlanNetwork.create({ id: refused, underlay: 'eth0', prefix: `fd02:0:${refused.toString(16)}::/64`, netns: ns.name, ra: false }));
      expect(ns.ipJson('-d', 'link', 'show', 'dev', `vxlan${refused}`)[0].linkinfo.info_data.group6).toBe(`ff05::${refused}`);
    } finally {
      await Promise.allSettled(nets.map((n) => n.destroy()));
      ns.cleanup();
    }
  }, 120_000);
});
