/**
 * VxlanNetwork's orchestration with fakes of the other modules: option validation before
 * anything is made, the order of the set-up, rollback of every step when a later one fails,
 * the teardown, the VM life cycle and the shared advertiser per namespace.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';

import { describe, expect, it, vi } from 'vitest';

import { AdvertiserRegistry } from '../../lib/network/advertisers.js';
import type { AdvertiserPort, NetlinkPort, NetworkDeps, NetworkStatePort, QemuPort, QemuSpawnOptions, TapPort } from '../../lib/network/deps.js';
import type { NetworkRecord } from '../../lib/state/network-record.js';
import { creationGroup, stagedLink, stagingLinkName } from '../../lib/state/link-mark.js';
import { resolveNetworkOptions } from '../../lib/network/options.js';
import { tapNameForVm } from '../../lib/network/vm-options.js';
import type { QemuExit } from '../../lib/qemu/qemu.js';
import type { AdvertisedInterface, VmExitEvent } from '../../lib/network/types.js';
import { withInternals } from '../../lib/network/internals.js';
import { FINAL_RA_CHANNEL, type FinalRaMessage } from '../../lib/diagnostics.js';
import { FINAL_RA_WARNING_CODE } from '../../lib/network/final-ra.js';
import { NetworkSetupError, VxlanNetwork } from '../../lib/network.js';
import { eui64Address, macForVm } from '../../lib/mac.js';
import { vxlanGroupForId } from '../../lib/netlink/vxlan-group.js';

/** A fake world: links that exist, a log of calls, and failures to inject by call name. */
class World {
  links = new Map<string, { kind: string; master?: string; up?: boolean; carrier?: boolean }>();
  addresses: { link: string; address: string; nodad?: boolean }[] = [];
  fdb: { link: string; dst?: string }[] = [];
  log: string[] = [];
  fail = new Map<string, Error>();
  advertisers: FakeAdvertiser[] = [];
  qemus: FakeQemu[] = [];
  netlinksOpen = 0;
  /** What a farewell (final RA for another sender's interface) resolves: false = the interface never became ready. */
  farewellSent = true;

  private check(call: string): void {
    this.log.push(call);
    const error = this.fail.get(call.split(' ')[0] ?? '');
    if (error) throw error;
  }

  netlink(): NetlinkPort {
    this.netlinksOpen += 1;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the returned port's methods report back to this world
    const w = this;
    let open = true;
    return {
      async createBridge(o) {
        w.check(`createBridge ${o.name}${o.alias === undefined ? '' : ` alias ${o.alias}`}${o.linkGroup === undefined ? '' : ` group ${o.linkGroup}`}`);
        if (w.links.has(o.name)) throw Object.assign(new Error(`createBridge ${o.name}: EEXIST: File exists`), { code: 'EEXIST' });
        w.links.set(o.name, { kind: 'bridge', up: o.up });
      },
      async createVxlan(o) {
        w.check(`createVxlan ${o.name}${o.alias === undefined ? '' : ` alias ${o.alias}`}${o.linkGroup === undefined ? '' : ` group ${o.linkGroup}`}`);
        if (w.links.has(o.name)) throw Object.assign(new Error(`createVxlan ${o.name}: EEXIST: File exists`), { code: 'EEXIST' });
        if (!w.links.has(String(o.dev))) throw Object.assign(new Error(`createVxlan ${o.name}: ENODEV: No such device`), { code: 'ENODEV' });
        w.links.set(o.name, { kind: 'vxlan', master: String(o.master), up: o.up });
        w.lastVxlan = o as unknown as Record<string, unknown>;
      },
      async setLink(link, c) {
        w.check(`setLink ${String(link)}${c.addrGenMode === undefined ? '' : ` addrGenMode ${c.addrGenMode}`}${c.up ? ' up' : ''}`);
        const l = w.links.get(String(link));
        if (!l) throw Object.assign(new Error('ENODEV'), { code: 'ENODEV' });
        Object.assign(l, { master: c.master ?? l.master, up: c.up ?? l.up });
      },
      async renameLink(link, name, o) {
        w.check(
          `renameLink ${String(link)} ${name}${o.alias === undefined ? '' : ` alias ${o.alias}`}${o.addrGenMode === undefined ? '' : ` addrGenMode ${o.addrGenMode}`}${o.linkGroup === undefined ? '' : ` group ${o.linkGroup}`}${o.up ? ' up' : ''}`,
        );
        const l = w.links.get(String(link));
        if (!l) throw Object.assign(new Error('ENODEV'), { code: 'ENODEV' });
        if (name !== String(link) && w.links.has(name))
          throw Object.assign(new Error(`renameLink ${String(link)} to ${name}: EEXIST: File exists`), { code: 'EEXIST' });
        w.links.delete(String(link));
        w.links.set(name, { ...l, up: o.up ?? l.up });
      },
      async getLink(link) {
        const l = w.links.get(String(link));
        // A port up by default: the bridge has carrier, so its final RA is due.
        return l ? ({ name: String(link), kind: l.kind, up: l.up ?? true, carrier: l.carrier ?? true } as never) : undefined;
      },
      async deleteLink(link) {
        w.check(`deleteLink ${String(link)}`);
        if (!w.links.delete(String(link))) throw Object.assign(new Error('ENODEV'), { code: 'ENODEV' });
      },
      async addAddress(link, address, o) {
        w.check(`addAddress ${String(link)} ${address}`);
        w.addresses.push({ link: String(link), address, nodad: o?.nodad });
      },
      async listAddresses(link) {
        return w.addresses
          .filter((a) => a.link === link)
          .map((a) => ({
            index: 1,
            family: 6,
            address: a.address.split('/')[0],
            prefixLength: Number(a.address.split('/')[1]),
            scope: 'universe',
          })) as never;
      },
      async addFdb(e) {
        w.check(`addFdb ${String(e.link)} ${e.dst}`);
        w.fdb.push({ link: String(e.link), dst: e.dst });
      },
      async deleteFdb(e) {
        w.check(`deleteFdb ${String(e.link)} ${e.dst}`);
      },
      close() {
        if (open) {
          open = false;
          w.netlinksOpen -= 1;
        }
      },
    };
  }

