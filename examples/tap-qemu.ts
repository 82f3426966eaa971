/**
 * Taps and qemu (README "Taps and qemu"): a tap opened from /dev/net/tun put into br100, qemu
 * spawned with the tap's fd as its fd 3, driven over QMP, a NIC hot-plugged, then shut down.
 *
 * Run as root after examples/vxlan-network.ts's links exist (br100): `npx tsx examples/tap-qemu.ts`.
 */
import { eui64Address, Netlink, openTap, Qemu, macForVm } from 'vmplumb';

await using nl = await Netlink.open();
const tap = await openTap({ name: 'vm1n100' }); // IFF_TAP|IFF_NO_PI|IFF_VNET_HDR|IFF_TUN_EXCL, O_CLOEXEC
await nl.setLink(tap.name, { master: 'br100', up: true });

const vm = await Qemu.spawn({
  name: 'uc1',
  accel: 'auto', // KVM only where a probe guest really runs under it, else TCG
  memoryMiB: 1024,
  cpus: 2,
  cdrom: 'alpine.iso',
  nics: [{ tap, mac: macForVm(1) }], // the tap fd becomes qemu's fd 3; our copy is closed
});
console.log(await vm.qmp.execute('query-status')); // { status: 'running', … }
vm.on('event', (e) => console.log(e.event)); // SHUTDOWN, POWERDOWN, STOP, RESUME, …

await vm.addNic({ tap: await openTap() }); // hot-plug: getfd over SCM_RIGHTS, netdev_add, device_add
await vm.shutdown({ timeoutMs: 10_000 });
console.log(await vm.exited); // { code, signal, reason }

console.log(eui64Address('2a0a:e5c1:111:888::/64', '02:00:f0:a9:c4:4e')); // '2a0a:e5c1:111:888:0:f0ff:fea9:c44e'
