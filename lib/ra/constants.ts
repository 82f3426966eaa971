/**
 * Protocol numbers and constants of IPv6 router discovery: RFC 4861 §4.1, §4.2, §4.6 and §10
 * (router constants), RFC 4191 §2 (preferences, route information), RFC 8106 §5 (RDNSS,
 * DNSSL), RFC 8781 §4 (PREF64).
 */

/** ICMPv6 message types (RFC 4861 §4.1, §4.2). */
export const ND_ROUTER_SOLICIT = 133;
export const ND_ROUTER_ADVERT = 134;

/** Neighbor discovery option types (RFC 4861 §4.6, RFC 4191 §2.3, RFC 8106 §5, RFC 8781 §4). */
export const ND_OPT_SOURCE_LINKADDR = 1;
export const ND_OPT_TARGET_LINKADDR = 2;
export const ND_OPT_PREFIX_INFORMATION = 3;
export const ND_OPT_MTU = 5;
export const ND_OPT_ROUTE_INFORMATION = 24;
export const ND_OPT_RDNSS = 25;
export const ND_OPT_DNSSL = 31;
export const ND_OPT_PREF64 = 38;
/** Advertisement Interval option (RFC 6275 §7.3). */
export const ND_OPT_ADV_INTERVAL = 7;
/** Captive-Portal option (RFC 8910 §2.3). */
export const ND_OPT_CAPTIVE_PORTAL = 37;

/** RA header flags (RFC 4861 §4.2). */
export const ND_RA_FLAG_MANAGED = 0x80;
export const ND_RA_FLAG_OTHER = 0x40;
/** SNAC router flag (draft-ietf-snac-simple, IANA RA flag bit 6), radvd's AdvSNACRouterFlag. */
export const ND_RA_FLAG_SNAC_ROUTER = 0x02;
/** Prefix information flags (RFC 4861 §4.6.2, RFC 6275 §7.2 for R). */
export const ND_OPT_PI_FLAG_ONLINK = 0x80;
export const ND_OPT_PI_FLAG_AUTO = 0x40;
export const ND_OPT_PI_FLAG_RADDR = 0x20;
/** P flag, DHCPv6 prefix delegation preferred (RFC 9762 §3). */
export const ND_OPT_PI_FLAG_DHCPV6_PD = 0x10;

/** Router/route preference (RFC 4191 §2.1): the two-bit Prf values. */
export const PREFERENCE_BITS = { high: 0b01, medium: 0b00, low: 0b11 } as const;
/** A router or route preference. */
export type Preference = keyof typeof PREFERENCE_BITS;

/** The all-ones lifetime that means "infinity" (RFC 4861 §4.6.2, RFC 8106 §5.1). */
export const INFINITE_LIFETIME = 0xffffffff;

/** Router constants, RFC 4861 §10, in seconds. */
export const MAX_INITIAL_RTR_ADVERT_INTERVAL = 16;
export const MAX_INITIAL_RTR_ADVERTISEMENTS = 3;
export const MAX_FINAL_RTR_ADVERTISEMENTS = 3;
/** Final RAs sent by default: one, at once, as radvd (RFC 4861 §6.2.5 allows one to three). */
export const DEFAULT_FINAL_RTR_ADVERTISEMENTS = 1;
export const MIN_DELAY_BETWEEN_RAS = 3;
export const MAX_RA_DELAY_TIME = 0.5;

/** Router configuration limits: RFC 4861 §6.2.1 as extended by RFC 8319 §4. */
export const MIN_MAX_RTR_ADV_INTERVAL = 4;
export const MAX_MAX_RTR_ADV_INTERVAL = 65535;
export const MIN_MIN_RTR_ADV_INTERVAL = 3;
/** The Mobile IPv6 limits (RFC 6275 §7.5), allowed with the Advertisement Interval option. */
export const MIN_MIN_RTR_ADV_INTERVAL_MIPV6 = 0.03;
export const MIN_MAX_RTR_ADV_INTERVAL_MIPV6 = 0.07;
export const MIN_DELAY_BETWEEN_RAS_MIPV6 = 0.03;
/** radvd's MAX_AdvRAMTU: the largest RA packet size that can be configured. */
export const MAX_RA_MTU = 131072;
/** RFC 4862 §5.5.3 e): a valid lifetime a host lowers its address's to at once (2 hours). */
export const MIN_VALID_LIFETIME_UPDATE = 7200;
export const MAX_ROUTER_LIFETIME = 65535;
/** RFC 4861 §6.2.1 default MaxRtrAdvInterval. */
export const DEFAULT_MAX_RTR_ADV_INTERVAL = 600;
/** AdvReachableTime is at most one hour (RFC 4861 §6.2.1), in milliseconds. */
export const MAX_REACHABLE_TIME = 3_600_000;

/** PREF64 (RFC 8781 §4): lifetime in units of 8 s in 13 bits, and the prefix length codes. */
export const PREF64_MAX_LIFETIME = 65528;
export const PREF64_PLC: Readonly<Record<number, number>> = { 96: 0, 64: 1, 56: 2, 48: 3, 40: 4, 32: 5 };

/** ff02::1, the all-nodes group RAs are multicast to. */
export const ALL_NODES = 'ff02::1';
/** ff02::2, the all-routers group solicitations are sent to. */
export const ALL_ROUTERS = 'ff02::2';

/** Length of the RA header (RFC 4861 §4.2) and of the IPv6 header. */
export const RA_HEADER_LENGTH = 16;
export const IPV6_HEADER_LENGTH = 40;
/** The IPv6 minimum link MTU (RFC 8200 §5): the smallest MTU the splitter plans for. */
export const IPV6_MIN_MTU = 1280;
