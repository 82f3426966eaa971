/**
 * Validation and defaults of the RA configuration: RFC 4861 §6.2.1 router configuration
 * variables with the ranges of RFC 8319 §4, RFC 4862 §5.5.3 (SLAAC needs a /64, preferred ≤
 * valid), RFC 8106 §5 (RDNSS, DNSSL), RFC 4191 §2.3 (routes), RFC 8781 §4 (PREF64).
 *
 * Everything is checked before anything is sent; an error names the field as the caller wrote
 * it (`interfaces[0].prefixes[1].preferredLifetime`) and the value.
 */
import {
  bytesToIPv6,
  checkBoolean,
  checkIfname,
  checkInteger,
  checkNumber,
  checkObject,
  checkPrefixed,
  invalidType,
  invalidValue,
  ipv6ToBytes,
  outOfRange,
  checkIPv6,
  checkArray as checkDenseArray,
} from '../validate.js';
import {
  DEFAULT_FINAL_RTR_ADVERTISEMENTS,
  DEFAULT_MAX_RTR_ADV_INTERVAL,
  INFINITE_LIFETIME,
  MAX_FINAL_RTR_ADVERTISEMENTS,
  MAX_MAX_RTR_ADV_INTERVAL,
  MAX_REACHABLE_TIME,
  MAX_ROUTER_LIFETIME,
  MIN_MAX_RTR_ADV_INTERVAL,
  MIN_MIN_RTR_ADV_INTERVAL,
  PREF64_MAX_LIFETIME,
  PREF64_PLC,
  PREFERENCE_BITS,
  type Preference,
  IPV6_MIN_MTU,
  MIN_DELAY_BETWEEN_RAS,
  MIN_DELAY_BETWEEN_RAS_MIPV6,
  MIN_MAX_RTR_ADV_INTERVAL_MIPV6,
  MIN_MIN_RTR_ADV_INTERVAL_MIPV6,
  MAX_RA_MTU,
} from './constants.js';
import type {
  Lifetime,
  RaDnsslConfig,
  RaInterfaceConfig,
  RaPref64Config,
  RaPrefixConfig,
  RaRdnssConfig,
  RaRouteConfig,
  RouterAdvertiserOptions,
} from './types.js';

/** A prefix with its length, the address in canonical form. */
export interface ResolvedPrefixValue {
  address: string;
  length: number;
}

/** A Prefix Information option with every default applied; lifetimes as 32-bit wire values. */
export interface ResolvedPrefix extends ResolvedPrefixValue {
  onLink: boolean;
  autonomous: boolean;
  routerAddress: boolean;
  validLifetime: number;
  preferredLifetime: number;
  /** P flag (RFC 9762). */
  dhcpv6PdPreferred?: boolean;
  /** DeprecatePrefix: preferred lifetime 0 in the final RAs. */
  deprecateOnStop?: boolean;
  /** DecrementLifetimes: lifetimes count down from the first advertisement. */
  decrementLifetimes?: boolean;
}

/** An RDNSS option, resolved. */
export interface ResolvedRdnss {
  servers: string[];
  lifetime: number;
  /** FlushRDNSS; false only when configured so (withdrawn items always go with lifetime 0). */
  flushOnStop?: boolean;
}

/** A DNSSL option, resolved (domains without a trailing dot, spelled as configured). */
export interface ResolvedDnssl {
  domains: string[];
  lifetime: number;
  /** FlushDNSSL; false only when configured so. */
  flushOnStop?: boolean;
}

/** A Route Information option, resolved. */
export interface ResolvedRoute extends ResolvedPrefixValue {
  preference: Preference;
  lifetime: number;
  /** RemoveRoute; false only when configured so. */
  removeOnStop?: boolean;
}

/** A PREF64 option, resolved (lifetime in seconds, a multiple of 8). */
export interface ResolvedPref64 extends ResolvedPrefixValue {
  lifetime: number;
}

