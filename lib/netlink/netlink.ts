/**
 * The typed rtnetlink API (rtnetlink(7), ip-link(8), ip-address(8), bridge(8), ip-route(8)).
 * Placeholder with the final signatures; the implementation follows.
 */
import type {
  AddAddressOptions, Address, AddressEvent, CreateBridgeOptions, CreateVethOptions, CreateVxlanOptions,
  EventOptions, FdbEntry, FdbEntryOptions, Link, LinkEvent, LinkRef, ListFdbOptions, ListLinksOptions,
  ListRoutesOptions, NetlinkOpenOptions, Route, RouteOptions, SetLinkOptions,
} from './types.js';

const notYet = (): never => { throw new Error('not implemented yet'); };

/** A NETLINK_ROUTE connection in one network namespace. */
export class Netlink {
  /** Opens a connection (in `options.netns` when given). */
  static async open(_options: NetlinkOpenOptions = {}): Promise<Netlink> { return notYet(); }
  /** `ip link add NAME type vxlan id VNI …` */
  async createVxlan(_options: CreateVxlanOptions): Promise<void> { notYet(); }
  /** `ip link add NAME type bridge …` */
  async createBridge(_options: CreateBridgeOptions): Promise<void> { notYet(); }
  /** `ip link add NAME type veth peer name PEER [netns NS]` */
  async createVeth(_options: CreateVethOptions): Promise<void> { notYet(); }
  /** `ip link set …` in one request. */
  async setLink(_link: LinkRef, _changes: SetLinkOptions): Promise<void> { notYet(); }
  /** The link, or undefined when there is none. */
  async getLink(_link: LinkRef): Promise<Link | undefined> { return notYet(); }
  /** Every link (of `kind`). */
  async listLinks(_options: ListLinksOptions = {}): Promise<Link[]> { return notYet(); }
  /** `ip link del`. */
  async deleteLink(_link: LinkRef): Promise<void> { notYet(); }
  /** Deletes many links, by the fastest path the kernel offers. */
  async deleteLinks(_links: LinkRef[]): Promise<void> { notYet(); }
  /** `ip addr add ADDRESS/LEN dev LINK`. */
  async addAddress(_link: LinkRef, _address: string, _options: AddAddressOptions = {}): Promise<void> { notYet(); }
  /** `ip addr del ADDRESS/LEN dev LINK`. */
  async deleteAddress(_link: LinkRef, _address: string): Promise<void> { notYet(); }
  /** `ip addr show [dev LINK]`. */
  async listAddresses(_link?: LinkRef): Promise<Address[]> { return notYet(); }
  /** `bridge fdb add|append …`. */
  async addFdb(_entry: FdbEntryOptions): Promise<void> { notYet(); }
  /** `bridge fdb del …`. */
  async deleteFdb(_entry: FdbEntryOptions): Promise<void> { notYet(); }
  /** `bridge fdb show`. */
  async listFdb(_options: ListFdbOptions = {}): Promise<FdbEntry[]> { return notYet(); }
  /** `ip route add …`. */
  async addRoute(_route: RouteOptions): Promise<void> { notYet(); }
  /** `ip route del …`. */
  async deleteRoute(_route: RouteOptions): Promise<void> { notYet(); }
  /** `ip route show`. */
  async listRoutes(_options: ListRoutesOptions = {}): Promise<Route[]> { return notYet(); }
  /** RTNLGRP_LINK notifications. */
  linkEvents(_options: EventOptions = {}): AsyncIterableIterator<LinkEvent> { return notYet(); }
  /** RTNLGRP_IPV4_IFADDR + RTNLGRP_IPV6_IFADDR notifications. */
  addressEvents(_options: EventOptions = {}): AsyncIterableIterator<AddressEvent> { return notYet(); }
  /** Closes the socket (idempotent). */
  async close(): Promise<void> { /* nothing yet */ }
  /** `await using nl = await Netlink.open()`. */
  async [Symbol.asyncDispose](): Promise<void> { await this.close(); }
}
