/**
 * The public configuration and statistics of the router advertisement sender. Field names
 * follow RFC 4861 §6.2.1 (MinRtrAdvInterval → minInterval, AdvDefaultLifetime →
 * defaultLifetime, …); radvd.conf(5) names are given for each so a radvd user can map them.
 */
import type { NetnsOption } from '../netns.js';
import type { Preference } from './constants.js';

export type { Preference } from './constants.js';

/** A lifetime in seconds, or 'infinity' (all ones on the wire). */
export type Lifetime = number | 'infinity';

/** A Prefix Information option (RFC 4861 §4.6.2); radvd `prefix P/L { … }`. */
export interface RaPrefixConfig {
  /** The prefix, `2001:db8:1:2::/64`. */
  prefix: string;
  /** L flag, AdvOnLink (default true). */
  onLink?: boolean;
  /** A flag, AdvAutonomous (default true): the prefix must then be a /64 for SLAAC. */
  autonomous?: boolean;
  /** R flag, AdvRouterAddr (default false): the prefix field carries a router address. */
  routerAddress?: boolean;
  /** AdvValidLifetime (default 86400 s). */
  validLifetime?: Lifetime;
  /** AdvPreferredLifetime (default 14400 s); at most validLifetime. */
  preferredLifetime?: Lifetime;
  /** P flag, AdvDHCPv6PDPreferred (RFC 9762; default false): hosts should prefer DHCPv6 prefix delegation. */
  dhcpv6PdPreferred?: boolean;
  /**
   * DeprecatePrefix (default false): the final RAs sent by stop() carry this prefix with
   * preferred lifetime 0 and valid lifetime min(valid, 2 h) (RFC 4862 §5.5.3 e), so hosts
   * deprecate their addresses at once.
   */
  deprecateOnStop?: boolean;
  /**
   * DecrementLifetimes (default false): the advertised valid and preferred lifetimes count
   * down in real time from when the prefix was first advertised; once the preferred lifetime
   * reaches 0 the prefix is no longer sent. 'infinity' never counts down.
   */
  decrementLifetimes?: boolean;
}

/** A Recursive DNS Server option (RFC 8106 §5.1); radvd `RDNSS a b { … }`. */
export interface RaRdnssConfig {
  /** One or more server addresses. */
  servers: string[];
  /** AdvRDNSSLifetime (default 3 × maxInterval, RFC 8106 §5.1). */
  lifetime?: Lifetime;
  /** FlushRDNSS (default true): the final RAs carry these servers with lifetime 0. */
  flushOnStop?: boolean;
}

/** A DNS Search List option (RFC 8106 §5.2); radvd `DNSSL d1 d2 { … }`. */
export interface RaDnsslConfig {
  /** One or more domain names. */
  domains: string[];
  /** AdvDNSSLLifetime (default 3 × maxInterval, RFC 8106 §5.2). */
  lifetime?: Lifetime;
  /** FlushDNSSL (default true): the final RAs carry these domains with lifetime 0. */
  flushOnStop?: boolean;
}

/** A Route Information option (RFC 4191 §2.3); radvd `route P/L { … }`. */
export interface RaRouteConfig {
  /** The route prefix, `2001:db8::/48`. */
  prefix: string;
  /** AdvRoutePreference (default 'medium'). */
  preference?: Preference;
  /** AdvRouteLifetime (default 3 × maxInterval). */
  lifetime?: Lifetime;
  /** RemoveRoute (default true): the final RAs carry this route with lifetime 0. */
  removeOnStop?: boolean;
}

/** A PREF64 option (RFC 8781): the NAT64 prefix; radvd `nat64prefix P/L { … }`. */
export interface RaPref64Config {
  /** The NAT64 prefix: /96, /64, /56, /48, /40 or /32, e.g. `64:ff9b::/96`. */
  prefix: string;
  /** AdvValidLifetime in seconds (default 3 × maxInterval, at most 65528; sent in units of 8 s). */
  lifetime?: number;
}

