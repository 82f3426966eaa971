/**
 * A host agent for the restart test (test/guest/persist-restart.test.ts), run as its own
 * process so the test can SIGKILL it: creates network $NET_ID in namespace $NETNS and starts
 * VM 1 with the test guest, prints one JSON line (the VM's address, pid and name), and waits.
 */
import { VxlanNetwork } from '../../lib/network.js';
import { guestBootOptions } from '../../testing/guest/boot.js';

const net = await VxlanNetwork.create({
  id: Number(process.env.NET_ID),
  underlay: 'eth0',
  prefix: process.env.PREFIX as string,
  netns: process.env.NETNS as string,
});
const guest = { kernel: process.env.KERNEL as string, initrd: process.env.INITRD as string, append: process.env.APPEND as string };
const vm = await net.startVm({ id: 1, ...guestBootOptions(guest, process.env.SERIAL as string) });
process.stdout.write(`${JSON.stringify({ address: vm.address, pid: vm.pid, name: vm.name })}\n`);
setInterval(() => undefined, 1 << 30);
