/**
 * The reference set-up (DESIGN.md, "The job, as the reference setup does it today") as the
 * shell commands a host that does not run vmplumb uses, unchanged: the peer that vmplumb must
 * interoperate with. Only for ids whose group is `ff05::<id>` written literally (ids < 10000),
 * as the script writes it.
 */

/**
 * The commands for network `id` with `address` (with its /len) on br<id>; with `peer`, the
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
