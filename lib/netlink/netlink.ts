/**
 * The typed rtnetlink API: links (ip-link(8)), addresses (ip-address(8)), the bridge FDB
 * (bridge(8)), routes (ip-route(8)) and events (ip-monitor(8)), over one NETLINK_ROUTE socket
 * per Netlink (rtnetlink(7)).
 *
 * Every call validates its arguments before any syscall, resolves link names it needs as
 * indexes with SIOCGIFINDEX (no rtnl lock, microseconds), and sends exactly one request where
 * `ip` would (a link is created already enslaved and up: IFLA_MASTER and IFF_UP in the same
 * RTM_NEWLINK). Calls made in the same tick are pipelined: they leave together in one flush
 * and each promise settles on its own ack.
 */
import { closeSync, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

import { checkSignal } from '../abort.js';
import { NetlinkError } from '../errors.js';
import type { NativeNetns, NativeRtnlMessage } from '../native.js';
import { resolveNetns } from '../netns.js';
import { bare, checkArray, checkInteger, checkObject, checkString, invalidType, invalidValue } from '../validate.js';
import { applyAddOptions, addressParams, checkAddress } from './address-options.js';
import { captureTrace, closedError, Connection, toNetlinkError, type RequestContext } from './connection.js';
import { AF, IFF, NLM_F, RTEXT_FILTER_SKIP_STATS, RTM, RT_TABLE_MAIN } from './constants.js';
import { addressEventStream, linkEventStream } from './events.js';
import { checkFdb } from './fdb-options.js';
import { checkBridge, checkCommon, checkLinkRef, checkSetLink, checkVxlan, linkSelector, type CheckedCommon, type LinkParams } from './link-options.js';
import { parseAddress, parseFdb, parseLink, parseRoute } from './parse.js';
import { checkRoute } from './route-options.js';
import type {
  AddAddressOptions,
  Address,
  AddressEvent,
  CreateBridgeOptions,
  CreateVethOptions,
  CreateVxlanOptions,
  EventOptions,
  FdbEntry,
  FdbEntryOptions,
  Link,
  LinkEvent,
  LinkRef,
  ListFdbOptions,
  ListLinksOptions,
  ListRoutesOptions,
  NetlinkOpenOptions,
  RenameLinkOptions,
  Route,
  RouteOptions,
  SetLinkOptions,
} from './types.js';
import { ownFields, prototypePolluted } from './own-fields.js';

const CREATE_EXCL = NLM_F.CREATE | NLM_F.EXCL;

/** deleteLinks switches from per-link deletes to one group deletion from this many links. */
const GROUP_DELETE_MIN = 2;
/** The most links one deleteLinks takes (more than any namespace here holds; bounds the work of a bad call). */
const MAX_BULK_LINKS = 1 << 20;

const { ENODEV, EOPNOTSUPP } = osConstants.errno;

/** What setLink can change, named as LinkParams (and the codec) name them. */
type LinkField = 'up' | 'mtu' | 'mac' | 'group' | 'alias' | 'name' | 'master' | 'addrGenMode';

/** The fields a setLink request changes. */
function changedFields(params: LinkParams): LinkField[] {
  const fields: LinkField[] = [];
  if (params.change !== undefined) fields.push('up');
  for (const f of ['mtu', 'mac', 'group', 'alias', 'master', 'addrGenMode'] as const) if (params[f] !== undefined) fields.push(f);
  if (params.name !== undefined && params.index !== undefined) fields.push('name');
  return fields;
}

/** A field of a raw link message as setLink would write it (master 0 when there is none). */
function linkField(message: NativeRtnlMessage, field: LinkField): unknown {
  if (field === 'up') return ((message.flags as number) & IFF.UP) !== 0;
  // Own properties: a decoded message has Object.prototype, which may carry a `master`.
  if (field === 'master') return Object.hasOwn(message, 'master') ? message.master : 0;
  // The kernel reports no IFLA_IFALIAS for a link without one; '' is how a request removes it.
  if (field === 'alias') return Object.hasOwn(message, 'alias') ? message.alias : '';
  return Object.hasOwn(message, field) ? message[field] : undefined;
}

/** Validates EventOptions.receiveBuffer (4 KiB to 1 GiB). */
function receiveBufferOf(options: EventOptions): number | undefined {
  return options.receiveBuffer === undefined ? undefined : checkInteger('receiveBuffer', options.receiveBuffer, 4096, 1 << 30);
}

/** A NETLINK_ROUTE connection in one network namespace. */
export class Netlink {
  readonly #connection: Connection;
  readonly #netns: NativeNetns;
  /** Open event streams, each with what detaches it from its AbortSignal. */
  readonly #streams = new Map<{ close(): void }, () => void>();
  #closed = false;

  private constructor(connection: Connection, netns: NativeNetns) {
    this.#connection = connection;
    this.#netns = netns;
  }

  /**
   * Opens a connection, in `options.netns` when given (a name under /run/netns, a path such
   * as /proc/PID/ns/net, or an open fd; the fd must stay open while event iterables are used).
   */
  static async open(options: NetlinkOpenOptions = {}): Promise<Netlink> {
    const checked = checkObject('options', options) as NetlinkOpenOptions;
    const netns = resolveNetns('netns', checked.netns);
    return new Netlink(new Connection(netns), netns);
  }

  /**
   * `ip link add NAME type vxlan id VNI [group|remote IP] [local IP] [dev DEV] [dstport P] …`,
   * optionally enslaved (`master`) and up in the same request. Port 4789 and learning on
   * unless told otherwise.
   */
  createVxlan(options: CreateVxlanOptions): Promise<void> {
    // Not an async function: its extra promise and await cost ~0.6 µs a call, a tenth of the
    // call, when thousands are made in one tick. Bad input still rejects, never throws.
    try {
      const trace = captureTrace(this.createVxlan);
      const checked = checkVxlan(options);
      const context: RequestContext = { operation: 'createVxlan', object: checked.params.name, trace };
      if (checked.dev !== undefined) checked.params.data!.link = this.#index('dev', checked.dev, context);
      if (checked.master !== undefined) checked.params.master = this.#index('master', checked.master, context);
      return this.#create(checked, context);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends a creating RTM_NEWLINK, then the alias if there is one: the kernel ignores
   * IFLA_IFALIAS when it creates a link (rtnl_create_link does not apply it; `ip link add …
   * alias X` makes a link without one). The second request only follows an acknowledged
   * creation, so it can never touch a link of that name someone else made; if it fails, the
   * link just made is removed and the call rejects with the alias's error.
   */
  #create(checked: CheckedCommon, context: RequestContext): Promise<void> {
    const created = this.#connection.command(RTM.NEWLINK, CREATE_EXCL, checked.params, context);
    const alias = checked.alias;
    if (alias === undefined) return created;
    const name = checked.params.name as string;
    return created.then(() =>
      this.#connection.command(RTM.NEWLINK, 0, { name, alias }, context).catch(async (error: unknown) => {
        await this.#connection.command(RTM.DELLINK, 0, { name }, context).catch(() => undefined);
        throw error;
      }),
    );
  }

  /** `ip link add NAME type bridge [stp_state …] …`, optionally enslaved and up (as createVxlan). */
  createBridge(options: CreateBridgeOptions): Promise<void> {
    try {
      const trace = captureTrace(this.createBridge);
      const checked = checkBridge(options);
      const context: RequestContext = { operation: 'createBridge', object: checked.params.name, trace };
      if (checked.master !== undefined) checked.params.master = this.#index('master', checked.master, context);
      return this.#create(checked, context);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `ip link add NAME type veth peer name PEER [netns NS]`: both ends in one request. */
  async createVeth(options: CreateVethOptions): Promise<void> {
    const trace = captureTrace(this.createVeth);
    const input = checkObject('options', options) as unknown as CreateVethOptions;
    const checked = checkCommon(input);
    const peerOptions = checkObject('peer', input.peer) as unknown as CreateVethOptions['peer'];
    const peer = checkCommon({ name: peerOptions.name, mac: peerOptions.mac, mtu: peerOptions.mtu }, 'peer.').params;
    const peerNetns = resolveNetns('peer.netns', peerOptions.netns);
    const context: RequestContext = { operation: 'createVeth', object: checked.params.name, trace };
    if (checked.master !== undefined) checked.params.master = this.#index('master', checked.master, context);
    // IFLA_NET_NS_FD wants an fd: open a named namespace only for the request.
    let opened: number | undefined;
    if (typeof peerNetns === 'string') {
      try {
        opened = openSync(peerNetns, 'r');
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        throw toNetlinkError(
          {
            errno: e.errno ?? -ENODEV,
            code: e.code ?? 'ENOENT',
            syscall: 'open',
            description: e.message,
            extack: `peer.netns ${JSON.stringify(peerOptions.netns)} cannot be opened`,
          },
          context,
        );
      }
      peer.netnsFd = opened;
    } else if (typeof peerNetns === 'number') {
      peer.netnsFd = peerNetns;
    }
    try {
      await this.#create({ ...checked, params: { ...checked.params, kind: 'veth', peer } }, context);
    } finally {
      if (opened !== undefined) closeSync(opened);
    }
  }

  /**
   * `ip link set LINK [up|down] [master M|nomaster] [mtu N] [address MAC] [name NEW] [group G]`
   * (`group` is `linkGroup` here, as on create: vxlan's `group` is its multicast group)
   * in one RTM_NEWLINK (two when `up` comes with other changes). `master: null` releases the
   * link from its master.
   *
   * All or nothing: the kernel applies a request's changes one after the other (do_setlink)
   * and stops at the first it refuses, keeping the earlier ones. With more than one change,
   * the link is read first, `up`/down goes in a second request after the others (its side
   * effects cannot be undone), and when the kernel refuses, what it applied is set back before
   * the call rejects with the kernel's error (`rolledBack` lists the fields set back). If
   * setting back fails too, the error's code is 'ERR_NETLINK_PARTIAL' and `applied` lists
   * the fields left changed.
   */
  async setLink(link: LinkRef, changes: SetLinkOptions): Promise<void> {
    const trace = captureTrace(this.setLink);
    const ref = checkLinkRef('link', link);
    const checked = checkSetLink(changes);
    const context: RequestContext = { operation: 'setLink', object: String(ref), trace };
    const params: LinkParams = bare({ ...checked.params });
    if (checked.rename !== undefined) {
      params.index = this.#index('link', ref, context);
      params.name = checked.rename;
    } else {
      Object.assign(params, linkSelector(ref));
    }
    if (checked.master === null) params.master = 0;
    else if (checked.master !== undefined) params.master = this.#index('master', checked.master, context);
    const fields = changedFields(params);
    if (fields.length < 2) {
      await this.#connection.request(RTM.NEWLINK, 0, params, context);
      return;
    }
    const before = await this.#rawLink(params.index ?? ref, context);
    if (before === undefined) {
      throw toNetlinkError(
        { errno: -ENODEV, code: 'ENODEV', syscall: 'RTM_GETLINK', description: 'No such device', extack: `link ${JSON.stringify(ref)} does not exist` },
        context,
      );
    }
    // From here the link is addressed by its index, which a rename in this request keeps.
    delete params.name;
    if (checked.rename !== undefined) params.name = checked.rename;
    params.index = before.index as number;
    // Bringing a link up cannot be undone exactly (its first IFF_UP attaches the default qdisc
    // for good, and the kernel applies flags before IFLA_MASTER): it goes last, on its own,
    // once everything else was accepted.
    const { flags, change, ...rest } = params;
    try {
      await this.#connection.request(RTM.NEWLINK, 0, rest, context);
      if (change !== undefined) await this.#connection.request(RTM.NEWLINK, 0, { index: params.index, flags, change }, context);
    } catch (error) {
      throw await this.#rollBack(before, fields, error, context);
    }
  }

  /**
   * `ip link set LINK name NAME [alias TEXT] [up] [addrgenmode MODE]` in ONE RTM_NEWLINK: gives a
   * link made under a temporary name its final name, alias and state at once (the kernel ignores an alias in a
   * creating request: this is how a link is created and marked without a moment where it
   * exists under its final name unmarked). do_setlink applies the name first, then the alias,
   * then the flags: a name that is taken (EEXIST) changes nothing. `name` may be the link's own
   * name: nothing is renamed then (the kernel returns before synchronize_net(), which a real
   * rename costs under RTNL), and the rest applies: how a link is marked in one request. When the alias or `up` is
   * refused after the name was applied (a vxlan whose UDP port is taken: EADDRINUSE), a link
   * given by name gets that name back before the call rejects with the kernel's error, so
   * after a failure it is found under its old name.
   */
  async renameLink(link: LinkRef, name: string, options: RenameLinkOptions = {}): Promise<void> {
    const trace = captureTrace(this.renameLink);
    const ref = checkLinkRef('link', link);
    const o = checkObject('options', options) as RenameLinkOptions;
    const checked = checkSetLink(bare({ name, alias: o.alias, up: o.up, addrGenMode: o.addrGenMode, linkGroup: o.linkGroup }));
    if (checked.params.alias === '') throw invalidValue('options.alias', 'a non-empty alias', '');
    const context: RequestContext = { operation: 'renameLink', object: `${String(ref)} to ${checked.rename}`, trace };
    const index = this.#index('link', ref, context);
    const params: LinkParams = bare({ ...checked.params, index, name: checked.rename });
    try {
      await this.#connection.request(RTM.NEWLINK, 0, params, context);
    } catch (error) {
      const now = typeof ref === 'string' ? await this.#rawLink(index, context).catch(() => undefined) : undefined;
      if (now !== undefined && now.name !== ref) await this.#connection.request(RTM.NEWLINK, 0, { index, name: ref }, context).catch(() => undefined);
      throw error;
    }
  }

  /** Sets back what a refused setLink applied anyway; returns the error to reject with. */
  async #rollBack(before: NativeRtnlMessage, fields: LinkField[], error: unknown, context: RequestContext): Promise<unknown> {
    if (!(error instanceof NetlinkError)) return error;
    let after: NativeRtnlMessage | undefined;
    try {
      after = await this.#rawLink(before.index as number, context);
    } catch {
      after = undefined;
    }
    if (after === undefined) return error;
    const restore: LinkParams = bare({ index: before.index as number });
    const applied: LinkField[] = [];
    for (const field of fields) {
      const was = linkField(before, field);
      if (linkField(after, field) === was) continue;
      applied.push(field);
      if (field === 'up') {
        restore.change = IFF.UP;
        restore.flags = was ? IFF.UP : 0;
      } else {
        (restore as Record<string, unknown>)[field] = was;
      }
    }
    if (applied.length === 0) return error;
    try {
      await this.#connection.request(RTM.NEWLINK, 0, restore, context);
    } catch (restoreError) {
      const partial = new NetlinkError(
        context.operation,
        context.object,
        { ...error, code: 'ERR_NETLINK_PARTIAL' },
        `partly applied: ${applied.join(', ')} changed, then ${error.code} (${error.message}); setting them back failed: ${(restoreError as Error).message}`,
      );
      return Object.assign(partial, { applied, cause: error });
    }
    return Object.assign(error, { rolledBack: applied });
  }

  /** The link's raw RTM_NEWLINK (by name or index), or undefined when there is none. */
  async #rawLink(ref: LinkRef, context: RequestContext): Promise<NativeRtnlMessage | undefined> {
    try {
      const reply = await this.#connection.request(RTM.GETLINK, 0, { ...linkSelector(ref), extMask: RTEXT_FILTER_SKIP_STATS }, context);
      return reply?.[0];
    } catch (error) {
      if (error instanceof NetlinkError && error.code === 'ENODEV') return undefined;
      throw error;
    }
  }

  /** The link (by name or index), or undefined when there is none. */
  async getLink(link: LinkRef): Promise<Link | undefined> {
    const trace = captureTrace(this.getLink);
    const ref = checkLinkRef('link', link);
    try {
      const reply = await this.#connection.request(
        RTM.GETLINK,
        0,
        { ...linkSelector(ref), extMask: RTEXT_FILTER_SKIP_STATS },
        { operation: 'getLink', object: String(ref), trace },
      );
      const message = reply?.[0];
      return message ? parseLink(ownFields(message)) : undefined;
    } catch (error) {
      if (error instanceof NetlinkError && error.code === 'ENODEV') return undefined;
      throw error;
    }
  }

  /** Every link, or those of `kind` (IFLA_INFO_KIND) and/or enslaved to `master`. */
  async listLinks(options: ListLinksOptions = {}): Promise<Link[]> {
    const trace = captureTrace(this.listLinks);
    const checked = checkObject('options', options) as ListLinksOptions;
    const context: RequestContext = { operation: 'listLinks', trace };
    const params: LinkParams = bare({ extMask: RTEXT_FILTER_SKIP_STATS });
    if (checked.kind !== undefined) {
      params.kind = checkString('kind', checked.kind); // strict dump filter (IFLA_LINKINFO/IFLA_INFO_KIND)
    }
    if (checked.master !== undefined) params.master = this.#index('master', checkLinkRef('master', checked.master), context);
    const links = (await this.#dump(RTM.GETLINK, params, context)).map(parseLink);
    return links.filter((l) => (checked.kind === undefined || l.kind === checked.kind) && (params.master === undefined || l.master === params.master));
  }

  /** `ip link del LINK`. */
  async deleteLink(link: LinkRef): Promise<void> {
    const trace = captureTrace(this.deleteLink);
    const ref = checkLinkRef('link', link);
    await this.#connection.request(RTM.DELLINK, 0, linkSelector(ref), { operation: 'deleteLink', object: String(ref), trace });
  }

  /**
   * Deletes many links by the fastest path the kernel offers: the links are put in a link
   * group no other link uses (IFLA_GROUP, pipelined), then one RTM_DELLINK for the group
   * (rtnl_group_dellink → unregister_netdevice_many: the RCU grace periods of all devices are
   * shared instead of paid per device). Every name and index is resolved first: an unknown one
   * fails before anything changes. If tagging fails, the links get their group back. Links that
   * vanish meanwhile (a veth's peer) count as deleted. A link the kernel cannot delete (lo, a
   * physical NIC: EOPNOTSUPP for the whole group) makes it fall back to per-link deletes of
   * the others, then reject with that link's error. bench/FINDINGS.md has the measurements:
   * ~17 ms per bridge+vxlan pair, 3.2-3.4x faster than per-link deletes, and more sockets in
   * parallel do not beat it (every bridge costs an rcu_barrier under RTNL).
   */
  async deleteLinks(links: LinkRef[]): Promise<void> {
    const trace = captureTrace(this.deleteLinks);
    if (!Array.isArray(links)) throw invalidType('links', 'an array of interface names or indexes', links);
    const refs = checkArray('links', links, MAX_BULK_LINKS).map((l, i) => checkLinkRef(`links[${i}]`, l));
    const context: RequestContext = { operation: 'deleteLinks', object: `${refs.length} links`, trace };
    // Names resolve here (SIOCGIFINDEX), indexes against the dump in #deleteByGroup: an
    // unknown one of either fails before anything changes.
    const indexes = [...new Set(refs.map((r, i) => this.#index(`links[${i}]`, r, context)))];
    if (indexes.length === 0) return;
    if (indexes.length < GROUP_DELETE_MIN) {
      // One link: its own RTM_DELLINK, whose ENODEV is the caller's (99999 does not exist).
      await this.#connection.request(RTM.DELLINK, 0, { index: indexes[0] }, context);
      return;
    }
    await this.#deleteByGroup(refs, indexes, context);
  }

  /** Per-link RTM_DELLINK, all pipelined in one flush (from the thread pool). */
  /**
   * Per-link RTM_DELLINK, all pipelined. When some fail, the first failure is thrown saying
   * what was done anyway: `deleted` and `notDeleted` (ifindexes), and the message says so.
   */
  async #deleteEach(indexes: number[], context: RequestContext): Promise<void> {
    const results = await Promise.allSettled(indexes.map((index) => this.#connection.request(RTM.DELLINK, 0, { index }, context)));
    const gone = (r: PromiseSettledResult<unknown>): boolean => r.status === 'fulfilled' || (r.reason instanceof NetlinkError && r.reason.code === 'ENODEV');
    const failed = results.find((r): r is PromiseRejectedResult => !gone(r));
    if (!failed) return;
    const deleted = indexes.filter((_, i) => gone(results[i]!));
    const notDeleted = indexes.filter((_, i) => !gone(results[i]!));
    const error = failed.reason as Error;
    if (deleted.length > 0) error.message += ` (partial: links ${deleted.join(', ')} were deleted, ${notDeleted.join(', ')} not)`;
    throw Object.assign(error, { deleted, notDeleted });
  }

  async #deleteByGroup(refs: LinkRef[], indexes: number[], context: RequestContext): Promise<void> {
    // Only each link's index and group are needed: read them off the raw messages rather than
    // parse thousands of links into Link objects on the event loop.
    const groups = new Map<number, number>();
    for (const m of await this.#dump(RTM.GETLINK, { extMask: RTEXT_FILTER_SKIP_STATS }, context)) {
      if (typeof m.index === 'number') groups.set(m.index, typeof m.group === 'number' ? m.group : 0);
    }
    const unknown = refs.findIndex((r) => typeof r === 'number' && !groups.has(r));
    if (unknown >= 0) {
      throw toNetlinkError(
        { errno: -ENODEV, code: 'ENODEV', syscall: 'RTM_GETLINK', description: 'No such device', extack: `links[${unknown}] ${refs[unknown]} does not exist` },
        context,
      );
    }
    const used = new Set(groups.values());
    // A name resolved a moment ago may be gone already (a veth end with its peer): deleted.
    const targets = indexes.filter((i) => groups.has(i));
    if (targets.length === 0) return;
    // A group number no link uses: the deletion takes exactly the links we tagged.
    let group: number;
    do group = 0x40000000 + Math.floor(Math.random() * 0x3fffffff);
    while (used.has(group));
    const tagged = await Promise.allSettled(targets.map((index) => this.#connection.request(RTM.NEWLINK, 0, { index, group }, context)));
    const failed = tagged.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof NetlinkError && r.reason.code === 'ENODEV'));
    const restore = async (): Promise<void> => {
      await Promise.allSettled(targets.map((index) => this.#connection.request(RTM.NEWLINK, 0, { index, group: groups.get(index) ?? 0 }, context)));
    };
    if (failed) {
      await restore();
      throw failed.reason;
    }
    try {
      await this.#connection.request(RTM.DELLINK, 0, { group }, context);
    } catch (error) {
      await restore();
      // EOPNOTSUPP: a link without rtnl_link_ops->dellink (a physical NIC, lo) is in the list;
      // the kernel checked that before deleting anything. Delete what can be, one by one.
      if (error instanceof NetlinkError && error.errno === -EOPNOTSUPP) {
        await this.#deleteEach(targets, context);
        return;
      }
      throw error;
    }
  }

  /** `ip address add ADDRESS/LEN dev LINK [nodad] [scope S] …`. */
  async addAddress(link: LinkRef, address: string, options?: AddAddressOptions): Promise<void> {
    const trace = captureTrace(this.addAddress);
    const ref = checkLinkRef('link', link);
    const prefixed = checkAddress('address', address);
    const context: RequestContext = { operation: 'addAddress', object: `${address} dev ${ref}`, trace };
    const params = addressParams(0, prefixed);
    const { replace } = applyAddOptions(params, options);
    params.index = this.#index('link', ref, context);
    await this.#connection.request(RTM.NEWADDR, NLM_F.CREATE | (replace ? NLM_F.REPLACE : NLM_F.EXCL), params, context);
  }

  /** `ip address del ADDRESS/LEN dev LINK`. */
  async deleteAddress(link: LinkRef, address: string): Promise<void> {
    const trace = captureTrace(this.deleteAddress);
    const ref = checkLinkRef('link', link);
    const prefixed = checkAddress('address', address);
    const context: RequestContext = { operation: 'deleteAddress', object: `${address} dev ${ref}`, trace };
    await this.#connection.request(RTM.DELADDR, 0, addressParams(this.#index('link', ref, context), prefixed), context);
  }

  /** `ip address show [dev LINK]`: IPv4 and IPv6 addresses. */
  async listAddresses(link?: LinkRef): Promise<Address[]> {
    const trace = captureTrace(this.listAddresses);
    const ref = link === undefined ? undefined : checkLinkRef('link', link);
    const context: RequestContext = { operation: 'listAddresses', object: ref === undefined ? undefined : String(ref), trace };
    const index = ref === undefined ? 0 : this.#index('link', ref, context);
    const messages = await this.#dump(RTM.GETADDR, { family: AF.UNSPEC, index }, context);
    return messages.map(parseAddress).filter((a) => index === 0 || a.index === index);
  }

  /** `bridge fdb add|append MAC dev LINK [dst IP] [vni N] [port P] [self|master]`. */
  async addFdb(entry: FdbEntryOptions): Promise<void> {
    const trace = captureTrace(this.addFdb);
    const checked = checkFdb(entry);
    const context: RequestContext = { operation: 'addFdb', object: `${checked.params.lladdr} dev ${checked.link}`, trace };
    const params = { ...checked.params, index: this.#index('link', checked.link, context) };
    await this.#connection.request(RTM.NEWNEIGH, NLM_F.CREATE | (checked.append ? NLM_F.APPEND : NLM_F.EXCL), params, context);
  }

  /** `bridge fdb del MAC dev LINK [dst IP] [vni N] [port P] [self|master]`. */
  async deleteFdb(entry: FdbEntryOptions): Promise<void> {
    const trace = captureTrace(this.deleteFdb);
    const checked = checkFdb(entry);
    const context: RequestContext = { operation: 'deleteFdb', object: `${checked.params.lladdr} dev ${checked.link}`, trace };
    const params = { ...checked.params, index: this.#index('link', checked.link, context) };
    await this.#connection.request(RTM.DELNEIGH, 0, params, context);
  }

  /** `bridge fdb show [brport LINK] [br MASTER]`. */
  async listFdb(options: ListFdbOptions = {}): Promise<FdbEntry[]> {
    const trace = captureTrace(this.listFdb);
    const checked = checkObject('options', options) as ListFdbOptions;
    const context: RequestContext = { operation: 'listFdb', trace };
    const params: Record<string, number> = bare({ family: AF.BRIDGE });
    if (checked.link !== undefined) params.index = this.#index('link', checkLinkRef('link', checked.link), context);
    if (checked.master !== undefined) params.master = this.#index('master', checkLinkRef('master', checked.master), context);
    const messages = await this.#dump(RTM.GETNEIGH, params, context);
    return messages
      .filter((m) => m.family === AF.BRIDGE)
      .map(parseFdb)
      .filter((e) => params.index === undefined || e.index === params.index);
  }

  /** `ip route add PREFIX [via GW] [dev LINK] [metric N] [table T] [src IP]`. */
  async addRoute(route: RouteOptions): Promise<void> {
    const trace = captureTrace(this.addRoute);
    const checked = checkRoute(route);
    const context: RequestContext = { operation: 'addRoute', object: route.destination, trace };
    const params = { ...checked.params, ...(checked.dev === undefined ? {} : { oif: this.#index('dev', checked.dev, context) }) };
    await this.#connection.request(RTM.NEWROUTE, NLM_F.CREATE | (checked.replace ? NLM_F.REPLACE : NLM_F.EXCL), params, context);
  }

  /** `ip route del PREFIX [via GW] [dev LINK] [metric N] [table T]`. */
  async deleteRoute(route: RouteOptions): Promise<void> {
    const trace = captureTrace(this.deleteRoute);
    const checked = checkRoute(route, true);
    const context: RequestContext = { operation: 'deleteRoute', object: route.destination, trace };
    const params = { ...checked.params, ...(checked.dev === undefined ? {} : { oif: this.#index('dev', checked.dev, context) }) };
    await this.#connection.request(RTM.DELROUTE, 0, params, context);
  }

  /** `ip route show [table T] [dev LINK]` for IPv4, IPv6 or both; table main by default, 0 = all. */
  async listRoutes(options: ListRoutesOptions = {}): Promise<Route[]> {
    const trace = captureTrace(this.listRoutes);
    const checked = checkObject('options', options) as ListRoutesOptions;
    const context: RequestContext = { operation: 'listRoutes', trace };
    const family = checked.family === undefined ? AF.UNSPEC : checked.family === 6 ? AF.INET6 : checked.family === 4 ? AF.INET : -1;
    if (family < 0) throw invalidType('family', '4 or 6', checked.family);
    const table = checked.table === undefined ? RT_TABLE_MAIN : checkInteger('table', checked.table, 0, 0xffffffff);
    const params: Record<string, number> = bare({ family });
    if (table !== 0) {
      params.tableId = table < 256 ? table : 0;
      params.table = table;
    }
    if (checked.dev !== undefined) params.oif = this.#index('dev', checkLinkRef('dev', checked.dev), context);
    const messages = await this.#dump(RTM.GETROUTE, params, context);
    return messages.map(parseRoute).filter((r) => (table === 0 || r.table === table) && (params.oif === undefined || r.dev === params.oif));
  }

  /**
   * Link notifications (RTNLGRP_LINK) as an async iterable with its own socket, subscribed
   * before this returns: every change after the call is reported. With `{ existing: true }`
   * every present link comes first as 'new'. Survives overruns by re-dumping. Ends on `break`
   * or close().
   */
  linkEvents(options: EventOptions = {}): AsyncIterableIterator<LinkEvent> {
    const checked = checkObject('options', options) as EventOptions;
    // A stream opened now would have a socket of its own that no close() ever reaches.
    if (this.#closed) throw closedError({ operation: 'linkEvents' });
    const signal = checkSignal('options.signal', checked.signal);
    signal?.throwIfAborted();
    return this.#track(
      linkEventStream(this.#netns, checked.existing === true, receiveBufferOf(checked), (s) => this.#untrack(s)),
      signal,
    );
  }

  /** Address notifications (RTNLGRP_IPV4_IFADDR + RTNLGRP_IPV6_IFADDR), as linkEvents. */
  addressEvents(options: EventOptions = {}): AsyncIterableIterator<AddressEvent> {
    const checked = checkObject('options', options) as EventOptions;
    if (this.#closed) throw closedError({ operation: 'addressEvents' });
    const signal = checkSignal('options.signal', checked.signal);
    signal?.throwIfAborted();
    return this.#track(
      addressEventStream(this.#netns, checked.existing === true, receiveBufferOf(checked), (s) => this.#untrack(s)),
      signal,
    );
  }

  /** Remembers an event stream for close(), and ends it when `signal` fires. */
  #track<S extends { abort(reason: unknown): void; close(): void }>(stream: S, signal: AbortSignal | undefined): S {
    const onAbort = (): void => stream.abort(signal?.reason);
    this.#streams.set(stream, () => signal?.removeEventListener('abort', onAbort));
    signal?.addEventListener('abort', onAbort, { once: true });
    return stream;
  }

  #untrack(stream: { close(): void }): void {
    this.#streams.get(stream)?.();
    this.#streams.delete(stream);
  }

  /**
   * Closes the socket and every event iterable (idempotent). A rejected call did not happen:
   * calls whose requests were still queued reject with ECANCELED (nothing was sent); calls the
   * kernel already has are waited for and settle with its answer; calls made after close()
   * reject with EBADF. Resolves once the socket is closed.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const stream of [...this.#streams.keys()]) stream.close();
    }
    await this.#connection.drainAndClose();
  }

  /** `await using nl = await Netlink.open()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Link name → ifindex (numbers pass through); an unknown name fails naming the field. */
  #index(field: string, ref: LinkRef, context: RequestContext): number {
    if (typeof ref === 'number') return ref;
    if (this.#connection.isClosed) throw closedError(context);
    const index = this.#connection.ifIndex(ref);
    if (index > 0) return index;
    throw toNetlinkError(
      { errno: -ENODEV, code: 'ENODEV', syscall: 'SIOCGIFINDEX', description: 'No such device', extack: `${field} ${JSON.stringify(ref)} does not exist` },
      context,
    );
  }

  async #dump(type: number, params: object, context: RequestContext): Promise<NativeRtnlMessage[]> {
    const messages = await this.#connection.dump(type, params, context);
    return prototypePolluted() ? messages.map(ownFields) : messages;
  }
}
