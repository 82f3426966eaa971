/**
 * A host agent for the guard persistence test, run as its own process (tsx) so the test can
 * SIGKILL it: creates network $NET_ID in namespace $NETNS (underlay eth0, no RAs), starts the
 * guarded VMs $VM_IDS (qemu -S on an empty disk: no guest boots), prints one JSON line with
 * their names, taps and guard ids, and waits to be killed.
 */
import { VxlanNetwork } from '../../lib/network.js';

const netns = process.env.NETNS as string;
const id = Number(process.env.NET_ID);
const disk = process.env.DISK as string;
const vm = { memoryMiB: 64, cpus: 1, accel: 'tcg' as const, disks: [{ file: disk, readOnly: true }], extraArgs: ['-S'] };

const net = await VxlanNetwork.create({ id, underlay: 'eth0', prefix: '2001:db8:9a::/64', netns, ra: false });
const vms = [];
for (const vmId of (process.env.VM_IDS as string).split(',').map(Number)) {
  const v = await net.startVm({ id: vmId, ...vm });
  vms.push({ name: v.name, tap: v.tap, pid: v.pid, guard: (v.portSecurity as { id?: string } | undefined)?.id });
}
process.stdout.write(`${JSON.stringify(vms)}\n`);
setInterval(() => undefined, 60_000);
