/**
 * RouterAdvertiser against real peers: a router namespace with br100 and a veth into a client
 * namespace whose kernel does SLAAC from our RAs (client sysctls set inside the client
 * namespace only). Checked with the client kernel's addresses and routes, rdisc6, tshark, and
 * a flood of malformed solicitations from the client.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterAdvertiser } from '../../lib/ra/index.js';
import type { RaInterfaceConfig, RaReceivedEvent, RaSentEvent } from '../../lib/ra/types.js';
import { joinWithVeth, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { referenceRaInterface } from '../helpers/reference.js';
import { startFlood } from '../helpers/ra-flood.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const execFileAsync = promisify(execFile);
const CLIENT_MAC = '02:00:f0:a9:c4:4e';
const CLIENT_SLAAC = '2a0a:e5c1:111:888:0:f0ff:fea9:c44e';
const BR100_MAC = '02:00:00:00:01:00';
const BR100_LL = 'fe80::ff:fe00:100';

/** Runs a command without blocking the event loop (the advertiser lives in this process). */
async function run(cmd: string, args: string[], timeout = 20_000): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { timeout, encoding: 'utf8' });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The RAs in a capture file as tshark decodes them: hop limit, source, router lifetime, checksum, expert severities, malformed. */
async function capturedAdvertisements(pcap: string): Promise<string[][]> {
  const fields = await run('tshark', [
    '-r',
    pcap,
    '-Y',
    'icmpv6.type == 134',
    '-T',
    'fields',
    '-E',
    'separator=|',
    '-e',
    'ipv6.hlim',
    '-e',
    'ipv6.src',
    '-e',
    'icmpv6.nd.ra.router_lifetime',
    '-e',
    'icmpv6.checksum.status',
    '-e',
    '_ws.expert.severity',
    '-e',
    '_ws.malformed',
    '-e',
    'eth.src',
    '-e',
    'eth.dst',
    '-e',
    'ipv6.plen',
  ]);
  if (fields.code !== 0) throw new Error(`tshark failed: ${fields.out}`);
  return fields.out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|'));
}

