/**
 * radvd.conf(5) import: the whole grammar of radvd 2.19 and of current radvd (gram.y,
 * scanner.l): interface blocks and their options; prefix, route, RDNSS, DNSSL, nat64prefix,
 * clients, AdvRASrcAddress, autoignoreprefixes, lowpanco and abro blocks; `#` comments. Names
 * and `on`/`off` are matched without regard to case, as current radvd does. The result is the
 * RouterAdvertiser configuration, validated the same way; an error is a RadvdConfError naming
 * the line.
 *
 * What has no effect (accepted silently, see README "radvd drop-in"): IgnoreIfMissing
 * (interfaces that are missing are always waited for), AdvRASrcAddress (the interface's
 * link-local address is the source), AdvRDNSSPreference and AdvRDNSSOpen (deprecated, radvd
 * ignores them too), HomeAgentPreference and HomeAgentLifetime (only used with
 * AdvHomeAgentInfo), and every Mobile IPv6 switch set to off.
 *
 * What is refused, with the line: AdvHomeAgentFlag, AdvHomeAgentInfo and AdvMobRtrSupportFlag
 * on (Mobile IPv6 home agents), lowpanco and abro blocks (6LoWPAN), Base6Interface (prefixes
 * taken from another interface's addresses; `prefix ::/64`, the served interface's own, works).
 *
 * What differs from radvd, with a warning through `onWarning`: a Base6to4Interface prefix is
 * left out (6to4 is deprecated, RFC 7526; radvd also leaves it out while the interface has no
 * IPv4 address); an autonomous prefix that is not a /64 is sent without the A flag (hosts ignore
 * it, RFC 4862 §5.5.3 d); AdvCurHopLimit above 255 is truncated to 8 bits as radvd does; a
 * reserved preference (-2) is sent as medium (RFC 4191 §2.2). An interface with
 * `AdvSendAdvert off` is left out.
 */
import { resolveInterfaceConfig } from './config.js';
import type {
  Lifetime,
  Preference,
  RaDnsslConfig,
  RaInterfaceConfig,
  RaPref64Config,
  RaPrefixConfig,
  RaRdnssConfig,
  RaRouteConfig,
  RouterAdvertiserOptions,
} from './types.js';

/** A syntax or value error in radvd.conf, with the 1-based line it is on. */
export class RadvdConfError extends SyntaxError {
  /** The line (1-based). */
  readonly line: number;
  /** Always 'ERR_RADVD_CONF'. */
  readonly code = 'ERR_RADVD_CONF';

  constructor(line: number, message: string) {
    super(`radvd.conf line ${line}: ${message}`);
    this.name = 'RadvdConfError';
    this.line = line;
  }
}

/** Something radvd.conf asks for that vmplumb does differently (see parseRadvdConf). */
export interface RadvdConfWarning {
  /** The line (1-based). */
  line: number;
  /** What is done instead. */
  message: string;
}

/** Options of parseRadvdConf. */
export interface ParseRadvdConfOptions {
  /** Called for each option that is accepted but acts differently from radvd. */
  onWarning?: (warning: RadvdConfWarning) => void;
}

interface Token {
  text: string;
  line: number;
  /** '{', '}', ';' or a word. */
  punct: boolean;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (c === '\n') {
      line += 1;
      i += 1;
      continue;
    }
    if (/\s/u.test(c)) {
      i += 1;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i += 1;
      continue;
    }
    if (c === '{' || c === '}' || c === ';') {
      tokens.push({ text: c, line, punct: true });
      i += 1;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0 || text.slice(i, end).includes('\n')) throw new RadvdConfError(line, 'unterminated string');
      tokens.push({ text: text.slice(i + 1, end), line, punct: false });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < text.length && !/[\s{};#]/u.test(text[j]!)) j += 1;
    tokens.push({ text: text.slice(i, j), line, punct: false });
    i = j;
  }
  return tokens;
}

function flag(t: Token): boolean {
  const v = t.text.toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new RadvdConfError(t.line, `expected on or off, got "${t.text}"`);
}

/** radvd's NUMBER: decimal digits, at most 2^32 - 1. */
function integer(t: Token): number {
  if (!/^\d+$/u.test(t.text) || Number(t.text) > 0xffffffff) throw new RadvdConfError(t.line, `expected an integer from 0 to 4294967295, got "${t.text}"`);
  return Number(t.text);
}