/** One interface's configuration with every default applied. */
export interface ResolvedInterfaceConfig {
  name: string;
  minInterval: number;
  maxInterval: number;
  defaultLifetime: number;
  managed: boolean;
  other: boolean;
  preference: Preference;
  hopLimit: number;
  reachableTime: number;
  retransTimer: number;
  mtu: number | undefined;
  sourceLinkLayerAddress: boolean;
  solicitedUnicast: boolean;
  minDelayBetweenRAs: number;
  raMtu: number | undefined;
  intervalOption: boolean;
  unicastOnly: boolean;
  /** Canonical addresses; empty: RAs are multicast. */
  clients: string[];
  ignoredClients: string[];
  unrestrictedUnicast: boolean;
  removeOnStop: boolean;
  /** Router lifetime 0 while the namespace does not forward (see RaInterfaceConfig). */
  followForwarding: boolean;
  snacRouter: boolean;
  captivePortal: string | undefined;
  /** radvd's autoignoreprefixes: own prefixes (`addr/len`, canonical) a `prefix ::/64` skips. */
  autoIgnorePrefixes: string[];
  prefixes: ResolvedPrefix[];
  rdnss: ResolvedRdnss[];
  dnssl: ResolvedDnssl[];
  routes: ResolvedRoute[];
  pref64: ResolvedPref64[];
}

/** The whole configuration, resolved. */
export interface ResolvedOptions {
  interfaces: ResolvedInterfaceConfig[];
  finalAdvertisements: number;
}

const PREFIX_DEFAULT_VALID = 86400;
const PREFIX_DEFAULT_PREFERRED = 14400;
const DEFAULT_HOP_LIMIT = 64;
const UINT32_MAX = 0xffffffff;

/**
 * The empty list shared by every resolved config that has no clients, routes, RDNSS, …:
 * a process serving 4,096 bridges would otherwise hold eight empty arrays per bridge. Frozen,
 * so that no config can change another's through it (a push throws).
 */
const NONE: never[] = Object.freeze([]) as unknown as never[];

/** `items`, or the shared empty list when there are none. */
function shared<T>(items: T[]): T[] {
  return items.length === 0 ? NONE : items;
}

function optional<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** A lifetime: a whole number of seconds in [0, 2^32 - 2], or 'infinity' / 0xffffffff. */
export function checkLifetime(field: string, value: unknown, max = UINT32_MAX): number {
  if (value === 'infinity') {
    if (max < UINT32_MAX) throw outOfRange(field, `an integer from 0 to ${max}`, value);
    return INFINITE_LIFETIME;
  }
  if (typeof value !== 'number') throw invalidType(field, `an integer from 0 to ${max} or 'infinity'`, value);
  return checkInteger(field, value, 0, max);
}

function checkPreference(field: string, value: unknown): Preference {
  if (typeof value !== 'string' || !Object.hasOwn(PREFERENCE_BITS, value)) {
    throw invalidValue(field, "one of 'low', 'medium', 'high'", value);
  }
  return value as Preference;
}

function checkArray(field: string, value: unknown): unknown[] {
  if (value === undefined) return [];
  return checkDenseArray(field, value); // holes refused, not read through the prototype
}

/**
 * An IPv6 prefix `addr/len`, returned with the address canonicalised and, unless `keepHostBits`,
 * the bits past the prefix length cleared: RFC 4861 §4.6.2 and RFC 4191 §2.3 say they must be
 * zero on the wire (radvd sends them as written; `fe80:f:2::/32` becomes `fe80:f::/32`).
 */
export function checkIPv6Prefix(field: string, value: unknown, keepHostBits = false): ResolvedPrefixValue {
  const p = checkPrefixed(field, value);
  if (p.family !== 6) throw invalidValue(field, 'an IPv6 prefix like 2001:db8::/64', value);
  const bytes = ipv6ToBytes(p.address);
  if (!keepHostBits) maskPrefix(bytes, p.prefixLength);
  return { address: bytesToIPv6(bytes), length: p.prefixLength };
}

/** Clears, in place, the bits of a 16-byte address past `length`. */
export function maskPrefix(bytes: Uint8Array, length: number): void {
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, length - 8 * i));
    bytes[i]! &= (0xff00 >> keep) & 0xff;
  }
}

const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/iu;

/**
 * A domain name for DNSSL: labels of 1–63 letters, digits and hyphens (not first or last), at
 * most 253 characters; a trailing dot is allowed and dropped. RFC 8106 §5.2 only fixes the
 * encoding (RFC 1035 §3.1); the names are search suffixes for host names, so they follow the
 * host name syntax (RFC 1035 §2.3.1, RFC 1123 §2.1). No underscores: radvd refuses them too
 * ("invalid domain suffix specified").
 */
