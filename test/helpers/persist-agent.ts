/**
 * A scripted host agent for the crash-consistency tests, run as its own process (tsx) so it
 * can be SIGKILLed at a crash point (VMPLUMB_CRASH_AT, lib/state/crash-point.ts):
 * create network $NET_ID in namespace $NETNS (underlay eth0), start VM 1, stop it, start
 * VM 2, destroy the network. The VMs are qemu -S on an empty disk: no guest boots.
 * Exits 0 when it got through (no crash point left to hit).
 */
import { VxlanNetwork } from '../../lib/network.js';

const netns = process.env.NETNS as string;
const id = Number(process.env.NET_ID);
const disk = process.env.DISK as string;
const vm = { memoryMiB: 64, cpus: 1, accel: 'tcg' as const, disks: [{ file: disk, readOnly: true }], extraArgs: ['-S'] };

const net = await VxlanNetwork.create({ id, underlay: 'eth0', prefix: '2001:db8:c0::/64', netns });
const first = await net.startVm({ id: 1, ...vm });
await first.stop({ timeoutMs: 600 });
await net.startVm({ id: 2, ...vm });
await net.destroy({ timeoutMs: 600 });