/** radvd's NUMBER or DECIMAL (`3.5`). */
function number(t: Token): number {
  if (!/^\d+(\.\d+)?$/u.test(t.text)) throw new RadvdConfError(t.line, `expected a number, got "${t.text}"`);
  return Number(t.text);
}

function lifetime(t: Token): Lifetime {
  return t.text.toLowerCase() === 'infinity' ? 'infinity' : integer(t);
}

/** A preference: low, medium, high, or radvd's signed number (-1 low, 0 medium, 1 high). */
function preference(t: Token, warn: (line: number, message: string) => void): Preference {
  const v = t.text.toLowerCase();
  if (v === 'low' || v === 'medium' || v === 'high') return v;
  if (!/^-?\d+$/u.test(v)) throw new RadvdConfError(t.line, `expected low, medium or high, got "${t.text}"`);
  // radvd shifts the number into the two Prf bits: (n << 3) & 0x18.
  const bits = ((Number(v) << 3) >> 3) & 3;
  if (bits === 2) {
    warn(t.line, `preference ${t.text} is the reserved value 10; sent as medium (RFC 4191 §2.2)`);
    return 'medium';
  }
  return bits === 1 ? 'high' : bits === 3 ? 'low' : 'medium';
}

type Setter<T> = (target: T, value: Token, name: Token) => void;

class Parser {
  private i = 0;
  /** Line of each config field path that was set, for errors found by validation. */
  readonly lines = new Map<string, number>();

  constructor(
    private readonly tokens: Token[],
    private readonly lastLine: number,
    private readonly onWarning?: (w: RadvdConfWarning) => void,
  ) {}