export function checkDomain(field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidType(field, 'a domain name', value);
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => LABEL_RE.test(label))) {
    throw invalidValue(field, 'a domain name like example.com', value);
  }
  // Sent as written: the wire format keeps case (RFC 1035 §2.3.3), and radvd does not fold it.
  return name;
}

function resolvePrefix(field: string, value: unknown): ResolvedPrefix {
  const o = checkObject(field, value) as Partial<RaPrefixConfig>;
  // With the R flag the prefix field carries the router's whole address (RFC 6275 §7.2).
  const p = checkIPv6Prefix(`${field}.prefix`, o.prefix, o.routerAddress === true);
  const onLink = checkBoolean(`${field}.onLink`, optional<unknown>(o.onLink, true));
  const autonomous = checkBoolean(`${field}.autonomous`, optional<unknown>(o.autonomous, true));
  const routerAddress = checkBoolean(`${field}.routerAddress`, optional<unknown>(o.routerAddress, false));
  const validLifetime = checkLifetime(`${field}.validLifetime`, optional<unknown>(o.validLifetime, PREFIX_DEFAULT_VALID));
  const preferredLifetime = checkLifetime(`${field}.preferredLifetime`, optional<unknown>(o.preferredLifetime, PREFIX_DEFAULT_PREFERRED));
  // RFC 4862 §5.5.3: SLAAC forms address = prefix (64 bits) + interface identifier (64 bits).
  if (autonomous && p.length !== 64) {
    throw invalidValue(`${field}.prefix`, 'a /64 prefix while autonomous is true', o.prefix, 'SLAAC needs a 64-bit prefix (RFC 4862 §5.5.3)');
  }
  // RFC 4861 §6.2.1 / RFC 4862 §5.5.3 c): a preferred lifetime above the valid one is ignored by hosts.
  if (preferredLifetime > validLifetime) {
    throw invalidValue(`${field}.preferredLifetime`, `at most validLifetime (${describeLifetime(validLifetime)})`, o.preferredLifetime);
  }
  const dhcpv6PdPreferred = checkBoolean(`${field}.dhcpv6PdPreferred`, optional<unknown>(o.dhcpv6PdPreferred, false));
  const deprecateOnStop = checkBoolean(`${field}.deprecateOnStop`, optional<unknown>(o.deprecateOnStop, false));
  const decrementLifetimes = checkBoolean(`${field}.decrementLifetimes`, optional<unknown>(o.decrementLifetimes, false));
  // Written out, not `{ ...p, onLink, … }`: node 20's optimized code gives each object made by
  // spreading and then adding properties a hidden class of its own (~300 B a network served).
  const resolved: ResolvedPrefix = { address: p.address, length: p.length, onLink, autonomous, routerAddress, validLifetime, preferredLifetime };
  // Present only when on, so the common case stays the plain RFC 4861 option.
  if (dhcpv6PdPreferred) resolved.dhcpv6PdPreferred = true;
  if (deprecateOnStop) resolved.deprecateOnStop = true;
  if (decrementLifetimes) resolved.decrementLifetimes = true;
  return resolved;
}

function describeLifetime(value: number): string {
  return value === INFINITE_LIFETIME ? 'infinity' : String(value);
}

function resolveRdnss(field: string, value: unknown, defaultLifetime: number): ResolvedRdnss {
  const o = checkObject(field, value) as Partial<RaRdnssConfig>;
  const servers = checkArray(`${field}.servers`, o.servers);
  if (servers.length === 0) throw invalidValue(`${field}.servers`, 'at least one IPv6 address', o.servers);
  // The option length is 8-octet units in one byte: (1 + 2n) ≤ 255.
  if (servers.length > 127) throw outOfRange(`${field}.servers`, 'at most 127 addresses', servers.length);
  const resolved: ResolvedRdnss = {
    servers: servers.map((s, i) => bytesToIPv6(ipv6ToBytes(checkIPv6(`${field}.servers[${i}]`, s)))),
    lifetime: checkLifetime(`${field}.lifetime`, optional<unknown>(o.lifetime, defaultLifetime)),
  };
  if (!checkBoolean(`${field}.flushOnStop`, optional<unknown>(o.flushOnStop, true))) resolved.flushOnStop = false;
  return resolved;
}

