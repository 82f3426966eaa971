/**
 * The reference setup in two calls (README "In two calls"): network 100 on underlay eth0 —
 * vxlan100 (group ff05::100, port 4789, ttl 5) in br100, the router address on br100, router
 * advertisements as the reference radvd.conf — and one VM booted from an ISO in it.
 *
 * Run as root on a host with an `eth0` and qemu: `npx tsx examples/vxlan-network.ts`.
 */
import { VxlanNetwork } from 'vmplumb';

const net = await VxlanNetwork.create({
  id: 100,
  underlay: 'eth0',
  prefix: '2a0a:e5c1:111:888::/64',
  rdnss: ['2a0a:e5c0::3', '2a0a:e5c0::4'],
  dnssl: ['place7.ungleich.ch'],
}); // vxlan100 in br100, both up, 2a0a:e5c1:111:888::1/64 on br100, RAs on br100

const vm = await net.startVm({ id: 1, memoryMiB: 1024, cpus: 2, cdrom: 'alpine.iso' });
console.log(vm.mac, vm.address); // 02:00:00:00:00:01  2a0a:e5c1:111:888:0:ff:fe00:1

await vm.stop({ timeoutMs: 30_000 }); // ACPI power-down, then quit, then SIGKILL; the tap goes
await net.destroy(); // final RAs (router lifetime 0), links removed; idempotent
