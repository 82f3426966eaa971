/**
 * The fixture of the netlink integration tests: a throwaway namespace and a `Netlink` opened
 * in it, made before the file's tests and removed after them (also when a test fails), as
 * vishvananda/netlink's setUpNetlinkTest. Call it at the top of a describe block.
 */
import { afterAll, beforeAll } from 'vitest';

import { Netlink } from '../../lib/netlink/index.js';
import { TestNetns } from './netns.js';

/** What the tests of the block use; valid inside tests and hooks. */
export interface NetlinkFixture {
  readonly ns: TestNetns;
  readonly nl: Netlink;
}

/**
 * Registers beforeAll/afterAll hooks that make and remove the namespace and the handle;
 * `setup` runs in the new namespace before the handle is opened (links the tests start from).
 */
export function useNetlinkNamespace(prefix = 'vmpnl', setup?: (ns: TestNetns) => void | Promise<void>): NetlinkFixture {
  let ns: TestNetns | undefined;
  let nl: Netlink | undefined;
  beforeAll(async () => {
    ns = new TestNetns(prefix);
    await setup?.(ns);
    nl = await Netlink.open({ netns: ns.name });
  });
  afterAll(async () => {
    await nl?.close();
    ns?.cleanup();
  });
  return {
    get ns() {
      if (!ns) throw new Error('the netlink fixture is used outside its tests');
      return ns;
    },
    get nl() {
      if (!nl) throw new Error('the netlink fixture is used outside its tests');
      return nl;
    },
  };
}
