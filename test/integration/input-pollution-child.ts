/**
 * Run by input-pollution.test.ts in a child process (tsx): pollutes Object.prototype for real,
 * then makes ordinary calls in namespace argv[2] and prints what each call returned. The
 * parent reads the kernel's state: the calls must act exactly as without the pollution.
 * argv[3] is the ifindex of a victim link the pollution points at.
 */
import { Netlink } from '../../lib/index.js';

const [netns, victim] = process.argv.slice(2) as [string, string];
const index = Number(victim);
const pollute = process.argv[4] !== 'clean';

if (pollute) {
  // Enumerable, as `obj[key] = value` through a merge bug would make them.
  Object.assign(Object.prototype, {
    index,
    mtu: 9000,
    group: 7,
    linkGroup: 7,
    master: index,
    link: index,
    txqlen: 5,
    dev: 'victim',
    scope: 'host',
    peer: { name: 'leak0' },
    rename: 'victim2',
    netnsFd: 0,
    extMask: 0,
    prefixLength: 8,
    flags: 1,
    change: 1,
  });
}

const results: Record<string, string> = {};
const record = async (what: string, call: () => Promise<unknown>): Promise<void> => {
  try {
    await call();
    results[what] = 'ok';
  } catch (error) {
    results[what] = String((error as { code?: string }).code ?? (error as Error).message);
  }
};

const nl = await Netlink.open({ netns });
await record('createBridge', () => nl.createBridge({ name: 'brp' }));
await record('createVxlan', () => nl.createVxlan({ name: 'vxp', vni: 9, group: 'ff05::9', dev: 'eth0' }));
await record('addAddress', () => nl.addAddress('brp', '2001:db8:7::1/64', { nodad: true }));
await record('setLink', () => nl.setLink('vxp', { master: 'brp' }));
await record('setLinkMany', () => nl.setLink('brp', { mtu: 1400, linkGroup: 3 }));
await record('deleteLink', () => nl.deleteLink('target'));
const brp = await nl.getLink('brp');
results.getLink = JSON.stringify({ master: brp?.master, mtu: brp?.mtu, group: brp?.group });
const listed = (await nl.listLinks({ kind: 'bridge' })).find((l) => l.name === 'brp');
results.listLinks = JSON.stringify({ master: listed?.master, mtu: listed?.mtu });
// Event streams parse kernel messages too: brp as the stream's dump reports it.
for await (const event of nl.linkEvents({ existing: true })) {
  if (event.link.name !== 'brp') continue;
  results.linkEvents = JSON.stringify({ master: event.link.master, mtu: event.link.mtu, linkGroup: event.link.linkGroup });
  break;
}
await record('deleteLinks', () => nl.deleteLinks(['target2', 'target3']));
await nl.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