  lastVxlan: Record<string, unknown> = {};

  deps(): NetworkDeps {
    return {
      // The fake namespaces exist by name only: the name is their identity.
      netnsIdentity: (netns) => (netns === undefined ? 'current' : String(netns)),
      openNetlink: async () => {
        this.check('openNetlink');
        return this.netlink();
      },
      openTap: async ({ name }) => {
        this.check(`openTap ${name}`);
        this.links.set(name, { kind: 'tun' });
        const tap: TapPort = {
          name,
          close: () => {
            this.links.delete(name);
          },
        };
        return tap;
      },
      spawnQemu: async (o) => {
        this.check(`spawnQemu ${o.name}`);
        const q = new FakeQemu(o, this);
        this.qemus.push(q);
        return q;
      },
      createAdvertiser: (o) => {
        this.log.push(`createAdvertiser ${o.interfaces.map((i) => i.name).join(',')}`);
        const a = new FakeAdvertiser(o.interfaces, this);
        this.advertisers.push(a);
        return a;
      },
      macForVm,
      eui64Address,
      vxlanGroupForId,
    };
  }
}

class FakeAdvertiser extends EventEmitter implements AdvertiserPort {
  running = false;
  constructor(
    public interfaces: AdvertisedInterface[],
    private w: World,
  ) {
    super();
  }
  async start() {
    this.w.log.push('ra.start');
    const e = this.w.fail.get('ra.start');
    if (e) throw e;
    this.running = true;
  }
  addInterface(c: AdvertisedInterface) {
    this.w.log.push(`ra.addInterface ${c.name}`);
    this.interfaces.push(c);
  }
  removeInterface(name: string) {
    this.w.log.push(`ra.removeInterface ${name}`);
    this.interfaces = this.interfaces.filter((i) => i.name !== name);
  }
  async stop() {
    this.w.log.push('ra.stop');
    this.running = false;
  }
  async farewell(c: AdvertisedInterface) {
    this.w.log.push(`ra.farewell ${c.name}`);
    return this.w.farewellSent;
  }
}

