/**
 * The reference setup (docs/ARCHITECTURE.md, "The reference setup"): the shell commands a
 * host that does not run vmplumb uses, unchanged (the peer that vmplumb must interoperate
 * with), and the router advertisements of its radvd.conf (test/fixtures/ra/radvd.conf).
 */
import type { RaInterfaceConfig } from '../../lib/ra/index.js';

/**
 * The commands for network `id` (only ids whose group is `ff05::<id>` written literally, ids <
 * 10000, as the script writes it) with `address` (with its /len) on br<id>; with `peer`, the
 * unicast form (no group, an all-zeros FDB entry for the peer VTEP) instead of multicast.
 */
export function referenceScript(id: number, address: string, peer?: string): string {
  return [
    peer === undefined
      ? `ip -6 link add vxlan${id} type vxlan id ${id} dstport 4789 group ff05::${id} dev eth0 ttl 5`
      : `ip -6 link add vxlan${id} type vxlan id ${id} dstport 4789 dev eth0 ttl 5\nbridge fdb append 00:00:00:00:00:00 dev vxlan${id} dst ${peer}`,
    `ip link add br${id} type bridge`,
    `ip link set vxlan${id} master br${id} up ; ip link set br${id} up`,
    `ip addr add ${address} dev br${id}`,
  ].join('\n');
}

/**
 * The interface of the reference radvd.conf (test/fixtures/ra/radvd.conf, which
 * ra-radvd-conf.test.ts checks this against) as a RouterAdvertiser interface, named `name`.
 */
export function referenceRaInterface(name = 'br100'): RaInterfaceConfig {
  return {
    name,
    minInterval: 3,
    maxInterval: 5,
    defaultLifetime: 3600,
    prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }],
    rdnss: [{ servers: ['2a0a:e5c0::3', '2a0a:e5c0::4'], lifetime: 6000 }],
    dnssl: [{ domains: ['place7.ungleich.ch'], lifetime: 6000 }],
  };
}