/** What one interface advertises (RFC 4861 §6.2.1 "router configuration variables"). */
export interface RaInterfaceConfig {
  /** The interface (bridge) name; it may not exist yet. */
  name: string;
  /** MinRtrAdvInterval in seconds: 3 to 0.75 × maxInterval (default 0.33 × maxInterval, at least 3). */
  minInterval?: number;
  /** MaxRtrAdvInterval in seconds: 4 to 65535 (RFC 8319; default 600). */
  maxInterval?: number;
  /** AdvDefaultLifetime, the router lifetime in seconds: 0 or maxInterval to 65535 (default 3 × maxInterval). */
  defaultLifetime?: number;
  /** M flag, AdvManagedFlag (default false). */
  managed?: boolean;
  /** O flag, AdvOtherConfigFlag (default false). */
  other?: boolean;
  /** Default router preference, AdvDefaultPreference (RFC 4191; default 'medium'). */
  preference?: Preference;
  /** Cur Hop Limit, AdvCurHopLimit (0 = unspecified; default 64). */
  hopLimit?: number;
  /** Reachable Time in ms, AdvReachableTime (0 = unspecified, the default; at most 3600000). */
  reachableTime?: number;
  /** Retrans Timer in ms, AdvRetransTimer (0 = unspecified, the default). */
  retransTimer?: number;
  /** AdvLinkMTU: an MTU option with this value (default: no MTU option). */
  mtu?: number;
  /** AdvSourceLLAddress: include the source link-layer address option (default true). */
  sourceLinkLayerAddress?: boolean;
  /** AdvRASolicitedUnicast: answer a solicitation from a host with an address by unicast (default true). */
  solicitedUnicast?: boolean;
  /**
   * MinDelayBetweenRAs in seconds (default 3, MIN_DELAY_BETWEEN_RAS of RFC 4861 §10; at least
   * 3, or 0.03 with Mobile IPv6 intervals, RFC 6275 §7.5): the least time between two
   * multicast RAs, also the spacing of the final RAs.
   */
  minDelayBetweenRAs?: number;
  /**
   * AdvRAMTU: the largest RA packet (IPv6 header included) in bytes, 1280 to 131072; an RA
   * whose options do not fit is split. Default: the link's MTU.
   */
  raMtu?: number;
  /**
   * AdvIntervalOpt (default false): send the Advertisement Interval option (RFC 6275 §7.3)
   * carrying maxInterval in ms. It also allows the Mobile IPv6 interval ranges (RFC 6275
   * §7.5): minInterval from 0.03 s, maxInterval from 0.07 s.
   */
  intervalOption?: boolean;
  /**
   * UnicastOnly (default false): never multicast an RA; solicitations are answered by unicast
   * and, with `clients`, the listed hosts get the periodic RAs by unicast. For links without
   * multicast.
   */
  unicastOnly?: boolean;
  /**
   * radvd's `clients { … }`: the periodic (and final) RAs go by unicast to these link-local
   * or global addresses only, never to ff02::1, and only their solicitations are answered.
   */
  clients?: string[];
  /** radvd's `clients { !addr; }`: hosts whose solicitations are never answered. */
  ignoredClients?: string[];
  /** UnrestrictedUnicast (default false): with `clients`, also answer solicitations from unlisted hosts (by unicast). */
  unrestrictedUnicast?: boolean;
  /** RemoveAdvOnExit (default true): stop() sends final RAs; false sends none (the hosts keep the router until its lifetime ends). */
  removeOnStop?: boolean;
  /**
   * Advertise router lifetime 0 while the namespace does not forward IPv6
   * (`net.ipv6.conf.all.forwarding` 0), as RFC 4861 §6.2.5 requires and radvd does; the
   * configured lifetime again as soon as it does. Default false (the lifetime is what you
   * configured); parseRadvdConf sets it, so a radvd.conf behaves as under radvd.
   */
  followForwarding?: boolean;
  /** AdvSNACRouterFlag (default false): the RA header's SNAC router flag (0x02, draft-ietf-snac-simple; IANA RA flag bit 6). */
  snacRouter?: boolean;
  /** AdvCaptivePortalAPI: the captive portal API URI, sent in the Captive-Portal option (RFC 8910 §2.3). */
  captivePortal?: string;
  /**
   * Prefix Information options. A prefix `::/64` (radvd's) stands for the interface's own
   * prefixes: one option per prefix of its global IPv6 addresses, with this entry's flags and
   * lifetimes (no longer than the address's own), following address changes.
   */
  prefixes?: RaPrefixConfig[];
  /** radvd's `autoignoreprefixes { P/L; … }`: own prefixes a `::/64` entry leaves out. */
  autoIgnorePrefixes?: string[];
  /** RDNSS options. */
  rdnss?: RaRdnssConfig[];
  /** DNSSL options. */
  dnssl?: RaDnsslConfig[];
  /** Route Information options. */
  routes?: RaRouteConfig[];
  /** PREF64 option(s): a prefix string, one config or several. */
  pref64?: string | RaPref64Config | RaPref64Config[];
}