describe.skipIf(skipUnlessRoot('RouterAdvertiser integration'))('RouterAdvertiser in namespaces', () => {
  let router: TestNetns;
  let client: TestNetns;
  let tmp: string;

  const clientAddresses = (dev: string) =>
    client.ipJson<Array<{ addr_info: Array<{ local: string; scope: string; preferred_life_time?: number; dynamic?: boolean }> }>>(
      '-6',
      'addr',
      'show',
      'dev',
      dev,
    )[0]?.addr_info ?? [];
  const defaultRoute = (dev: string) =>
    client
      .ipJson<Array<{ dst: string; gateway?: string; dev: string; protocol?: string }>>('-6', 'route', 'show', 'default', 'dev', dev)
      .find((r) => r.protocol === 'ra');
  // rdisc6 solicits from the client's link-local: until its DAD is over, sendto fails at once.
  const rdisc6 = async (dev: string) => {
    await until(`${dev}'s link-local past DAD`, () => client.linkLocal(dev));
    return run('ip', ['netns', 'exec', client.name, 'rdisc6', '-1', '-r', '3', '-w', '1000', dev]);
  };

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'vmpra-'));
    router = new TestNetns('vmpra');
    client = new TestNetns('vmpra');
    router.ip('link', 'add', 'br100', 'address', BR100_MAC, 'type', 'bridge');
    router.ip('link', 'set', 'br100', 'addrgenmode', 'eui64');
    joinWithVeth(router, 'vmpra-r0', client, 'vmpra-c0');
    router.ip('link', 'set', 'vmpra-r0', 'master', 'br100');
    router.ip('link', 'set', 'br100', 'up');
    router.ip('addr', 'add', '2a0a:e5c1:111:888::1/64', 'dev', 'br100');
    // The client: a host that accepts RAs and does SLAAC with EUI-64 (inside its namespace only).
    client.ip('link', 'set', 'vmpra-c0', 'down');
    client.ip('link', 'set', 'vmpra-c0', 'address', CLIENT_MAC, 'addrgenmode', 'eui64');
    for (const dev of ['all', 'default', 'vmpra-c0']) {
      client.sysctl(`net.ipv6.conf.${dev}.forwarding`, 0);
      client.sysctl(`net.ipv6.conf.${dev}.accept_ra`, 1);
      client.sysctl(`net.ipv6.conf.${dev}.autoconf`, 1);
      client.sysctl(`net.ipv6.conf.${dev}.accept_ra_defrtr`, 1);
    }
    client.ip('link', 'set', 'vmpra-c0', 'up');
  });

  afterAll(() => {
    router?.cleanup();
    client?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the client configures its EUI-64 address and default route; rdisc6 and tshark see the reference RA; stop() withdraws the route', async () => {
    const pcap = join(tmp, 'ra.pcap');
    const dumpcap = spawn('ip', ['netns', 'exec', client.name, 'dumpcap', '-q', '-i', 'vmpra-c0', '-f', 'icmp6 and ip6[40] == 134', '-P', '-w', pcap], {
      stdio: 'ignore',
    });
    const dumpcapDone = new Promise((resolve) => dumpcap.on('close', resolve));
    // dumpcap writes the pcap file header (24 bytes) once the interface is open and filtered.
    await until(
      'dumpcap capturing',
      () => {
        try {
          return statSync(pcap).size >= 24;
        } catch {
          return false;
        }
      },
      30_000,
    );
    const ra = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 1, interfaces: [referenceRaInterface()] });
    const sent: RaSentEvent[] = [];
    const received: RaReceivedEvent[] = [];
    ra.on('sent', (e: RaSentEvent) => sent.push(e));
    ra.on('received', (e: RaReceivedEvent) => received.push(e));
    try {
      await ra.start();
      const address = await until('the SLAAC address', () => clientAddresses('vmpra-c0').find((a) => a.local === CLIENT_SLAAC));
      expect(address.scope).toBe('global');
      const route = await until('the default route', () => defaultRoute('vmpra-c0'));
      expect(route.gateway).toBe(BR100_LL);

      const r = await rdisc6('vmpra-c0');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Router lifetime\s+:\s+3600 \(0x00000e10\) seconds/);
      expect(r.out).toMatch(/Prefix\s+:\s+2a0a:e5c1:111:888::\/64/);
      expect(r.out).toMatch(/Recursive DNS server\s+:\s+2a0a:e5c0::3/);
      expect(r.out).toMatch(/Recursive DNS server\s+:\s+2a0a:e5c0::4/);
      expect(r.out).toMatch(/DNS search list\s+:\s+place7\.ungleich\.ch/);
      expect(r.out).toMatch(/Source link-layer address: 02:00:00:00:01:00/);
      expect(r.out).toContain(`from ${BR100_LL}`);
      // 'received' reported rdisc6's solicitation, from the client's link-local, as valid.
      expect(received).toContainEqual({ interface: 'br100', index: expect.any(Number), source: client.linkLocal('vmpra-c0'), hopLimit: 255, valid: true });
      expect(sent.some((e) => e.solicited)).toBe(true);
      // Unsolicited RAs go on (3–5 s apart): wait for the third, which the capture must show too.
      await until('three RAs sent', () => ra.stats()[0]!.advertisementsSent >= 3, 30_000);

      const stats = ra.stats();
      expect(stats[0]).toMatchObject({ name: 'br100', state: 'serving', sendErrors: 0 });
      expect(stats[0]!.advertisementsSent).toBeGreaterThanOrEqual(3);
      expect(stats[0]!.solicitationsReceived).toBeGreaterThanOrEqual(1);
    } finally {
      await ra.stop();
    }
    await until('the default route to go', () => !defaultRoute('vmpra-c0'), 20_000);
    // The final RA (router lifetime 0) reaches the capture file before dumpcap is stopped.
    await until('the final RA in the capture', async () => (await capturedAdvertisements(pcap)).some((r) => r[2] === '0'), 30_000);
    dumpcap.kill('SIGTERM');
    await dumpcapDone;

    // tshark decodes every RA without expert warnings or errors; hop limit 255, checksum good.
    const rows = await capturedAdvertisements(pcap);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const [hlim, src, , checksum, severity, malformed, ethSource] of rows) {
      expect(hlim).toBe('255');
      expect(src).toBe(BR100_LL);
      expect(ethSource).toBe(BR100_MAC);
      expect(checksum).toBe('1');
      // Expert severities: 0x00400000 note and below are fine; warn (0x00600000) and error (0x00800000) are not.
      for (const s of (severity ?? '').split(',').filter(Boolean)) expect(Number(s)).toBeLessThan(0x00600000);
      expect(malformed ?? '').toBe('');
    }
    expect(rows.at(-1)![2]).toBe('0'); // the final RA
    // It left through the packet socket (a whole IPv6 packet): from br100's MAC to ff02::1's (RFC 2464 §7).
    expect(rows.at(-1)!.slice(6, 8)).toEqual([BR100_MAC, '33:33:00:00:00:01']);
    // 'sent' reported each RA the client's wire saw, the last one final.
    expect(sent).toHaveLength(rows.length);
    expect(sent.every((e) => e.interface === 'br100')).toBe(true);
    // Each one's bytes are its ICMPv6 message, as the IPv6 payload length on the wire.
    expect(sent.map((e) => e.bytes)).toEqual(rows.map((r) => Number(r[8])));
    expect(sent.at(-1)).toMatchObject({ final: true });
    expect(sent.slice(0, -1).every((e) => !e.final)).toBe(true);
    expect(rows.slice(0, -1).every((r) => r[2] === '3600')).toBe(true);
  }, 240_000);

  it('keeps answering while the client floods it with malformed solicitations', async () => {
    const ra = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 1, interfaces: [referenceRaInterface()] });
    await ra.start();
    try {
      await until('serving', () => ra.stats()[0]!.state === 'serving');
      await until("vmpra-c0's link-local past DAD", () => client.linkLocal('vmpra-c0'));
      const flood = startFlood(client.name, 'vmpra-c0');
      const dropped: number[] = [];
      try {
        await flood.flooding;
        // Each rdisc6 exchange is answered while the flood is arriving: malformed solicitations
        // were dropped during every one of them (so each answer came in the middle of the flood).
        for (let i = 0; i < 3; i++) {
          const before = ra.stats()[0]!.solicitationsDropped;
          const r = await rdisc6('vmpra-c0');
          expect(r.code).toBe(0);
          expect(r.out).toMatch(/Router lifetime\s+:\s+3600/);
          expect(r.out).toContain(`from ${BR100_LL}`);
          dropped.push(ra.stats()[0]!.solicitationsDropped - before);
        }
      } finally {
        const done = await flood.stop();
        expect(done.sent).toBeGreaterThan(0);
      }
      expect(dropped).toHaveLength(3);
      for (const n of dropped) expect(n).toBeGreaterThan(0);
      const s = ra.stats()[0]!;
      // Every malformed one that arrived was dropped, counted among those received (the rates
      // are `npm run bench:ra-flood`'s business).
      expect(s.solicitationsReceived).toBeGreaterThan(s.solicitationsDropped);
      expect(s.sendErrors).toBe(0);
    } finally {
      await ra.stop();
    }
  }, 240_000);

  it('serves an interface created after start, drops it when deleted, picks it up when it returns, follows MAC changes', async () => {
    const ra = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 1, interfaces: [referenceRaInterface('br200')] });
    await ra.start();
    try {
      // Started without its interface: waiting, nothing sent (it is served once it appears, below).
      expect(ra.stats()[0]).toMatchObject({ name: 'br200', state: 'waiting', advertisementsSent: 0 });
      const create = () => {
        router.ip('link', 'add', 'br200', 'address', '02:00:00:00:02:00', 'type', 'bridge');
        router.ip('link', 'set', 'br200', 'addrgenmode', 'eui64');
        joinWithVeth(router, 'vmpra-r1', client, 'vmpra-c1');
        router.ip('link', 'set', 'vmpra-r1', 'master', 'br200');
        router.ip('link', 'set', 'br200', 'up');
      };
      create();
      const route = await until('a default route on vmpra-c1', () => defaultRoute('vmpra-c1'));
      expect(route.gateway).toBe('fe80::ff:fe00:200');
      expect(ra.stats()[0]).toMatchObject({ state: 'serving' });

      router.ip('link', 'set', 'br200', 'address', '02:00:00:00:02:99');
      const seen = await rdisc6('vmpra-c1');
      expect(seen.out).toMatch(/Source link-layer address: 02:00:00:00:02:99/);

      router.ip('link', 'del', 'br200');
      router.ip('link', 'del', 'vmpra-r1');
      await until('waiting again', () => ra.stats()[0]!.state === 'waiting');
      const before = ra.stats()[0]!.advertisementsSent;
      create();
      await until('served again', () => ra.stats()[0]!.state === 'serving');
      const again = await rdisc6('vmpra-c1');
      expect(again.code).toBe(0);
      expect(again.out).toContain('from fe80::ff:fe00:200');
      expect(ra.stats()[0]!.advertisementsSent).toBeGreaterThan(before);
    } finally {
      await ra.stop();
      try {
        router.ip('link', 'del', 'br200');
      } catch {
        /* gone */
      }
      try {
        router.ip('link', 'del', 'vmpra-r1');
      } catch {
        /* gone */
      }
    }
  }, 240_000);

  it('shares one raw ICMPv6 socket between the advertisers of a namespace, refuses serving one interface twice', async () => {
    const rawSockets = async () =>
      (await run('ip', ['netns', 'exec', router.name, 'cat', '/proc/net/raw6'])).out.split('\n').filter((l) => /:003A /u.test(l)).length;
    expect(await rawSockets()).toBe(0);
    const a = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 0, interfaces: [referenceRaInterface('br100')] });
    const b = new RouterAdvertiser({ netns: router.path, finalAdvertisements: 0, interfaces: [referenceRaInterface('br300')] });
    const c = new RouterAdvertiser({ netns: router.name, interfaces: [referenceRaInterface('br100')] });
    await Promise.all([a.start(), b.start()]);
    try {
      expect(await rawSockets()).toBe(1);
      await expect(c.start()).rejects.toThrow(/no other RouterAdvertiser in the namespace serves, got "br100"/);
      await b.addInterface(referenceRaInterface('br301'));
      await expect(a.addInterface(referenceRaInterface('br301'))).rejects.toThrow(/br301/);
      expect(await rawSockets()).toBe(1);
    } finally {
      await a.stop();
      expect(await rawSockets()).toBe(1);
      await b.stop();
      await c.stop();
    }
    expect(await rawSockets()).toBe(0);
  }, 180_000);

  it('update() deprecates a removed prefix on the client (lifetime 0) and adds the new one', async () => {
    const two: RaInterfaceConfig = { ...referenceRaInterface(), prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }, { prefix: '2001:db8:77::/64' }] };
    const ra = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 1, interfaces: [two] });
    await ra.start();
    try {
      await until('both SLAAC addresses', () => clientAddresses('vmpra-c0').some((a) => a.local === '2001:db8:77::f0ff:fea9:c44e'));
      await ra.update({ interfaces: [{ ...referenceRaInterface(), prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }, { prefix: '2001:db8:88::/64' }] }] });
      const old = await until(
        '2001:db8:77:: deprecated',
        () => clientAddresses('vmpra-c0').find((a) => a.local === '2001:db8:77::f0ff:fea9:c44e' && a.preferred_life_time === 0),
        60_000,
      );
      expect(old.preferred_life_time).toBe(0);
      await until('the new prefix', () => clientAddresses('vmpra-c0').some((a) => a.local === '2001:db8:88::f0ff:fea9:c44e'), 60_000);
      expect(clientAddresses('vmpra-c0').find((a) => a.local === CLIENT_SLAAC)?.preferred_life_time).toBeGreaterThan(0);
    } finally {
      await ra.stop();
    }
  }, 180_000);
});
