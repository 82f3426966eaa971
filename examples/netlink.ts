/**
 * Links over rtnetlink (README "Links: Netlink"): the reference setup's links made one call
 * each, read back, an FDB entry for a unicast peer, the link event stream, one bulk delete.
 *
 * Run as root in a throwaway namespace with an `eth0`: `ip netns exec NS npx tsx examples/netlink.ts`.
 */
import { Netlink, NetlinkError, vxlanGroupForId } from 'vmplumb';

await using nl = await Netlink.open(); // or { netns: 'name' | '/path' | fd }
await nl.createBridge({ name: 'br100', up: true });
await nl.createVxlan({
  name: 'vxlan100',
  vni: 100,
  group: vxlanGroupForId(100), // 'ff05::100', as the reference scripts
  dev: 'eth0',
  ttl: 5,
  master: 'br100',
  up: true,
}); // one RTM_NEWLINK request
await nl.addAddress('br100', '2a0a:e5c1:111:888::1/64', { nodad: true });

const link = await nl.getLink('vxlan100');
console.log(link?.kind, link?.master, link?.vxlan?.vni, link?.vxlan?.group, link?.vxlan?.port); // vxlan <br100 index> 100 ff05::100 4789

await nl.addFdb({ link: 'vxlan100', mac: '00:00:00:00:00:00', dst: '2001:db8::2', append: true });

for await (const event of nl.linkEvents({ existing: true })) {
  console.log(event.type, event.link.name); // 'new' lo, 'new' eth0, …
  break; // ending the iteration closes its socket
}

try {
  await nl.createBridge({ name: 'br100' });
} catch (error) {
  if (!(error instanceof NetlinkError)) throw error;
  console.log(error.code, error.errno, error.syscall); // EEXIST -17 RTM_NEWLINK
}

await nl.deleteLinks(['vxlan100', 'br100']); // one bulk delete (by link group)