/** The run directory, in memory: the record's states, the two locks, what holds them. */
function fakeState(w: World, raHeldElsewhere: { value: boolean }): NetworkStatePort {
  let record: NetworkRecord | undefined;
  const files = { dir: '/run/x/net/host', record: '/run/x/net/host/100.json', lock: '/run/x/net/host/100.lock', raLock: '/run/x/net/host/100.ra.lock' };
  const lock = (name: string) => ({ path: name, release: () => w.log.push(`release ${name}`) });
  return {
    resolveRunDir: () => '/run/x',
    files: () => files,
    lock: () => (w.log.push('lock'), lock('lock')),
    lockRa: () => (raHeldElsewhere.value ? undefined : (w.log.push('lockRa'), lock('raLock'))),
    // A fake: checks the flag every 5 ms (the real one waits for inotify or a pidfd).
    waitRa: async (_files, { signal }) => {
      for (;;) {
        signal?.throwIfAborted();
        if (!raHeldElsewhere.value) return (w.log.push('lockRa'), lock('raLock'));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    read: async () => {
      if (!record) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return record;
    },
    write: (_f, r) => {
      w.log.push(`record ${r.state}`);
      record = r;
    },
    remove: () => {
      w.log.push('record removed');
      record = undefined;
    },
    adoptVms: async () => ({ vms: [], skipped: [] }),
  };
}

class FakeQemu implements QemuPort {
  readonly pid = 4242;
  readonly qmp = {};
  readonly exited: Promise<QemuExit>;
  exit!: (e: QemuExit) => void;
  constructor(
    public options: QemuSpawnOptions,
    private w: World,
  ) {
    this.exited = new Promise((resolve) => {
      this.exit = (e) => {
        // qemu's tap fds close with the process: the kernel removes the tap.
        for (const nic of options.nics) w.links.delete(nic.tap.name);
        resolve(e);
      };
    });
  }
  async shutdown() {
    this.w.log.push(`qemu.shutdown ${this.options.name}`);
    this.exit({ code: 0, signal: null, reason: 'shutdown' });
  }
  kill() {
    this.w.log.push(`qemu.kill ${this.options.name}`);
    this.exit({ code: null, signal: 'SIGKILL', reason: 'killed' });
  }
}

const base = { id: 100, underlay: 'eth0', prefix: '2a0a:e5c1:111:888::/64' };
/** vi.waitFor's bound for what a loaded CI worker may defer by seconds (time slices: lib/time-slice.ts). */
const LOADED = { timeout: 20_000 };

function setup() {
  const w = new World();
  w.links.set('eth0', { kind: 'veth' });
  return { w, internals: { deps: w.deps(), registry: new AdvertiserRegistry() } };
}

describe('VxlanNetwork options', () => {
  const resolve = (o: object) => resolveNetworkOptions({ ...base, ...o }, vxlanGroupForId);

  it('fills in the reference defaults', () => {
    const o = resolve({});
    expect(o).toMatchObject({
      group: 'ff05::100',
      port: 4789,
      ttl: 5,
      routerAddress: '2a0a:e5c1:111:888::1',
      names: { vxlan: 'vxlan100', bridge: 'br100' },
      ra: { minInterval: 3, maxInterval: 5, defaultLifetime: 3600, dnsLifetime: 6000, followForwarding: false },
      peers: [],
    });
  });

  it.each([
    [{ id: 16777216 }, 'Expected "id" to be an integer from 0 to 16777215, got 16777216'],
    [{ id: '100' }, 'Expected "id" to be an integer from 0 to 16777215, got "100"'],
    [{ underlay: 'a-very-long-ifname0' }, 'Expected "underlay" to be an interface name of 1 to 15 bytes, got "a-very-long-ifname0"'],
    [{ prefix: '2a0a:e5c1:111:888::/48' }, 'got "2a0a:e5c1:111:888::/48": SLAAC needs a /64'],
    [{ prefix: '2a0a:e5c1:111:888::1/64' }, 'host bits are set'],
    [{ prefix: '10.0.0.0/8' }, 'Expected "prefix" to be an IPv6 /64 prefix'],
    [{ routerAddress: '2001:db8::1' }, 'Expected "routerAddress" to be an address inside 2a0a:e5c1:111:888::/64, got "2001:db8::1"'],
    [{ group: '2001:db8::1' }, 'Expected "group" to be an IPv6 multicast address'],
    [{ group: 'ff05::1', peers: ['2001:db8::2'] }, 'Expected "peers" to be absent when "group" is given'],
    [{ peers: [] }, 'Expected "peers" to be a non-empty array'],
    [{ peers: ['nope'] }, 'Expected "peers[0]" to be an IPv6 address, got "nope"'],
    [{ port: 0 }, 'Expected "port" to be an integer from 1 to 65535, got 0'],
    [{ ttl: 256 }, 'Expected "ttl" to be an integer from 1 to 255, got 256'],
    [{ rdnss: ['2a0a:e5c0::3', 'x'] }, 'Expected "rdnss[1]" to be an IPv6 address, got "x"'],
    [{ dnssl: ['bad domain'] }, 'Expected "dnssl[0]" to be a domain name like example.com, got "bad domain"'],
    [{ dnssl: ['ok.example', '_sites.example.com'] }, 'Expected "dnssl[1]" to be a domain name like example.com, got "_sites.example.com"'],
    [{ mtu: 1000 }, 'Expected "mtu" to be an integer from 1280 to 65535, got 1000'],
    [{ pref64: '64:ff9b::/80' }, 'Expected "pref64" to be an IPv6 prefix of length 32, 40, 48, 56, 64 or 96'],
    [{ ra: { minInterval: 10, maxInterval: 5 } }, 'Expected "ra.minInterval" to be at most 0.75 × ra.maxInterval (5), got 10'],
    [{ ra: { followForwarding: 'yes' } }, 'Expected "ra.followForwarding" to be a boolean, got "yes"'],
    [{ names: { bridge: 'vxlan100' } }, 'Expected "names.bridge" to be a name other than the vxlan\'s'],
    [{ netns: {} }, 'Expected "netns" to be a namespace name, path or fd'],
  ])('rejects %j', (bad, message) => {
    expect(() => resolve(bad)).toThrow(message);
  });

  it('a missing "underlay" is named', () => {
    expect(() => resolveNetworkOptions({ id: 1, prefix: base.prefix }, vxlanGroupForId)).toThrow(/"underlay"/u);
  });
});

describe('tapNameForVm', () => {
  it('is vm<id>n<netid> when it fits, shorter and unique otherwise', () => {
    expect(tapNameForVm(1, 100)).toBe('vm1n100');
    expect(tapNameForVm(99999, 999999)).toBe('vm99999n999999');
    expect(tapNameForVm(12345, 16777215)).toBe('v9ix-9zldr');
    const long = tapNameForVm(4294967295, 16777215);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(15);
    expect(long).toBe('v1z141z3-9zldr');
    const names = new Set<string>();
    for (const vm of [0, 9, 99999, 100000, 123456789, 4294967295]) for (const net of [0, 100, 99999, 16777215]) names.add(tapNameForVm(vm, net));
    expect(names.size).toBe(24);
    for (const n of names) expect(Buffer.byteLength(n)).toBeLessThan(16);
  });
});

/** What the fake sees of VxlanNetwork.create (base options): the reference set-up, in order. */
const REFERENCE_SETUP = [
  'openNetlink',
  'createBridge br100',
  'createVxlan vxlan100',
  'setLink vxlan100 addrGenMode none',
  'setLink vxlan100 up',
  'addAddress br100 2a0a:e5c1:111:888::1/64',
  'createAdvertiser br100',
  'ra.start',
];

describe('VxlanNetwork.create', () => {
  it('makes the reference set-up in order and tears it down', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create({ ...base, rdnss: ['2a0a:e5c0::3'], dnssl: ['place7.ungleich.ch'] }));
    expect(w.log).toEqual(REFERENCE_SETUP);
    expect(w.lastVxlan).toMatchObject({ name: 'vxlan100', vni: 100, group: 'ff05::100', dev: 'eth0', port: 4789, ttl: 5, master: 'br100', up: false });
    expect(w.addresses[0]?.nodad).toBe(true);
    expect(w.advertisers[0]?.interfaces).toEqual([
      {
        name: 'br100',
        minInterval: 3,
        maxInterval: 5,
        defaultLifetime: 3600,
        prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }],
        rdnss: [{ servers: ['2a0a:e5c0::3'], lifetime: 6000 }],
        dnssl: [{ domains: ['place7.ungleich.ch'], lifetime: 6000 }],
      },
    ]);
    w.log = [];
    await net.destroy();
    await net.destroy();
    expect(w.log).toEqual(['ra.stop', 'deleteLink vxlan100', 'deleteLink br100']);
    expect([...w.links.keys()]).toEqual(['eth0']);
    expect(w.netlinksOpen).toBe(0);
  });

  it('destroy reports every failed part in one AggregateError and still does the rest', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create(base));
    expect(net.destroyed).toBe(false);
    w.fail.set('deleteLink', Object.assign(new Error('deleteLink: EBUSY: Device or resource busy'), { code: 'EBUSY' }));
    w.log = [];
    const error = await net.destroy().catch((e: unknown) => e);
    expect(net.destroyed).toBe(true);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['delete vxlan100 and br100: deleteLink: EBUSY: Device or resource busy']);
    expect((error as Error).message).toMatch(/^VxlanNetwork 100: teardown incomplete: delete vxlan100 and br100: /u);
    // The parts after a failure were still attempted, and the socket closed.
    expect(w.log).toEqual(['ra.stop', 'deleteLink vxlan100', 'deleteLink br100']);
    expect(w.netlinksOpen).toBe(0);
    // Idempotent: the same outcome, not a second teardown.
    await expect(net.destroy()).rejects.toBe(error);
  });

  it('unicast mode: no group, an FDB entry per peer', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create({ ...base, peers: ['2001:db8::2', '2001:db8::3'] }));
    expect(w.lastVxlan.group).toBeUndefined();
    expect(w.lastVxlan.remote).toBe('::');
    expect(w.fdb).toEqual([
      { link: 'vxlan100', dst: '2001:db8::2' },
      { link: 'vxlan100', dst: '2001:db8::3' },
    ]);
    expect(net.group).toBeUndefined();
    await net.destroy();
  });

  it.each([
    ['createBridge', 'create bridge br100', ['openNetlink', 'createBridge br100']],
    ['createVxlan', 'create vxlan100 on underlay eth0', ['openNetlink', 'createBridge br100', 'createVxlan vxlan100', 'deleteLink br100']],
    ['addAddress', 'add 2a0a:e5c1:111:888::1/64 to br100', [...REFERENCE_SETUP.slice(0, 6), 'deleteLink vxlan100', 'deleteLink br100']],
    ['ra.start', 'start router advertisements on br100', [...REFERENCE_SETUP, 'deleteLink vxlan100', 'deleteLink br100']],
  ])('rolls back when %s fails', async (call, step, log) => {
    const { w, internals } = setup();
    const cause = Object.assign(new Error(`${call}: EPERM: Operation not permitted`), { code: 'EPERM' });
    w.fail.set(call, cause);
    const error = await withInternals(internals, () => VxlanNetwork.create(base)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkSetupError);
    expect((error as NetworkSetupError).message).toBe(`VxlanNetwork 100: ${step} failed: ${cause.message}`);
    expect((error as NetworkSetupError).step).toBe(step);
    expect((error as NetworkSetupError).cause).toBe(cause);
    expect((error as { code?: string }).code).toBe('EPERM');
    expect(w.log).toEqual(log);
    expect([...w.links.keys()]).toEqual(['eth0']);
    expect(w.netlinksOpen).toBe(0);
  });

  it('a missing underlay fails at the vxlan and leaves no bridge', async () => {
    const { w, internals } = setup();
    await expect(withInternals(internals, () => VxlanNetwork.create({ ...base, underlay: 'eth9' }))).rejects.toThrow(
      'VxlanNetwork 100: create vxlan100 on underlay eth9 failed: createVxlan vxlan100: ENODEV: No such device',
    );
    expect([...w.links.keys()]).toEqual(['eth0']);
  });

  it('validates before touching anything', async () => {
    const { w, internals } = setup();
    await expect(withInternals(internals, () => VxlanNetwork.create({ ...base, ttl: 0 }))).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(w.log).toEqual([]);
  });

  it('one advertiser per namespace serves every network in it', async () => {
    const { w, internals } = setup();
    const a = await withInternals(internals, () => VxlanNetwork.create(base));
    const b = await withInternals(internals, () => VxlanNetwork.create({ ...base, id: 101, prefix: '2a0a:e5c1:111:889::/64' }));
    const c = await withInternals(internals, () => VxlanNetwork.create({ ...base, id: 102, prefix: '2a0a:e5c1:111:88a::/64', netns: 'other' }));
    expect(w.advertisers).toHaveLength(2);
    expect(w.advertisers[0]?.interfaces.map((i) => i.name)).toEqual(['br100', 'br101']);
    await a.destroy();
    expect(w.advertisers[0]?.running).toBe(true);
    expect(w.advertisers[0]?.interfaces.map((i) => i.name)).toEqual(['br101']);
    await Promise.all([b.destroy(), c.destroy()]);
    expect(w.advertisers.map((x) => x.running)).toEqual([false, false]);
    expect(internals.registry.size).toBe(0);
  });

  it("the shared advertiser's failures reach the network whose bridge they concern", async () => {
    const { w, internals } = setup();
    const a = await withInternals(internals, () => VxlanNetwork.create(base));
    const b = await withInternals(internals, () => VxlanNetwork.create({ ...base, id: 101, prefix: '2a0a:e5c1:111:889::/64' }));
    const seen: string[] = [];
    a.on('ra-error', (e) => seen.push(`100: ${e.message}`));
    b.on('ra-error', (e) => seen.push(`101: ${e.message}`));
    w.advertisers[0]?.emit('error', Object.assign(new Error('sendmsg ENOBUFS'), { interface: 'br101' }));
    w.advertisers[0]?.emit('error', new Error('monitor failed'));
    expect(seen).toEqual(['101: sendmsg ENOBUFS', '100: monitor failed', '101: monitor failed']);
    await Promise.all([a.destroy(), b.destroy()]);
  });

  it('ra.followForwarding reaches the advertiser only when asked (a record without it reads the same in an older process)', async () => {
    const { w, internals } = setup();
    const nets = [
      await withInternals(internals, () => VxlanNetwork.create({ ...base, ra: { followForwarding: true } })),
      await withInternals(internals, () => VxlanNetwork.create({ ...base, id: 101, prefix: '2a0a:e5c1:111:889::/64', ra: { followForwarding: false } })),
    ];
    expect(w.advertisers[0]?.interfaces.map((i) => [i.name, i.followForwarding])).toEqual([
      ['br100', true],
      ['br101', undefined],
    ]);
    await Promise.all(nets.map((n) => n.destroy()));
  });

  it('ra: false sends none', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create({ ...base, ra: false }));
    expect(w.advertisers).toHaveLength(0);
    await net.destroy();
  });

  it('at most 256 creations are under way at once, the rest wait in line and go on 128 at a time; an abort takes one out of the line', async () => {
    const { w, internals } = setup();
    const held: (() => void)[] = [];
    const open = internals.deps.openNetlink;
    internals.deps.openNetlink = async (netns) => {
      const port = await open(netns);
      const createBridge = port.createBridge.bind(port);
      port.createBridge = async (o) => {
        await new Promise<void>((resolve) => held.push(resolve));
        return createBridge(o);
      };
      return port;
    };
    const release = (n: number): void => {
      for (const go of held.splice(0, n)) go();
    };
    let done = 0;
    const create = (id: number, signal?: AbortSignal): Promise<VxlanNetwork> =>
      withInternals(internals, () =>
        VxlanNetwork.create({ ...base, id, prefix: `2a0a:e5c1:111:${(0x900 + id).toString(16)}::/64`, ...(signal ? { signal } : {}) }),
      );
    const first = Array.from({ length: 256 }, (_, k) => create(100 + k).finally(() => (done += 1)));
    const controller = new AbortController();
    const aborted = create(999, controller.signal);
    const inLine = Array.from({ length: 200 }, (_, k) => create(400 + k).finally(() => (done += 1)));
    await vi.waitFor(() => expect(held).toHaveLength(256), LOADED);
    const reason = new Error('not any more');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);

    release(127);
    await vi.waitFor(() => expect(done).toBe(127), LOADED);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(held).toHaveLength(129); // 129 under way: above the low-water mark, the line waits
    release(1);
    await vi.waitFor(() => expect(held).toHaveLength(256), LOADED); // down to 128: 128 more at once
    release(256);
    await vi.waitFor(() => expect(held).toHaveLength(72), LOADED); // the rest of the line
    release(72);
    const nets = await Promise.all([...first, ...inLine]);
    expect(nets).toHaveLength(456);
    expect(w.log.filter((l) => l.startsWith('createBridge'))).toHaveLength(456);
    expect(w.log.filter((l) => /\b(br|vxlan)999\b/.test(l))).toEqual([]); // the aborted one did nothing
    await Promise.all(nets.map((n) => n.destroy()));
    expect([...w.links.keys()]).toEqual(['eth0']);
  });
});