/** RFC 8106 §5.2: the DNSSL option's length is one byte of 8-octet units (2040 bytes). */
const MAX_DNSSL_BYTES = 255 * 8;

/**
 * The domains of one DNSSL option (each by {@link checkDomain}), refused when they would not
 * fit it: the VxlanNetwork's `dnssl` and the router advertiser's `dnssl[].domains` alike.
 */
export function checkDnsslDomains(field: string, value: unknown): string[] {
  const domains = checkDenseArray(field, value, MAX_DNSSL_BYTES).map((d, i) => checkDomain(`${field}[${i}]`, d));
  // An 8-byte header, then each name as labels (length byte + text) and the root byte.
  const encoded = domains.reduce((n, d) => n + d.length + 2, 8);
  if (encoded > MAX_DNSSL_BYTES) throw outOfRange(field, `names that fit one DNSSL option (${MAX_DNSSL_BYTES} bytes)`, domains.length);
  return domains;
}

function resolveDnssl(field: string, value: unknown, defaultLifetime: number): ResolvedDnssl {
  const o = checkObject(field, value) as Partial<RaDnsslConfig>;
  const resolved = checkDnsslDomains(`${field}.domains`, o.domains ?? []);
  if (resolved.length === 0) throw invalidValue(`${field}.domains`, 'at least one domain name', o.domains);
  const out: ResolvedDnssl = { domains: resolved, lifetime: checkLifetime(`${field}.lifetime`, optional<unknown>(o.lifetime, defaultLifetime)) };
  if (!checkBoolean(`${field}.flushOnStop`, optional<unknown>(o.flushOnStop, true))) out.flushOnStop = false;
  return out;
}

function resolveRoute(field: string, value: unknown, defaultLifetime: number): ResolvedRoute {
  const o = checkObject(field, value) as Partial<RaRouteConfig>;
  const route: ResolvedRoute = {
    ...checkIPv6Prefix(`${field}.prefix`, o.prefix),
    preference: checkPreference(`${field}.preference`, optional<unknown>(o.preference, 'medium')),
    lifetime: checkLifetime(`${field}.lifetime`, optional<unknown>(o.lifetime, defaultLifetime)),
  };
  if (!checkBoolean(`${field}.removeOnStop`, optional<unknown>(o.removeOnStop, true))) route.removeOnStop = false;
  return route;
}

function resolvePref64(field: string, value: unknown, defaultLifetime: number): ResolvedPref64 {
  const o = typeof value === 'string' ? { prefix: value } : (checkObject(field, value) as Partial<RaPref64Config>);
  const prefixField = typeof value === 'string' ? field : `${field}.prefix`;
  const p = checkIPv6Prefix(prefixField, o.prefix);
  if (PREF64_PLC[p.length] === undefined) {
    throw invalidValue(prefixField, 'a NAT64 prefix of length 32, 40, 48, 56, 64 or 96 (RFC 8781 §4)', o.prefix);
  }
  const lifetime = checkInteger(`${field}.lifetime`, optional<unknown>(o.lifetime, Math.min(defaultLifetime, PREF64_MAX_LIFETIME)), 0, PREF64_MAX_LIFETIME);
  // Sent as a scaled lifetime in units of 8 s; round up so the host never sees less than asked.
  return { ...p, lifetime: Math.ceil(lifetime / 8) * 8 };
}

function checkAddresses(field: string, value: unknown): string[] {
  return checkArray(field, value).map((a, i) => bytesToIPv6(ipv6ToBytes(checkIPv6(`${field}[${i}]`, a))));
}

/** A URI for the Captive-Portal option (RFC 8910 §2.3): printable ASCII, fits one option. */
function checkCaptivePortal(field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidType(field, 'a URI string', value);
  // The option length is one byte of 8-byte units: 2 + URI ≤ 255 × 8.
  if (value.length === 0 || value.length > 255 * 8 - 2 || !/^[\x21-\x7e]+$/u.test(value)) {
    throw invalidValue(field, 'a non-empty URI of printable ASCII, at most 2038 characters', value);
  }
  return value;
}

