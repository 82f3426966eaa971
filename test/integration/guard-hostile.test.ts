/**
 * Port security against a hostile guest (issue 10). The test is the guest: it owns a tap in
 * host 1's network bridge and writes raw frames into the tap's fd (with the virtio-net header
 * the tap was made with). The victims are real kernels: a namespace on the same bridge
 * (SLAAC from our router advertisements) and host 2 across VXLAN (the reference script).
 * Oracles: their routes and neighbour caches (`ip -j`), what tshark captures on them, the
 * guard's counters, and `nft -j` for what is left in the kernel. The positive control sends
 * the same frames unguarded and sees them land.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { guardTable, securePort, type PortGuard } from '../../lib/guard/index.js';
import { eui64Address } from '../../lib/mac.js';
import { Netlink } from '../../lib/netlink/index.js';
import { VxlanNetwork } from '../../lib/network.js';
import { openTap, type Tap } from '../../lib/tap.js';
import {
  arpReply,
  echoBody,
  ether,
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  fragmented,
  icmpv6,
  lladdrOption,
  multicastMac,
  naBody,
  nonceOption,
  nsBody,
  raBody,
  redirectBody,
  rsBody,
  solicitedNode,
  udp4,
  udp6,
  withVnetHeader,
} from '../helpers/frames.js';
import { twoHostsWithVeth } from '../helpers/hosts.js';
import { joinWithVeth, runAsync, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const ID = 310;
const PREFIX = '2a0a:e5c1:111:310::/64';
const ROUTER = '2a0a:e5c1:111:310::1';
const BR = `br${ID}`;
const GUEST = '02:00:00:00:31:01';
const VICTIM = '02:00:00:00:31:0a';
const OTHER = '02:00:00:00:31:99';
const ROGUE_PREFIX = '2001:db8:bad::';
/** A privacy address of the guest's in the prefix: a source the guard allows. */
const GUEST_PRIVACY = '2a0a:e5c1:111:310:5e17:bad:0:1';
/** Somewhere beyond the link: whichever default router a victim's kernel picks routes it. */
const FAR_AWAY = '2001:db8:ffff::1';
/** RA flags byte with router preference high (RFC 4191): a rogue RA that wins the route lookup. */
const PRF_HIGH = 0x08;
const SENTINEL_ID = 0x5e17;
const guestLl = eui64Address('fe80::/64', GUEST);
const guestGlobal = eui64Address(PREFIX, GUEST);
const victimGlobal = eui64Address(PREFIX, VICTIM);
const ALL_NODES = 'ff02::1';

/**
 * dumpcap in a namespace, capturing the frames from the guest's and the spoofed MAC into a
 * pcap file; tshark decodes it once stopped: one line per frame,
 * `eth.src|eth.type|vlan.id|ipv6.src|icmpv6.type|echo id|udp.srcport|na target|link-layer options`.
 */
class Capture {
  readonly #child: ChildProcess;
  readonly #file: string;
  #stderr = '';