describe('VxlanNetwork.startVm', () => {
  it('opens the tap, enslaves it, spawns qemu with it; stop removes the tap', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create(base));
    const exits: VmExitEvent[] = [];
    net.on('vm-exit', (e) => exits.push(e));
    w.log = [];
    const vm = await net.startVm({ id: 1, memoryMiB: 256, cpus: 1, kernel: '/k', initrd: '/i', accel: 'tcg' });
    expect(w.log).toEqual(['openTap vm1n100', 'setLink vm1n100 up', 'spawnQemu vm1n100']);
    expect(w.links.get('vm1n100')).toMatchObject({ master: 'br100', up: true });
    expect(vm).toMatchObject({ mac: '02:00:00:00:00:01', address: '2a0a:e5c1:111:888:0:ff:fe00:1', tap: 'vm1n100', pid: 4242 });
    expect(w.qemus[0]?.options).toMatchObject({ name: 'vm1n100', accel: 'tcg', kernel: '/k', initrd: '/i', nics: [{ mac: '02:00:00:00:00:01' }] });
    await expect(net.startVm({ id: 1, memoryMiB: 256, cpus: 1, kernel: '/k' })).rejects.toThrow('Expected "id" to be the id of no other VM');
    await vm.stop({ timeoutMs: 10 });
    expect(w.links.has('vm1n100')).toBe(false);
    expect(exits).toEqual([{ id: 1, name: 'vm1n100', tap: 'vm1n100', exit: { code: 0, signal: null, reason: 'shutdown' }, expected: true }]);
    expect(net.vmList).toEqual([]);
    await net.destroy();
  });

  it('reports a VM that exits by itself, with its tap gone', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create(base));
    const vm = await net.startVm({ id: 7, memoryMiB: 256, cpus: 1, cdrom: '/x.iso', mac: '02:00:f0:a9:c4:4e' });
    expect(vm.address).toBe('2a0a:e5c1:111:888:0:f0ff:fea9:c44e');
    const event = new Promise<VmExitEvent>((resolve) => net.once('vm-exit', resolve));
    w.qemus[0]?.exit({ code: 0, signal: null, reason: 'guest-shutdown' });
    expect(await event).toMatchObject({ id: 7, expected: false });
    expect(w.links.has('vm7n100')).toBe(false);
    expect(vm.running).toBe(false);
    await net.destroy();
  });

  it('rolls back the tap when qemu fails to start', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create(base));
    w.fail.set('spawnQemu', new Error('spawn qemu-system-x86_64 ENOENT'));
    await expect(net.startVm({ id: 2, memoryMiB: 256, cpus: 1, kernel: '/k' })).rejects.toThrow(
      'VM 2 in network 100: spawn qemu for vm2n100 failed: spawn qemu-system-x86_64 ENOENT',
    );
    expect(w.links.has('vm2n100')).toBe(false);
    w.fail.clear();
    const vm = await net.startVm({ id: 2, memoryMiB: 256, cpus: 1, kernel: '/k' });
    expect(vm.tap).toBe('vm2n100');
    await net.destroy({ timeoutMs: 10 });
    expect([...w.links.keys()]).toEqual(['eth0']);
  });

  it.each([
    [{ id: -1 }, 'Expected "id" to be an integer from 0 to 4294967295, got -1'],
    [{ kernel: undefined }, 'one of "cdrom", "disks" or "kernel"'],
    [{ kernel: undefined, cdrom: '/a.iso', initrd: '/i' }, 'Expected "initrd" to be given only with "kernel"'],
    [{ mac: '01:00:00:00:00:01' }, 'Expected "mac" to be a unicast MAC address'],
    [{ tap: 'a-name-too-long-x' }, 'Expected "tap" to be an interface name of 1 to 15 bytes'],
    [{ accel: 'hvf' }, `Expected "accel" to be 'kvm', 'tcg' or 'auto', got "hvf"`],
    [{ memoryMiB: 1.5 }, 'Expected "memoryMiB" to be an integer'],
  ])('rejects %j before opening anything', async (bad, message) => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create(base));
    w.log = [];
    await expect(net.startVm({ id: 3, memoryMiB: 256, cpus: 1, kernel: '/k', ...bad } as never)).rejects.toThrow(message);
    expect(w.log).toEqual([]);
    await net.destroy();
  });

  it('destroy stops every VM first', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create(base));
    await net.startVm({ id: 1, memoryMiB: 256, cpus: 1, kernel: '/k' });
    await net.startVm({ id: 2, memoryMiB: 256, cpus: 1, kernel: '/k' });
    w.log = [];
    await net.destroy({ timeoutMs: 10 });
    expect(w.log.slice(0, 2).sort()).toEqual(['qemu.shutdown vm1n100', 'qemu.shutdown vm2n100']);
    expect(w.log.slice(2)).toEqual(['ra.stop', 'deleteLink vxlan100', 'deleteLink br100']);
    await expect(net.startVm({ id: 3, memoryMiB: 256, cpus: 1, kernel: '/k' })).rejects.toThrow('destroyed');
  });
});

