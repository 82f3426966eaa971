/**
 * The real modules behind VxlanNetwork (see ./deps.ts): rtnetlink, /dev/net/tun, qemu and the
 * router advertiser. Loaded on first use, so tests that pass fakes never load the addon.
 */
import { securePort, type PortGuard } from '../guard/index.js';
import { eui64Address, macForVm } from '../mac.js';
import { Netlink, vxlanGroupForId } from '../netlink/index.js';
import { netnsIdentity } from '../netns.js';
import { Qemu } from '../qemu/index.js';
import { RouterAdvertiser } from '../ra/index.js';
import { openTap, type Tap } from '../tap.js';
import type { NetworkDeps } from './deps.js';
import { systemState } from './state.js';

/** The production bindings of {@link NetworkDeps}. */
export const systemDeps: NetworkDeps = {
  netnsIdentity,
  openNetlink: (netns) => Netlink.open(netns === undefined ? {} : { netns }),
  openTap: (options) => openTap(options),
  spawnQemu: (options) =>
    Qemu.spawn({
      ...options,
      nics: options.nics.map((n) => ({ tap: n.tap as Tap, mac: n.mac, ...(n.guard === undefined ? {} : { guard: n.guard as PortGuard }) })),
    } as Parameters<typeof Qemu.spawn>[0]),
  createAdvertiser: (options) => new RouterAdvertiser(options),
  macForVm,
  eui64Address,
  vxlanGroupForId,
  state: systemState,
  securePort,
};