/** Options of `new RouterAdvertiser(…)`; `parseRadvdConf` returns this shape. */
export interface RouterAdvertiserOptions {
  /** The namespace whose interfaces are served (name, path or fd; default: the current one). */
  netns?: NetnsOption;
  /** The interfaces to advertise on. */
  interfaces: RaInterfaceConfig[];
  /**
   * How many final RAs (router lifetime 0) stop() and removeInterface() send, 0 to 3
   * (MAX_FINAL_RTR_ADVERTISEMENTS; default 1, as radvd). The first goes at once, the others
   * MIN_DELAY_BETWEEN_RAS (3 s) apart, so 3 makes stop() take about 6 s.
   */
  finalAdvertisements?: number;
}

/** Counters of one interface. */
export interface RaInterfaceStats {
  /** The interface name. */
  name: string;
  /** Its ifindex while served, undefined while waiting for it. */
  index: number | undefined;
  /** 'waiting' (absent, no carrier, or link-local tentative), 'serving', or 'stopped'. */
  state: 'waiting' | 'serving' | 'stopped';
  /** RA messages sent (a split RA counts once per packet): multicast plus unicast. */
  advertisementsSent: number;
  /** Of those, sent to ff02::1. */
  multicastAdvertisementsSent: number;
  /** Of those, sent to one host (a solicited reply or a `clients` entry). */
  unicastAdvertisementsSent: number;
  /** Of those, final RAs (router lifetime 0). */
  finalAdvertisementsSent: number;
  /** Router solicitations received on the interface. */
  solicitationsReceived: number;
  /** Solicitations dropped as invalid (RFC 4861 §6.1.1). */
  solicitationsDropped: number;
  /** sendmsg failures. */
  sendErrors: number;
}

/** Payload of the 'sent' event. */
export interface RaSentEvent {
  /** The interface name. */
  interface: string;
  /** Its ifindex. */
  index: number;
  /**
   * Destination address: 'ff02::1' (all nodes) or, for a solicited unicast reply, the soliciting
   * host.
   */
  destination: string;
  /** In reply to a solicitation. */
  solicited: boolean;
  /** A final RA (router lifetime 0). */
  final: boolean;
  /** ICMPv6 bytes. */
  bytes: number;
}

/** Payload of the 'received' event. */
export interface RaReceivedEvent {
  /** The interface it arrived on. */
  interface: string;
  /** Its ifindex. */
  index: number;
  /** The solicitation's IPv6 source address ('::' from a host without an address yet). */
  source: string;
  /**
   * The IPv6 hop limit it arrived with; a valid solicitation has 255 (RFC 4861 §6.1.1), -1 if
   * unknown.
   */
  hopLimit: number;
  /** Whether it passed RFC 4861 §6.1.1 validation. */
  valid: boolean;
  /** Why it was dropped. */
  reason?: string;
}