describe('VxlanNetwork destroy with an AbortSignal', () => {
  /** A guest that ignores the power button: shutdown() ends only when qemu is killed. */
  const deaf = (w: World): FakeQemu => {
    const qemu = w.qemus.at(-1)!;
    qemu.shutdown = async () => {
      w.log.push(`qemu.shutdown ${qemu.options.name}`);
      await qemu.exited;
    };
    return qemu;
  };

  it('an aborted signal changes nothing: no VM stopped, no link deleted, still usable', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create(base));
    await net.startVm({ id: 1, memoryMiB: 256, cpus: 1, kernel: '/k' });
    w.log = [];
    const reason = new Error('not now');
    await expect(net.destroy({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(w.log).toEqual([]);
    expect(net.destroyed).toBe(false);
    await net.startVm({ id: 2, memoryMiB: 256, cpus: 1, kernel: '/k' });
    await expect(net.destroy({ signal: 'soon' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await net.destroy();
    expect([...w.links.keys()]).toEqual(['eth0']);
  });

  it('an abort while a VM powers off kills it and stops before the links; destroy() resumes without repeating a step', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create(base));
    await net.startVm({ id: 1, memoryMiB: 256, cpus: 1, kernel: '/k' });
    deaf(w);
    w.log = [];
    const controller = new AbortController();
    const reason = new Error('give up');
    const destroying = net.destroy({ signal: controller.signal });
    // The teardown takes its turn in a time slice (lib/time-slice.ts), which a loaded machine
    // may defer past any fixed number of macrotasks: wait for the power-off itself.
    await vi.waitFor(() => expect(w.log).toEqual(['qemu.shutdown vm1n100']), LOADED);
    controller.abort(reason);
    await expect(destroying).rejects.toBe(reason);
    expect(w.log).toEqual(['qemu.shutdown vm1n100', 'qemu.kill vm1n100']);
    expect([...w.links.keys()].sort()).toEqual(['br100', 'eth0', 'vxlan100']);
    expect(net.destroyed).toBe(true);
    await expect(net.startVm({ id: 2, memoryMiB: 256, cpus: 1, kernel: '/k' })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await net.destroy();
    expect(w.log.slice(2)).toEqual(['ra.stop', 'deleteLink vxlan100', 'deleteLink br100']);
    expect([...w.links.keys()]).toEqual(['eth0']);
    await net.destroy(); // idempotent once done
    expect(w.log.slice(2)).toEqual(['ra.stop', 'deleteLink vxlan100', 'deleteLink br100']);
  });

  it('a destroy() without a signal, joined to one that is aborted, still completes', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create(base));
    await net.startVm({ id: 1, memoryMiB: 256, cpus: 1, kernel: '/k' });
    deaf(w);
    const controller = new AbortController();
    const reason = new Error('first caller gave up');
    const first = net.destroy({ signal: controller.signal });
    const second = net.destroy();
    await vi.waitFor(() => expect(w.log).toContain('qemu.shutdown vm1n100'), LOADED);
    controller.abort(reason);
    await expect(first).rejects.toBe(reason);
    await second;
    expect([...w.links.keys()]).toEqual(['eth0']);
  });
});

describe('VxlanNetwork.join', () => {
  it('finds the bridge and its prefix, and owns only its VMs', async () => {
    const { w, internals } = setup();
    const made = await withInternals(internals, () => VxlanNetwork.create(base));
    const joined = await withInternals(internals, () => VxlanNetwork.join({ id: 100 }));
    expect(joined.prefix).toBe('2a0a:e5c1:111:888::/64');
    const vm = await joined.startVm({ id: 5, memoryMiB: 256, cpus: 1, kernel: '/k' });
    expect(vm.address).toBe('2a0a:e5c1:111:888:0:ff:fe00:5');
    await joined.destroy({ timeoutMs: 10 });
    expect(w.links.has('br100')).toBe(true);
    expect(w.links.has('vm5n100')).toBe(false);
    await made.destroy();
  });

  it('says what to do when the network is not there', async () => {
    const { internals } = setup();
    await expect(withInternals(internals, () => VxlanNetwork.join({ id: 100 }))).rejects.toThrow(
      'VxlanNetwork 100: there is no bridge br100 (start the network first, e.g. vmplumb net up --id 100 …)',
    );
  });
});

describe('VxlanNetwork.destroy during startVm', () => {
  it('waits for the start in flight and stops that VM too', async () => {
    const { w, internals } = setup();
    const net = await withInternals(internals, () => VxlanNetwork.create(base));
    const starting = net.startVm({ id: 1, memoryMiB: 256, cpus: 1, kernel: '/k' });
    const destroyed = net.destroy({ timeoutMs: 10 });
    const vm = await starting;
    await destroyed;
    expect(vm.running).toBe(false);
    expect(w.log).toContain('qemu.shutdown vm1n100');
    expect([...w.links.keys()]).toEqual(['eth0']);
  });
});

describe('await using', () => {
  it('disposes the VM and the network at the end of the scope', async () => {
    const { w, internals } = setup();
    {
      await using net = await withInternals(internals, () => VxlanNetwork.create(base));
      await using vm = await net.startVm({ id: 1, memoryMiB: 256, cpus: 1, kernel: '/k' });
      expect(vm.running).toBe(true);
    }
    expect(w.log).toContain('qemu.shutdown vm1n100');
    expect([...w.links.keys()]).toEqual(['eth0']);
    expect(w.netlinksOpen).toBe(0);
  });
});

/** What destroy does once the sender (serve) let go of the RA lock: lock, final RA, links, record, locks. */
const TEARDOWN_AFTER_SERVE = [
  'record destroying',
  'lockRa',
  'createAdvertiser ',
  'ra.start',
  'ra.farewell br100',
  'ra.stop',
  'deleteLink vxlan100',
  'deleteLink br100',
  'record removed',
  'release raLock',
  'release lock',
];

describe('VxlanNetwork in the run directory (fake state)', () => {
  it('create holds the manager lock and has recorded the network as creating before its first link, and marks its links', async () => {
    const { w, internals } = setup();
    const deps = { ...internals.deps, state: fakeState(w, { value: false }) };
    const net = await withInternals({ ...internals, deps }, () => VxlanNetwork.create(base));
    const first = w.log.findIndex((l) => l.startsWith('createBridge'));
    const group = creationGroup('/run/x');
    // Each link is made under its name in the run directory's creation group (down), then
    // marked and given the default group back in one request while still down (the vxlan's
    // IPv6 address generation turned off in it), then brought up. No rename.
    expect(w.log.slice(0, first + 6)).toEqual([
      'lock',
      'openNetlink',
      'record creating',
      `createBridge br100 group ${group}`,
      'renameLink br100 br100 alias vmplumb:net:100:/run/x group 0',
      'setLink br100 up',
      `createVxlan vxlan100 group ${group}`,
      'renameLink vxlan100 vxlan100 alias vmplumb:net:100:/run/x addrGenMode none group 0',
      'setLink vxlan100 up',
    ]);
    expect(w.lastVxlan).toMatchObject({ name: 'vxlan100', master: 'br100', up: false, linkGroup: group });
    expect(w.log.indexOf('release lock')).toBe(-1);
    expect(w.log).toContain('record ready');
    await net.close();
  });

  it('a name that is taken: EEXIST naming the step from the create itself, nothing made, that link untouched', async () => {
    const { w, internals } = setup();
    w.links.set('vxlan100', { kind: 'bridge', up: false }); // someone else's
    const deps = { ...internals.deps, state: fakeState(w, { value: false }) };
    const error = await withInternals({ ...internals, deps }, () => VxlanNetwork.create(base)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EEXIST', step: 'create vxlan100 on underlay eth0' });
    expect((error as Error).message).toContain('createVxlan vxlan100: EEXIST');
    expect(w.log).not.toContain('deleteLink vxlan100');
    expect([...w.links.keys()].sort()).toEqual(['eth0', 'vxlan100']);
  });

  it('staging names: 15 characters, network and run directory read back, nothing else taken for one', () => {
    for (const id of [0, 100, 4096, 16777215]) {
      for (const kind of ['bridge', 'vxlan'] as const) {
        const name = stagingLinkName('/run/vmplumb', id, kind);
        expect(name).toMatch(/^vmp[bx][0-9a-z]{11}$/u);
        expect(stagedLink(name, '/run/vmplumb')).toEqual({ id, kind });
        expect(stagedLink(name, '/run/elsewhere')).toBeUndefined();
      }
    }
    expect(stagingLinkName('/run/x', 100, 'bridge')).not.toBe(stagingLinkName('/run/x', 100, 'vxlan'));
    for (const other of ['br100', 'vxlan100', 'vm1n100', 'vmpb0002s', 'vmpbzzzzzz00000', 'vmpq0002s000000'])
      expect(stagedLink(other, '/run/x')).toBeUndefined();
  });

  it('destroy of a network another process advertises: destroying recorded, RA lock taken once freed, final RA sent, then the links go', async () => {
    const { w, internals } = setup();
    const held = { value: true };
    const deps = { ...internals.deps, state: fakeState(w, held) };
    const net = await withInternals({ ...internals, deps }, () => VxlanNetwork.create(base));
    expect(w.log.filter((l) => l.startsWith('createAdvertiser'))).toEqual([]); // serve advertises it
    w.log.length = 0;
    const destroying = net.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(w.log).toEqual(['record destroying']); // waiting for the RA lock: nothing deleted yet
    held.value = false; // serve let go
    await destroying;
    expect(w.log).toEqual(TEARDOWN_AFTER_SERVE);
  });

  it('an abort while destroy waits for the RA lock rejects with its reason: destroying recorded, nothing else done; destroy() resumes', async () => {
    const { w, internals } = setup();
    const held = { value: true };
    const deps = { ...internals.deps, state: fakeState(w, held) };
    const net = await withInternals({ ...internals, deps }, () => VxlanNetwork.create(base));
    w.log.length = 0;
    const ac = new AbortController();
    const destroying = net.destroy({ signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 30));
    ac.abort();
    expect(await destroying).toBe(ac.signal.reason);
    expect(w.log).toEqual(['record destroying']);
    held.value = false;
    await net.destroy();
    expect(w.log).toEqual(TEARDOWN_AFTER_SERVE);
  });

  /**
   * Destroys a network serve advertised (its RA lock held at create, freed before destroy) and
   * returns what was reported of its final RA; `before` changes the world first.
   */
  async function destroyReported(
    w: World,
    internals: ReturnType<typeof setup>['internals'],
    before: () => void = () => undefined,
  ): Promise<{ outcomes: FinalRaMessage[]; warnings: Error[] }> {
    const held = { value: true };
    const deps = { ...internals.deps, state: fakeState(w, held) };
    const net = await withInternals({ ...internals, deps }, () => VxlanNetwork.create(base));
    held.value = false;
    before();
    w.log.length = 0;
    const outcomes: FinalRaMessage[] = [];
    const warnings: Error[] = [];
    const onMessage = (m: unknown): void => void outcomes.push(m as FinalRaMessage);
    const onWarning = (e: Error): void => void warnings.push(e);
    diagnostics_channel.subscribe(FINAL_RA_CHANNEL, onMessage);
    process.on('warning', onWarning);
    try {
      await net.destroy();
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      diagnostics_channel.unsubscribe(FINAL_RA_CHANNEL, onMessage);
      process.off('warning', onWarning);
    }
    return { outcomes, warnings };
  }

  it('a bridge with no carrier (no port up): no final RA and no wait for one, reported as no-carrier, no warning', async () => {
    const { w, internals } = setup();
    const { outcomes, warnings } = await destroyReported(w, internals, () => (w.links.get('br100')!.carrier = false));
    expect(w.log.filter((l) => l.startsWith('ra.') || l.startsWith('createAdvertiser'))).toEqual([]);
    expect(w.log).toContain('deleteLink br100');
    expect(w.log).toContain('record removed');
    expect(outcomes).toMatchObject([{ network: 100, bridge: 'br100', outcome: 'no-carrier' }]);
    expect(warnings).toEqual([]);
  });

  it('a final RA that could not go out: destroy still completes, reported on the channel and as a process warning', async () => {
    const { w, internals } = setup();
    w.farewellSent = false;
    const { outcomes, warnings } = await destroyReported(w, internals);
    expect(w.log).toContain('ra.farewell br100');
    expect(w.log).toContain('deleteLink br100');
    expect(w.log).toContain('record removed');
    expect(outcomes).toMatchObject([{ network: 100, bridge: 'br100', outcome: 'not-ready' }]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: FINAL_RA_WARNING_CODE });
    expect(warnings[0]!.message).toContain('no final RA (router lifetime 0) on br100');
  });

  it('a final RA that went out is reported as sent, with no warning (positive control of the two above)', async () => {
    const { w, internals } = setup();
    const { outcomes, warnings } = await destroyReported(w, internals);
    expect(w.log).toEqual(TEARDOWN_AFTER_SERVE);
    expect(outcomes).toMatchObject([{ outcome: 'sent' }]);
    expect(warnings).toEqual([]);
  });
});