  readonly warn = (line: number, message: string): void => {
    this.onWarning?.({ line, message });
  };

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t !== undefined && t.punct && t.text === text;
  }

  private next(what: string): Token {
    const t = this.tokens[this.i];
    if (!t) throw new RadvdConfError(this.lastLine, `unexpected end of file, expected ${what}`);
    this.i += 1;
    return t;
  }

  private expect(punct: '{' | '}' | ';'): Token {
    const t = this.next(`"${punct}"`);
    if (!t.punct || t.text !== punct) throw new RadvdConfError(t.line, `expected "${punct}", got "${t.text}"`);
    return t;
  }

  private word(what: string): Token {
    const t = this.next(what);
    if (t.punct) throw new RadvdConfError(t.line, `expected ${what}, got "${t.text}"`);
    return t;
  }

  /** `}` optionally followed by `;` (radvd requires it; being lenient costs nothing). */
  private closeBlock(): void {
    this.expect('}');
    if (this.isPunct(';')) this.i += 1;
  }

  /** Words up to (not including) `{`. */
  private wordsUntilBrace(what: string, line: number): Token[] {
    const words: Token[] = [];
    for (;;) {
      const t = this.peek();
      if (!t) throw new RadvdConfError(this.lastLine, `unexpected end of file in ${what}`);
      if (t.punct) {
        if (t.text === '{') break;
        throw new RadvdConfError(t.line, `expected "{" after ${what}, got "${t.text}"`);
      }
      words.push(t);
      this.i += 1;
    }
    if (words.length === 0) throw new RadvdConfError(line, `${what} needs at least one value`);
    return words;
  }

  /**
   * `{ Name value; … }` until `}` (or nothing, when `optionalBlock` and a `;` follows: radvd's
   * `prefix P/L;`); each option goes to its setter in `table` (keys in lower case).
   */
  private options<T>(kind: string, target: T, table: Record<string, Setter<T>>, optionalBlock = false): void {
    if (optionalBlock && this.isPunct(';')) {
      this.i += 1;
      return;
    }
    this.expect('{');
    while (!this.isPunct('}')) {
      const name = this.word('an option name');
      const setter = table[name.text.toLowerCase()];
      if (!setter) throw new RadvdConfError(name.line, `unknown ${kind}option "${name.text}"`);
      const value = this.word(`a value for ${name.text}`);
      this.expect(';');
      setter(target, value, name);
    }
    this.closeBlock();
  }

  /** `{ addr; addr; }` (clients, AdvRASrcAddress, autoignoreprefixes). */
  private addressList(what: string): Token[] {
    this.expect('{');
    const out: Token[] = [];
    while (!this.isPunct('}')) {
      out.push(this.word(`an address in ${what}`));
      this.expect(';');
    }
    this.closeBlock();
    return out;
  }

  parse(): RouterAdvertiserOptions {
    const interfaces: RaInterfaceConfig[] = [];
    while (this.peek()) {
      const t = this.word('"interface"');
      if (t.text.toLowerCase() !== 'interface') throw new RadvdConfError(t.line, `expected "interface", got "${t.text}"`);
      const name = this.word('an interface name');
      const field = `options.interfaces[${interfaces.length}]`;
      const { config, send } = this.interface(name.text, field, t.line);
      if (send) interfaces.push(config);
    }
    return { interfaces };
  }

  /** A setter that records the config field and its line. */
  private field<T>(path: (target: T) => string, key: string, convert: (value: Token, name: Token) => unknown): Setter<T> {
    return (target, value, name) => {
      (target as Record<string, unknown>)[key] = convert(value, name);
      this.lines.set(`${path(target)}.${key}`, name.line);
    };
  }

  private interface(name: string, field: string, line: number): { config: RaInterfaceConfig; send: boolean } {
    // radvd sends router lifetime 0 while the host does not forward (RFC 4861 §6.2.5).
    const config: RaInterfaceConfig = { name, followForwarding: true };
    this.lines.set(field, line);
    const state = { send: false };
    const f = (key: keyof RaInterfaceConfig, convert: (value: Token, name: Token) => unknown): Setter<RaInterfaceConfig> =>
      this.field<RaInterfaceConfig>(() => field, key, convert);
    const ignoreSwitch: Setter<RaInterfaceConfig> = (_, v) => {
      flag(v);
    };
    const offOnly: Setter<RaInterfaceConfig> = (_, v, n) => {
      if (flag(v)) throw new RadvdConfError(n.line, `"${n.text} on" is not supported: vmplumb does not implement Mobile IPv6 home agents (RFC 6275 §7.4)`);
    };
    const table: Record<string, Setter<RaInterfaceConfig>> = {
      advsendadvert: (_, v) => {
        state.send = flag(v);
      },
      ignoreifmissing: ignoreSwitch, // missing interfaces are always waited for
      minrtradvinterval: f('minInterval', number),
      maxrtradvinterval: f('maxInterval', number),
      mindelaybetweenras: f('minDelayBetweenRAs', number),
      advdefaultlifetime: f('defaultLifetime', integer),
      advmanagedflag: f('managed', flag),
      advotherconfigflag: f('other', flag),
      advlinkmtu: (c, v, n) => {
        const mtu = integer(v);
        if (mtu === 0)
          delete c.mtu; // radvd: 0 sends no MTU option
        else f('mtu', () => mtu)(c, v, n);
      },
      // radvd clamps AdvRAMTU into [1280, 131072] without a word.
      advramtu: f('raMtu', (v) => Math.min(131072, Math.max(1280, integer(v)))),
      advreachabletime: f('reachableTime', integer),
      advretranstimer: f('retransTimer', integer),
      advcurhoplimit: f('hopLimit', (v) => {
        const n = integer(v);
        if (n > 255) this.warn(v.line, `AdvCurHopLimit ${n} is truncated to 8 bits (${n & 0xff}), as radvd does`);
        return n & 0xff;
      }),
      advdefaultpreference: f('preference', (v) => preference(v, this.warn)),
      advsourcelladdress: f('sourceLinkLayerAddress', flag),
      advrasolicitedunicast: f('solicitedUnicast', flag),
      unicastonly: f('unicastOnly', flag),
      unrestrictedunicast: f('unrestrictedUnicast', flag),
      removeadvonexit: f('removeOnStop', flag),
      advintervalopt: f('intervalOption', flag),
      advsnacrouterflag: f('snacRouter', flag),
      advcaptiveportalapi: f('captivePortal', (v) => v.text),
      advhomeagentflag: offOnly,
      advhomeagentinfo: offOnly,
      advmobrtrsupportflag: offOnly,
      homeagentpreference: (_, v) => {
        integer(v);
      }, // only sent with AdvHomeAgentInfo
      homeagentlifetime: (_, v) => {
        integer(v);
      },
    };
    this.expect('{');
    while (!this.isPunct('}')) {
      const head = this.word('an option or block');
      switch (head.text.toLowerCase()) {
        case 'prefix':
          this.prefix(config, field, head);
          continue;
        case 'route':
          this.route(config, field, head);
          continue;
        case 'rdnss':
          this.rdnss(config, field, head);
          continue;
        case 'dnssl':
          this.dnssl(config, field, head);
          continue;
        case 'nat64prefix':
          this.nat64(config, field, head);
          continue;
        case 'clients':
          this.clients(config, field, head);
          continue;
        case 'advrasrcaddress':
          this.addressList('AdvRASrcAddress');
          continue; // the link-local is always the source
        case 'autoignoreprefixes':
          for (const t of this.addressList('autoignoreprefixes')) {
            const list = (config.autoIgnorePrefixes ??= []);
            this.lines.set(`${field}.autoIgnorePrefixes[${list.length}]`, t.line);
            list.push(t.text);
          }
          continue;
        case 'abro':
        case 'lowpanco':
          throw new RadvdConfError(head.line, `"${head.text}" blocks are not supported: vmplumb does not implement 6LoWPAN neighbor discovery (RFC 6775)`);
        default:
          break;
      }
      const setter = table[head.text.toLowerCase()];
      if (!setter) throw new RadvdConfError(head.line, `unknown option "${head.text}"`);
      const value = this.word(`a value for ${head.text}`);
      this.expect(';');
      setter(config, value, head);
    }
    this.closeBlock();
    return { config, send: state.send };
  }

  private prefix(config: RaInterfaceConfig, field: string, head: Token): void {
    const p = this.word('a prefix'); // `::/64`: the interface's own prefixes (see RaInterfaceConfig.prefixes)
    const prefixes = config.prefixes ?? [];
    const f = `${field}.prefixes[${prefixes.length}]`;
    const entry: RaPrefixConfig = { prefix: p.text };
    this.lines.set(f, head.line);
    this.lines.set(`${f}.prefix`, p.line);
    let base6to4: Token | undefined;
    const s = (key: keyof RaPrefixConfig, convert: (value: Token) => unknown): Setter<RaPrefixConfig> => this.field<RaPrefixConfig>(() => f, key, convert);
    this.options<RaPrefixConfig>(
      'prefix ',
      entry,
      {
        advonlink: s('onLink', flag),
        advautonomous: s('autonomous', flag),
        advrouteraddr: s('routerAddress', flag),
        advdhcpv6pdpreferred: s('dhcpv6PdPreferred', flag),
        advvalidlifetime: s('validLifetime', lifetime),
        advpreferredlifetime: s('preferredLifetime', lifetime),
        deprecateprefix: s('deprecateOnStop', flag),
        decrementlifetimes: s('decrementLifetimes', flag),
        base6to4interface: (_, v) => {
          base6to4 = v;
        },
        base6interface: (_, v, n) => {
          throw new RadvdConfError(n.line, `"${n.text} ${v.text}" is not supported: list the prefixes to advertise`);
        },
      },
      true,
    );
    // RFC 4862 §5.5.3 d): hosts ignore the A flag unless the prefix is a /64; radvd sends it
    // anyway, vmplumb's validator refuses it, so it is cleared here.
    const length = Number(/\/(\d+)$/u.exec(p.text)?.[1] ?? 64);
    if (length !== 64 && entry.autonomous !== false && entry.routerAddress !== true) {
      this.warn(p.line, `prefix ${p.text} is not a /64: sent without the autonomous (A) flag, which hosts would ignore (RFC 4862 §5.5.3 d)`);
      entry.autonomous = false;
    }
    if (base6to4) {
      this.warn(base6to4.line, `prefix ${p.text} with Base6to4Interface ${base6to4.text} is not advertised: 6to4 is deprecated (RFC 7526)`);
      return;
    }
    config.prefixes = [...prefixes, entry];
  }

  private route(config: RaInterfaceConfig, field: string, head: Token): void {
    const p = this.word('a route prefix');
    const routes = (config.routes ??= []);
    const f = `${field}.routes[${routes.length}]`;
    const entry: RaRouteConfig = { prefix: p.text };
    this.lines.set(f, head.line);
    this.lines.set(`${f}.prefix`, p.line);
    const s = (key: keyof RaRouteConfig, convert: (value: Token) => unknown): Setter<RaRouteConfig> => this.field<RaRouteConfig>(() => f, key, convert);
    this.options<RaRouteConfig>('route ', entry, {
      advroutepreference: s('preference', (v) => preference(v, this.warn)),
      advroutelifetime: s('lifetime', lifetime),
      removeroute: s('removeOnStop', flag),
    });
    routes.push(entry);
  }

  private rdnss(config: RaInterfaceConfig, field: string, head: Token): void {
    const servers = this.wordsUntilBrace('RDNSS', head.line).map((t) => t.text);
    const list = (config.rdnss ??= []);
    const f = `${field}.rdnss[${list.length}]`;
    const entry: RaRdnssConfig = { servers };
    this.lines.set(f, head.line);
    const s = (key: keyof RaRdnssConfig, convert: (value: Token) => unknown): Setter<RaRdnssConfig> => this.field<RaRdnssConfig>(() => f, key, convert);
    this.options<RaRdnssConfig>('RDNSS ', entry, {
      advrdnsslifetime: s('lifetime', lifetime),
      flushrdnss: s('flushOnStop', flag),
      // Deprecated draft fields; radvd ignores them with a warning.
      advrdnsspreference: (_, v) => {
        integer(v);
      },
      advrdnssopen: (_, v) => {
        flag(v);
      },
    });
    list.push(entry);
  }

  private dnssl(config: RaInterfaceConfig, field: string, head: Token): void {
    const domains = this.wordsUntilBrace('DNSSL', head.line).map((t) => t.text);
    const list = (config.dnssl ??= []);
    const f = `${field}.dnssl[${list.length}]`;
    const entry: RaDnsslConfig = { domains };
    this.lines.set(f, head.line);
    const s = (key: keyof RaDnsslConfig, convert: (value: Token) => unknown): Setter<RaDnsslConfig> => this.field<RaDnsslConfig>(() => f, key, convert);
    this.options<RaDnsslConfig>('DNSSL ', entry, {
      advdnssllifetime: s('lifetime', lifetime),
      flushdnssl: s('flushOnStop', flag),
    });
    list.push(entry);
  }

  private nat64(config: RaInterfaceConfig, field: string, head: Token): void {
    const p = this.word('a NAT64 prefix');
    const list = Array.isArray(config.pref64) ? config.pref64 : (config.pref64 = [] as RaPref64Config[]);
    const f = `${field}.pref64[${list.length}]`;
    const entry: RaPref64Config = { prefix: p.text };
    this.lines.set(f, head.line);
    this.lines.set(`${f}.prefix`, p.line);
    this.options<RaPref64Config>(
      'nat64prefix ',
      entry,
      {
        advvalidlifetime: this.field<RaPref64Config>(() => f, 'lifetime', integer),
      },
      true,
    );
    list.push(entry);
  }

  /** `clients { addr; !addr; }`: `!` marks a host never answered (current radvd). */
  private clients(config: RaInterfaceConfig, field: string, head: Token): void {
    for (const t of this.addressList('clients')) {
      const ignored = t.text.startsWith('!');
      const key = ignored ? 'ignoredClients' : 'clients';
      const list = (config[key] ??= []);
      this.lines.set(`${field}.${key}[${list.length}]`, t.line);
      this.lines.set(`${field}.${key}`, head.line);
      list.push(ignored ? t.text.slice(1) : t.text);
    }
  }
}