  constructor(ns: TestNetns, dev: string) {
    this.#file = join(tmpdir(), `${ns.name}-${dev}-${Date.now()}.pcap`);
    this.#child = spawn('ip', ['netns', 'exec', ns.name, 'dumpcap', '-i', dev, '-f', `ether src ${GUEST} or ether src ${OTHER}`, '-P', '-w', this.#file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child.stderr?.on('data', (d: Buffer) => {
      this.#stderr += d.toString();
    });
  }

  /** Resolves once dumpcap says it is capturing. */
  started(): Promise<void> {
    return until(
      'dumpcap capturing',
      () => this.#stderr.includes('Capturing on') || (this.#child.exitCode !== null && Promise.reject(new Error(this.#stderr))),
      30_000,
    ).then(() => undefined);
  }

  /**
   * What dumpcap wrote so far, decoded. dumpcap flushes its file as it goes; the last record
   * may be cut short while it writes (tshark then exits non-zero after printing the rest).
   */
  decode(): Promise<string[]> {
    return new Promise((resolve) => {
      execFile(
        'tshark',
        [
          '-r',
          this.#file,
          '-n',
          '-T',
          'fields',
          '-E',
          'separator=|',
          '-e',
          'eth.src',
          '-e',
          'eth.type',
          '-e',
          'vlan.id',
          '-e',
          'ipv6.src',
          '-e',
          'icmpv6.type',
          '-e',
          'icmpv6.echo.identifier',
          '-e',
          'udp.srcport',
          '-e',
          'icmpv6.nd.na.target_address',
          '-e',
          'icmpv6.opt.linkaddr',
        ],
        { encoding: 'utf8' },
        (_error, stdout) =>
          resolve(
            String(stdout)
              .split('\n')
              .filter((l) => l.length > 0),
          ),
      );
    });
  }

  /**
   * Waits until the capture holds the sentinel (dumpcap reads its socket in batches: stopping
   * it at once would lose what it had not read yet), stops dumpcap, and returns the frames.
   */
  async stopAfterSentinel(): Promise<string[]> {
    const lines = await until('the sentinel in the capture', async () => {
      const l = await this.decode();
      return l.some((x) => x.split('|')[5] === `0x${SENTINEL_ID.toString(16)}`) && l;
    });
    if (this.#child.exitCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      this.#child.kill('SIGINT');
      await exited;
    }
    rmSync(this.#file, { force: true });
    return lines;
  }

  /** Stops dumpcap (cleanup after a failure). */
  stop(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGINT');
    rmSync(this.#file, { force: true });
  }
}

/** Icmp6InEchos of a namespace's kernel (/proc/net/snmp6 is per namespace). */
function echoesReceived(ns: TestNetns): number {
  const line = ns
    .exec('cat', ['/proc/net/snmp6'])
    .split('\n')
    .find((l) => l.startsWith('Icmp6InEchos '));
  return Number(line?.split(/\s+/u)[1] ?? 0);
}

describe.skipIf(skipUnlessRoot('port security integration tests', ['/dev/net/tun']))('securePort against a hostile guest', () => {
  let h1: TestNetns;
  let h2: TestNetns;
  let victim: TestNetns;
  let net: VxlanNetwork | undefined;
  let tap: Tap | undefined;
  let nl: Netlink | undefined;
  let routerLl: string;
  let bridgeMac: string;
  const live: Capture[] = [];

  beforeAll(async () => {
    [h1, h2] = twoHostsWithVeth('vmpg', 'fd00:4789::1/64', 'fd00:4789::2/64');
    victim = new TestNetns('vmpgv');
    joinWithVeth(h1, 'vv1', victim, 'eth0');
    victim.ip('link', 'set', 'eth0', 'address', VICTIM);
    net = await VxlanNetwork.create({ id: ID, underlay: 'eth0', prefix: PREFIX, netns: h1.name });
    // Bridge ports with high MACs: a port with a lower MAC than the bridge's would change the
    // bridge's MAC (and make the router re-advertise) in the middle of the test.
    h1.ip('link', 'set', 'vv1', 'address', 'fe:ff:ff:ff:31:01', 'master', BR);
    h2.exec('sh', [
      '-ec',
      [
        `ip -6 link add vxlan${ID} type vxlan id ${ID} dstport 4789 group ff05::310 dev eth0 ttl 5`,
        `ip link add ${BR} type bridge`,
        `ip link set vxlan${ID} master ${BR} up ; ip link set ${BR} up`,
      ].join('\n'),
    ]);
    // The host keeps a table of its own: the guard must never touch it.
    h1.exec('nft', ['add table inet hostfw; add chain inet hostfw input { type filter hook input priority 0; }; add rule inet hostfw input counter']);
    tap = await openTap({ netns: h1.name, name: 'hostile0' });
    nl = await Netlink.open({ netns: h1.name });
    await nl.setLink('hostile0', { mac: 'fe:ff:ff:ff:31:02', master: BR, up: true });
    bridgeMac = (await nl.getLink(BR))?.mac ?? '';
    routerLl = await until('router link-local', () => h1.linkLocal(BR), 150_000);
  }, 180_000);

  afterAll(async () => {
    for (const c of live) c.stop();
    await tap?.close();
    await nl?.close();
    await net?.destroy({ timeoutMs: 1000 }).catch(() => undefined);
    victim?.cleanup();
    h1?.cleanup();
    h2?.cleanup();
  });

  const defaultGateways = (ns: TestNetns, dev: string): string[] =>
    ns
      .ipJson<Array<{ gateway?: string; dev?: string; nexthops?: Array<{ gateway: string }> }>>('-6', 'route', 'show', 'default')
      .filter((r) => r.dev === dev || r.nexthops !== undefined)
      .flatMap((r) => r.nexthops?.map((n) => n.gateway) ?? [r.gateway ?? ''])
      .sort();
  const neighbour = (ns: TestNetns, address: string): string | undefined =>
    ns.ipJson<Array<{ dst: string; lladdr?: string }>>('-6', 'neigh', 'show').find((n) => n.dst === address)?.lladdr;
  /** The gateway the kernel picks for a destination beyond the link (`ip -6 route get`). */
  const routeVia = (ns: TestNetns): string | undefined => ns.ipJson<Array<{ gateway?: string }>>('-6', 'route', 'get', FAR_AWAY)[0]?.gateway;
  const addresses = (ns: TestNetns): string[] =>
    ns.ipJson<Array<{ addr_info: Array<{ local: string }> }>>('-6', 'addr', 'show').flatMap((l) => l.addr_info.map((a) => a.local));

  function write(frame: Buffer): void {
    writeSync(tap?.fds[0] as number, withVnetHeader(frame));
  }

  /** Every attack of the issue, then the legitimate frames, the sentinel last. */
  function sendAttacksThenSentinel(): void {
    const allNodes = multicastMac(ALL_NODES);
    const v6 = (packet: Buffer, dst = allNodes, src = GUEST): Buffer => ether(dst, src, ETH_P_IPV6, packet);
    const rogueRa = icmpv6(guestLl, ALL_NODES, 134, raBody(GUEST, ROGUE_PREFIX, 9000, PRF_HIGH));
    write(v6(icmpv6(guestLl, victimGlobal, 137, redirectBody(guestLl, 'fd00:4789::2')), VICTIM)); // redirect
    write(v6(icmpv6(guestLl, ALL_NODES, 136, naBody(ROUTER, GUEST)))); // na-target-router
    write(v6(icmpv6(guestLl, ALL_NODES, 136, naBody(routerLl, GUEST)))); // na-target
    write(v6(icmpv6(guestLl, ALL_NODES, 136, naBody(victimGlobal, GUEST)))); // na-target-foreign-eui64
    write(v6(icmpv6(guestLl, ALL_NODES, 136, naBody(guestGlobal, OTHER)))); // na-lladdr
    write(v6(icmpv6(guestGlobal, ALL_NODES, 128, echoBody(1, 'other mac')), allNodes, OTHER)); // mac-source
    write(v6(icmpv6(victimGlobal, ALL_NODES, 128, echoBody(2, 'other ip')))); // ip6-source-foreign-eui64
    write(v6(icmpv6(routerLl, ALL_NODES, 134, raBody(GUEST, ROGUE_PREFIX)))); // ip6-source
    write(v6(udp6(guestLl, ALL_NODES, 547, 546, Buffer.from([7, 0, 0, 1])))); // dhcpv6-server
    write(v6(fragmented(rogueRa))); // icmpv6-fragment
    write(ether('ff:ff:ff:ff:ff:ff', GUEST, ETH_P_IP, udp4('10.0.0.66', '255.255.255.255', 67, 68))); // ethertype
    write(ether('ff:ff:ff:ff:ff:ff', GUEST, ETH_P_ARP, arpReply(GUEST, '10.0.0.1', '10.0.0.1'))); // ethertype
    write(ether(allNodes, GUEST, ETH_P_IPV6, rogueRa, 5)); // vlan
    // Link-layer options the guard cannot see at their offset: a receiver uses the first of a
    // type anywhere in the list (Linux ndisc_parse_options), so a forged one after a nonce
    // poisons the victim's cache for the (allowed) source; a forged one after the own one, a
    // second TLLA, an RS's SLLA after a nonce are dropped as well.
    const victimGroup = solicitedNode(victimGlobal);
    write(v6(icmpv6(GUEST_PRIVACY, victimGroup, 135, nsBody(victimGlobal, nonceOption(), lladdrOption(1, OTHER))), multicastMac(victimGroup))); // ns-source-lladdr
    write(v6(icmpv6(guestGlobal, victimGroup, 135, nsBody(victimGlobal, lladdrOption(1, GUEST), lladdrOption(1, OTHER))), multicastMac(victimGroup))); // ns-source-lladdr
    write(v6(icmpv6(guestLl, ALL_NODES, 136, Buffer.concat([naBody(guestGlobal, GUEST, 0x20), lladdrOption(2, OTHER)])))); // na-lladdr
    write(v6(icmpv6(guestLl, 'ff02::2', 133, rsBody(nonceOption(), lladdrOption(1, OTHER))), multicastMac('ff02::2'))); // rs-source-lladdr
    // Legitimate: an NS with its own MAC (the victim learns it), an NA for its own address with
    // its own MAC, and the sentinel echo request.
    write(v6(icmpv6(guestGlobal, victimGroup, 135, nsBody(victimGlobal, lladdrOption(1, GUEST))), multicastMac(victimGroup)));
    write(v6(icmpv6(guestLl, ALL_NODES, 136, naBody(guestGlobal, GUEST, 0x20))));
    // The rogue RA comes after every NA: an NA whose R flag is clear for a target the victim
    // took for a router makes its kernel drop the default routes via the NA's source
    // (ndisc_recv_na → rt6_clean_tohost), which would undo the takeover the control shows.
    write(v6(rogueRa)); // router-advertisement
    write(v6(icmpv6(guestGlobal, ALL_NODES, 128, echoBody(SENTINEL_ID, 'sentinel'))));
  }

  let guard: PortGuard;
  let hostTable: string;

  it("keeps both victims' default routes and neighbour caches, shows them nothing, counts each attempt", async () => {
    // Victims ready: SLAAC and a default route via the real router, a neighbour entry for
    // the router's address (victim) and for the victim's (host 2) that an NA could poison.
    await until('victim default route', () => defaultGateways(victim, 'eth0').includes(routerLl));
    await until('host 2 default route', () => defaultGateways(h2, BR).includes(routerLl));
    await until('victim SLAAC', () => addresses(victim).includes(victimGlobal));
    await until('victim reaches the router', () =>
      runAsync('ip', ['netns', 'exec', victim.name, 'ping', '-6', '-c1', '-W1', ROUTER]).then(
        () => true,
        () => false,
      ),
    );
    await until('host 2 reaches the victim', () =>
      runAsync('ip', ['netns', 'exec', h2.name, 'ping', '-6', '-c1', '-W1', victimGlobal]).then(
        () => true,
        () => false,
      ),
    );
    expect(neighbour(victim, ROUTER)).toBe(bridgeMac);
    hostTable = h1.exec('nft', ['-s', '-j', 'list', 'table', 'inet', 'hostfw']);

    guard = await securePort({ netns: h1.name, port: 'hostile0', mac: GUEST, prefixes: [PREFIX], routers: [ROUTER] });
    const captures = [new Capture(victim, 'eth0'), new Capture(h2, BR)];
    live.push(...captures);
    await Promise.all(captures.map((c) => c.started()));
    const before = [echoesReceived(victim), echoesReceived(h2)];
    sendAttacksThenSentinel();
    // The sentinel (the last frame, an echo request to all nodes) reached both kernels.
    await until('the sentinel at both victims', () => echoesReceived(victim) > (before[0] ?? 0) && echoesReceived(h2) > (before[1] ?? 0));
    // At once (a neighbour entry nobody answers for fails after a few seconds): the forged
    // SLLA behind a nonce never reached the victim; the guest's own NS did.
    expect(neighbour(victim, GUEST_PRIVACY)).toBeUndefined();
    expect(neighbour(victim, guestGlobal)).toBe(GUEST);
    const seen = await Promise.all(captures.map((c) => c.stopAfterSentinel()));

    const legitNs = `${GUEST} ${guestGlobal} 135 ${GUEST}`;
    for (const [i, lines] of seen.entries()) {
      // Only the legitimate frames: the NA for the guest's own address and the sentinel (and
      // the NS to the victim's solicited-node group, which host 2 sees only if it is flooded).
      const kinds = lines.map((l) => {
        const f = l.split('|');
        return `${f[0]} ${f[3]} ${f[4]} ${f[8]}`;
      });
      if (i === 0) expect(kinds).toContain(legitNs);
      expect(kinds.filter((k) => k !== legitNs).sort()).toEqual([`${GUEST} ${guestGlobal} 128 `, `${GUEST} ${guestLl} 136 ${GUEST}`].sort());
    }
    for (const [ns, dev] of [
      [victim, 'eth0'],
      [h2, BR],
    ] as const) {
      expect(defaultGateways(ns, dev)).not.toContain(guestLl);
      await until('the default route via the router', () => defaultGateways(ns, dev).includes(routerLl));
    }
    expect(addresses(victim).some((a) => a.startsWith('2001:db8:bad:'))).toBe(false);
    expect(addresses(h2).some((a) => a.startsWith('2001:db8:bad:'))).toBe(false);
    // Their kernels still route beyond the link through the real router.
    expect(routeVia(victim)).toBe(routerLl);
    expect(routeVia(h2)).toBe(routerLl);
    expect(neighbour(victim, ROUTER)).toBe(bridgeMac);
    expect(neighbour(h2, victimGlobal)).toBe(VICTIM);

    const counters = Object.fromEntries((await guard.counters()).map((c) => [c.name, c.packets]));
    expect(counters).toMatchObject({
      'router-advertisement': 1,
      redirect: 1,
      'na-target-router': 1,
      'na-lladdr': 2,
      'ns-source-lladdr': 2,
      'ns-source-lladdr-own': 1,
      'rs-source-lladdr': 1,
      // Another VM's address and the router's link-local: both interface identifiers are
      // EUI-64 of another MAC (the RA forged from the router's link-local is the second source).
      'na-target-foreign-eui64': 2,
      'ip6-source-foreign-eui64': 2,
      'na-target-eui64': 3,
      'mac-source': 1,
      'dhcpv6-server': 1,
      'icmpv6-fragment': 1,
      ethertype: 2,
      vlan: 1,
      'ip6-pass': 3,
    });
    // The same counters as nft itself reads them.
    const ruleset = JSON.parse(h1.exec('nft', ['-j', 'list', 'table', 'netdev', guardTable('hostile0')])) as {
      nftables: Array<{ rule?: { comment?: string; expr: Array<{ counter?: { packets: number } }> } }>;
    };
    const nftRa = ruleset.nftables.find((o) => o.rule?.comment === 'router-advertisement')?.rule?.expr.find((e) => e.counter)?.counter?.packets;
    expect(nftRa).toBe(1);
  }, 240_000);

  it('positive control: unguarded, the same frames reach the victims, take over their default route and poison their cache', async () => {
    await guard.remove();
    expect(h1.exec('nft', ['-j', 'list', 'tables'])).not.toContain('vmplumb-guard');
    expect(h1.exec('nft', ['-s', '-j', 'list', 'table', 'inet', 'hostfw'])).toBe(hostTable);

    const captures = [new Capture(victim, 'eth0'), new Capture(h2, BR)];
    live.push(...captures);
    await Promise.all(captures.map((c) => c.started()));
    const before = [echoesReceived(victim), echoesReceived(h2)];
    // Twice: the control must not hinge on one multicast frame (a lost first RA would leave
    // only the forged-source and fragmented ones, which a correct kernel ignores).
    sendAttacksThenSentinel();
    sendAttacksThenSentinel();
    // Unguarded, the two forged echo requests arrive too: three in all.
    await until('the sentinel at both victims', () => echoesReceived(victim) >= (before[0] ?? 0) + 3 && echoesReceived(h2) >= (before[1] ?? 0) + 3);
    // The forged SLLA behind a nonce poisoned the victim's cache: the guest's (allowed)
    // source maps to another MAC (guarded, the victim never heard of that source).
    expect(neighbour(victim, GUEST_PRIVACY)).toBe(OTHER);
    const seen = await Promise.all(captures.map((c) => c.stopAfterSentinel()));
    for (const lines of seen) {
      const types = lines.map((l) => l.split('|')[4]);
      expect(types).toContain('134');
      expect(lines.some((l) => l.startsWith(OTHER))).toBe(true);
      expect(lines.some((l) => l.split('|')[6] === '547')).toBe(true);
      expect(lines.some((l) => l.split('|')[3] === victimGlobal)).toBe(true);
      // The forged NAs for the router's and the victim's addresses.
      const targets = lines.map((l) => l.split('|')[7]);
      expect(targets).toEqual(expect.arrayContaining([ROUTER, victimGlobal, routerLl]));
    }
    expect(seen[0]?.some((l) => l.split('|')[3] === GUEST_PRIVACY && l.split('|')[8] === OTHER)).toBe(true);
    // Both kernels acted on the rogue RA: the rogue is their default router now and, with
    // high preference, the one their route lookups pick; its prefix is on-link (guarded,
    // none of this happened).
    for (const [ns, dev] of [
      [victim, 'eth0'],
      [h2, BR],
    ] as const) {
      await until(`${ns.name} has a default route via the rogue`, () => defaultGateways(ns, dev).includes(guestLl));
      await until(`${ns.name} routes beyond the link via the rogue`, () => routeVia(ns) === guestLl);
    }
    const rogueRoute = (ns: TestNetns): boolean => ns.ipJson<Array<{ dst: string }>>('-6', 'route', 'show').some((r) => r.dst === `${ROGUE_PREFIX}/64`);
    await until('the victim takes the rogue prefix', () => rogueRoute(victim));
    await until('host 2 takes the rogue prefix', () => rogueRoute(h2));
  }, 240_000);
});
