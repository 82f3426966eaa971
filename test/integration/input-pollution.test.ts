/**
 * A polluted Object.prototype changes nothing (issue 14, class 3): a child process pollutes it
 * for real (index, mtu, group, master, dev, … all pointing at a victim link) and makes
 * ordinary calls; the kernel's state afterwards must equal that of a child making the same
 * calls without pollution, and the victim must be untouched. Both sides of the native
 * boundary read own properties only.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { namespaceStateAsync } from '../helpers/namespace-state.js';
import { runAsync, TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const CHILD = new URL('./input-pollution-child.ts', import.meta.url).pathname;

describe.skipIf(skipUnlessRoot('input: prototype pollution'))('input: prototype pollution', () => {
  const spaces: TestNetns[] = [];
  afterEach(() => {
    for (const ns of spaces.splice(0)) ns.cleanup();
  });

  /** A namespace with the links the child acts on, and the victim the pollution points at. */
  function setUp(): { ns: TestNetns; victim: number } {
    const ns = new TestNetns('vmppo');
    spaces.push(ns);
    ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    ns.ip('link', 'set', 'eth0', 'up');
    for (const name of ['victim', 'target', 'target2', 'target3']) ns.ip('link', 'add', name, 'type', 'bridge');
    const victim = ns.ipJson('link', 'show', 'dev', 'victim')[0].ifindex as number;
    return { ns, victim };
  }

  /** The state with ifindexes and MACs (which differ between two namespaces) left out. */
  const comparable = async (ns: TestNetns) =>
    JSON.parse(
      JSON.stringify(await namespaceStateAsync(ns), (key, value: unknown) =>
        /^(ifindex|address|mac|link_index|broadcast|lladdr|bridge_id|root_id|designated_root|designated_bridge|id|no)$/u.test(key) ? undefined : value,
      ),
    );

  // Two tsx children compile and run in parallel: tens of seconds on a loaded machine.
  it('calls act exactly as without the pollution, and the victim is untouched', { timeout: 180_000 }, async () => {
    const clean = setUp();
    const polluted = setUp();
    const victimBefore = polluted.ns.ipJson('-d', 'link', 'show', 'dev', 'victim');
    const [cleanOut, pollutedOut] = await Promise.all([
      runAsync('npx', ['tsx', CHILD, clean.ns.name, String(clean.victim), 'clean']),
      runAsync('npx', ['tsx', CHILD, polluted.ns.name, String(polluted.victim)]),
    ]);
    // What getLink/listLinks/linkEvents report of brp must come from the kernel, not from the prototype.
    const read = {
      getLink: JSON.stringify({ mtu: 1400, group: 3 }),
      listLinks: JSON.stringify({ mtu: 1400 }),
      linkEvents: JSON.stringify({ mtu: 1400, linkGroup: 3 }),
    };
    const expected = {
      createBridge: 'ok',
      createVxlan: 'ok',
      addAddress: 'ok',
      setLink: 'ok',
      setLinkMany: 'ok',
      deleteLink: 'ok',
      deleteLinks: 'ok',
      ...read,
    };
    expect(JSON.parse(cleanOut)).toEqual(expected);
    expect(JSON.parse(pollutedOut)).toEqual(expected);
    expect(polluted.ns.ipJson('-d', 'link', 'show', 'dev', 'victim')).toEqual(victimBefore);
    expect(await comparable(polluted.ns)).toEqual(await comparable(clean.ns));
    // The calls did act: the control shows what "as asked" means.
    const links = clean.ns.ipJson('-d', 'link', 'show').map((l: { ifname: string }) => l.ifname);
    expect(links).toEqual(expect.arrayContaining(['brp', 'vxp', 'victim']));
    expect(links).not.toContain('target');
  });
});