/**
 * Reads radvd.conf text into RouterAdvertiser options (without `netns`). Values are validated
 * as `new RouterAdvertiser()` would; every error is a RadvdConfError naming the line. Options
 * that act differently from radvd are reported through `options.onWarning`.
 */
export function parseRadvdConf(text: string, options: ParseRadvdConfOptions = {}): RouterAdvertiserOptions {
  if (typeof text !== 'string') throw new TypeError('parseRadvdConf: text must be a string');
  const parser = new Parser(tokenize(text), text.split('\n').length, options.onWarning);
  const result = parser.parse();
  const names = new Map<string, number>();
  result.interfaces.forEach((config, i) => {
    const field = `options.interfaces[${i}]`;
    const line = parser.lines.get(field) ?? 1;
    if (names.has(config.name)) throw new RadvdConfError(line, `interface ${config.name} is configured twice (first on line ${names.get(config.name)})`);
    names.set(config.name, line);
    try {
      resolveInterfaceConfig(field, config);
    } catch (error) {
      const message = (error as Error).message;
      // Point at the most specific field the message names (its own line, else its block's).
      let path = /"([^"]+)"/u.exec(message)?.[1] ?? field;
      while (!parser.lines.has(path) && path.length > field.length) path = path.replace(/(\.[^.[]+|\[\d+\])$/u, '');
      throw new RadvdConfError(parser.lines.get(path) ?? line, `${config.name}: ${message}`);
    }
  });
  return result;
}