/** Validates one interface and applies the RFC defaults. `field` names it in errors. */
export function resolveInterfaceConfig(field: string, value: unknown): ResolvedInterfaceConfig {
  const o = checkObject(field, value) as Partial<RaInterfaceConfig>;
  const name = checkIfname(`${field}.name`, o.name);
  const intervalOption = checkBoolean(`${field}.intervalOption`, optional<unknown>(o.intervalOption, false));
  // RFC 6275 §7.5 (and radvd): the Advertisement Interval option or a router address in a
  // prefix (Mobile IPv6) allows much shorter intervals.
  const mipv6 = intervalOption || (Array.isArray(o.prefixes) && o.prefixes.some((p) => (p as { routerAddress?: unknown } | undefined)?.routerAddress === true));
  const minMin = mipv6 ? MIN_MIN_RTR_ADV_INTERVAL_MIPV6 : MIN_MIN_RTR_ADV_INTERVAL;
  const maxInterval = checkNumber(
    `${field}.maxInterval`,
    optional<unknown>(o.maxInterval, DEFAULT_MAX_RTR_ADV_INTERVAL),
    mipv6 ? MIN_MAX_RTR_ADV_INTERVAL_MIPV6 : MIN_MAX_RTR_ADV_INTERVAL,
    MAX_MAX_RTR_ADV_INTERVAL,
  );
  // RFC 4861 §6.2.1: 0.33 × max when max ≥ 9 s; below that radvd's 0.75 × max keeps min ≥ 3.
  const defaultMin = maxInterval >= 9 || mipv6 ? 0.33 * maxInterval : 0.75 * maxInterval;
  const minInterval = checkNumber(`${field}.minInterval`, optional<unknown>(o.minInterval, Math.max(minMin, defaultMin)), minMin, 0.75 * maxInterval);
  const defaultLifetime = checkInteger(
    `${field}.defaultLifetime`,
    optional<unknown>(o.defaultLifetime, Math.min(MAX_ROUTER_LIFETIME, Math.max(1, Math.trunc(3 * maxInterval)))),
    0,
    MAX_ROUTER_LIFETIME,
  );
  // RFC 8319 §4: zero (not a default router) or at least MaxRtrAdvInterval.
  if (defaultLifetime !== 0 && defaultLifetime < maxInterval) {
    throw outOfRange(`${field}.defaultLifetime`, `0 or an integer from maxInterval (${maxInterval}) to ${MAX_ROUTER_LIFETIME}`, defaultLifetime);
  }
  // Whole seconds, truncated as radvd computes them (an int from 3.0 × MaxRtrAdvInterval).
  const optionLifetime = Math.min(UINT32_MAX - 1, Math.trunc(3 * maxInterval));
  const mtu = o.mtu === undefined ? undefined : checkInteger(`${field}.mtu`, o.mtu, IPV6_MIN_MTU, UINT32_MAX);
  const pref64Input = o.pref64 === undefined ? [] : Array.isArray(o.pref64) ? o.pref64 : [o.pref64];
  const pref64Field = (i: number): string => (Array.isArray(o.pref64) ? `${field}.pref64[${i}]` : `${field}.pref64`);
  return {
    name,
    minInterval,
    maxInterval,
    defaultLifetime,
    managed: checkBoolean(`${field}.managed`, optional<unknown>(o.managed, false)),
    other: checkBoolean(`${field}.other`, optional<unknown>(o.other, false)),
    preference: checkPreference(`${field}.preference`, optional<unknown>(o.preference, 'medium')),
    hopLimit: checkInteger(`${field}.hopLimit`, optional<unknown>(o.hopLimit, DEFAULT_HOP_LIMIT), 0, 255),
    reachableTime: checkInteger(`${field}.reachableTime`, optional<unknown>(o.reachableTime, 0), 0, MAX_REACHABLE_TIME),
    retransTimer: checkInteger(`${field}.retransTimer`, optional<unknown>(o.retransTimer, 0), 0, UINT32_MAX),
    mtu,
    sourceLinkLayerAddress: checkBoolean(`${field}.sourceLinkLayerAddress`, optional<unknown>(o.sourceLinkLayerAddress, true)),
    solicitedUnicast: checkBoolean(`${field}.solicitedUnicast`, optional<unknown>(o.solicitedUnicast, true)),
    minDelayBetweenRAs: checkNumber(
      `${field}.minDelayBetweenRAs`,
      optional<unknown>(o.minDelayBetweenRAs, MIN_DELAY_BETWEEN_RAS),
      mipv6 ? MIN_DELAY_BETWEEN_RAS_MIPV6 : MIN_DELAY_BETWEEN_RAS,
      MAX_MAX_RTR_ADV_INTERVAL,
    ),
    raMtu: o.raMtu === undefined ? undefined : checkInteger(`${field}.raMtu`, o.raMtu, IPV6_MIN_MTU, MAX_RA_MTU),
    intervalOption,
    unicastOnly: checkBoolean(`${field}.unicastOnly`, optional<unknown>(o.unicastOnly, false)),
    clients: shared(checkAddresses(`${field}.clients`, o.clients)),
    ignoredClients: shared(checkAddresses(`${field}.ignoredClients`, o.ignoredClients)),
    unrestrictedUnicast: checkBoolean(`${field}.unrestrictedUnicast`, optional<unknown>(o.unrestrictedUnicast, false)),
    removeOnStop: checkBoolean(`${field}.removeOnStop`, optional<unknown>(o.removeOnStop, true)),
    followForwarding: checkBoolean(`${field}.followForwarding`, optional<unknown>(o.followForwarding, false)),
    snacRouter: checkBoolean(`${field}.snacRouter`, optional<unknown>(o.snacRouter, false)),
    captivePortal: o.captivePortal === undefined ? undefined : checkCaptivePortal(`${field}.captivePortal`, o.captivePortal),
    autoIgnorePrefixes: shared(
      checkArray(`${field}.autoIgnorePrefixes`, o.autoIgnorePrefixes).map((p, i) => {
        const r = checkIPv6Prefix(`${field}.autoIgnorePrefixes[${i}]`, p);
        return `${r.address}/${r.length}`;
      }),
    ),
    prefixes: shared(checkArray(`${field}.prefixes`, o.prefixes).map((p, i) => resolvePrefix(`${field}.prefixes[${i}]`, p))),
    rdnss: shared(checkArray(`${field}.rdnss`, o.rdnss).map((r, i) => resolveRdnss(`${field}.rdnss[${i}]`, r, optionLifetime))),
    dnssl: shared(checkArray(`${field}.dnssl`, o.dnssl).map((d, i) => resolveDnssl(`${field}.dnssl[${i}]`, d, optionLifetime))),
    routes: shared(checkArray(`${field}.routes`, o.routes).map((r, i) => resolveRoute(`${field}.routes[${i}]`, r, optionLifetime))),
    pref64: shared(pref64Input.map((p, i) => resolvePref64(pref64Field(i), p, optionLifetime))),
  };
}

/** Validates the options of a RouterAdvertiser (interface names must be unique). */
export function resolveOptions(value: unknown, field = 'options'): ResolvedOptions {
  const o = checkObject(field, value) as Partial<RouterAdvertiserOptions>;
  const list = checkArray(`${field}.interfaces`, o.interfaces);
  const interfaces = list.map((c, i) => resolveInterfaceConfig(`${field}.interfaces[${i}]`, c));
  checkUniqueNames(`${field}.interfaces`, interfaces);
  const finalAdvertisements = checkInteger(
    `${field}.finalAdvertisements`,
    optional<unknown>(o.finalAdvertisements, DEFAULT_FINAL_RTR_ADVERTISEMENTS),
    0,
    MAX_FINAL_RTR_ADVERTISEMENTS,
  );
  return { interfaces, finalAdvertisements };
}

/** Throws when two interface configs name the same interface. */
export function checkUniqueNames(field: string, interfaces: { name: string }[]): void {
  const seen = new Set<string>();
  interfaces.forEach((c, i) => {
    if (seen.has(c.name)) throw invalidValue(`${field}[${i}].name`, 'a name not configured twice', c.name);
    seen.add(c.name);
  });
}

/** The lifetime type as configured, for callers that render configs back. */
export type { Lifetime };
