/**
 * radvd.conf(5) import: interface blocks with their options; prefix, route, RDNSS, DNSSL and
 * nat64prefix blocks; `#` comments. The result is the RouterAdvertiser configuration, validated
 * the same way; an unknown, unsupported or invalid option throws a RadvdConfError with its
 * line number.
 *
 * Differences from radvd: an interface with `AdvSendAdvert off` is left out; RDNSS, DNSSL and
 * route lifetimes that are not given default to 3 × MaxRtrAdvInterval (RFC 8106 §5.1) where
 * radvd uses 2 ×; options for Mobile IPv6, 6LoWPAN, 6to4 and prefix `::/64` are refused.
 */
import { resolveInterfaceConfig } from './config.js';
import type {
  Lifetime, RaDnsslConfig, RaInterfaceConfig, RaPref64Config, RaPrefixConfig, RaRdnssConfig, RaRouteConfig,
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

interface Token {
  text: string;
  line: number;
  /** '{', '}', ';' or a word. */
  punct: boolean;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '\n') { line += 1; i += 1; continue; }
    if (/\s/u.test(c)) { i += 1; continue; }
    if (c === '#') { while (i < text.length && text[i] !== '\n') i += 1; continue; }
    if (c === '{' || c === '}' || c === ';') { tokens.push({ text: c, line, punct: true }); i += 1; continue; }
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

class Parser {
  private i = 0;
  /** Line of each config field path that was set, for errors found by validation. */
  readonly lines = new Map<string, number>();

  constructor(private readonly tokens: Token[], private readonly lastLine: number) {}

  private peek(): Token | undefined { return this.tokens[this.i]; }

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
    const t = this.peek();
    if (t?.punct && t.text === ';') this.i += 1;
  }

  /** Words up to (not including) `{`. */
  private wordsUntilBrace(what: string, line: number): string[] {
    const words: string[] = [];
    for (;;) {
      const t = this.peek();
      if (!t) throw new RadvdConfError(this.lastLine, `unexpected end of file in ${what}`);
      if (t.punct) {
        if (t.text === '{') break;
        throw new RadvdConfError(t.line, `expected "{" after ${what}, got "${t.text}"`);
      }
      words.push(t.text);
      this.i += 1;
    }
    if (words.length === 0) throw new RadvdConfError(line, `${what} needs at least one value`);
    return words;
  }

  /** `Name value;` pairs of a block until `}`; calls `set` for each. */
  private options(set: (name: string, value: Token, nameToken: Token) => void): void {
    this.expect('{');
    for (;;) {
      const t = this.peek();
      if (t?.punct && t.text === '}') break;
      const name = this.word('an option name');
      const value = this.word(`a value for ${name.text}`);
      this.expect(';');
      set(name.text.toLowerCase(), value, name);
    }
    this.closeBlock();
  }

  parse(): RouterAdvertiserOptions {
    const interfaces: RaInterfaceConfig[] = [];
    while (this.peek()) {
      const t = this.word('"interface"');
      if (t.text !== 'interface') throw new RadvdConfError(t.line, `expected "interface", got "${t.text}"`);
      const name = this.word('an interface name');
      const field = `options.interfaces[${interfaces.length}]`;
      const { config, send } = this.interface(name.text, field, t.line);
      if (send) interfaces.push(config);
    }
    return { interfaces };
  }

  private interface(name: string, field: string, line: number): { config: RaInterfaceConfig; send: boolean } {
    const config: RaInterfaceConfig = { name };
    this.lines.set(field, line);
    let send = false;
    this.expect('{');
    for (;;) {
      const t = this.peek();
      if (t?.punct && t.text === '}') break;
      const head = this.word('an option or block');
      const key = head.text.toLowerCase();
      switch (key) {
        case 'prefix': this.prefix(config, field, head); continue;
        case 'route': this.route(config, field, head); continue;
        case 'rdnss': this.rdnss(config, field, head); continue;
        case 'dnssl': this.dnssl(config, field, head); continue;
        case 'nat64prefix': this.nat64(config, field, head); continue;
        case 'clients': case 'abro': case 'lowpanco': case 'autoignoreprefixes':
          throw new RadvdConfError(head.line, `"${head.text}" blocks are not supported`);
        default: break;
      }
      const value = this.word(`a value for ${head.text}`);
      this.expect(';');
      const set = (f: keyof RaInterfaceConfig, v: unknown): void => {
        (config as unknown as Record<string, unknown>)[f] = v;
        this.lines.set(`${field}.${f}`, head.line);
      };
      switch (key) {
        case 'advsendadvert': send = flag(value); break;
        case 'ignoreifmissing': flag(value); break; // missing interfaces are always waited for
        case 'minrtradvinterval': set('minInterval', number(value)); break;
        case 'maxrtradvinterval': set('maxInterval', number(value)); break;
        case 'advdefaultlifetime': set('defaultLifetime', integer(value)); break;
        case 'advmanagedflag': set('managed', flag(value)); break;
        case 'advotherconfigflag': set('other', flag(value)); break;
        case 'advlinkmtu': { const mtu = integer(value); if (mtu !== 0) set('mtu', mtu); break; }
        case 'advreachabletime': set('reachableTime', integer(value)); break;
        case 'advretranstimer': set('retransTimer', integer(value)); break;
        case 'advcurhoplimit': set('hopLimit', integer(value)); break;
        case 'advdefaultpreference': set('preference', preference(value)); break;
        case 'advsourcelladdress': set('sourceLinkLayerAddress', flag(value)); break;
        case 'advrasolicitedunicast': set('solicitedUnicast', flag(value)); break;
        case 'mindelaybetweenras': case 'unicastonly': case 'advhomeagentflag': case 'advintervalopt':
        case 'advhomeagentinfo': case 'homeagentlifetime': case 'homeagentpreference': case 'advmobrtrsupportflag':
        case 'advraptr': case 'advcaptiveportalapi': case 'removeadvonexit':
          throw new RadvdConfError(head.line, `option "${head.text}" is not supported`);
        default:
          throw new RadvdConfError(head.line, `unknown option "${head.text}"`);
      }
    }
    this.closeBlock();
    return { config, send };
  }

  private prefix(config: RaInterfaceConfig, field: string, head: Token): void {
    const p = this.word('a prefix');
    if (p.text === '::/64') throw new RadvdConfError(p.line, 'prefix ::/64 (the interface\'s own prefixes) is not supported');
    const prefixes = (config.prefixes ??= []);
    const f = `${field}.prefixes[${prefixes.length}]`;
    const entry: RaPrefixConfig = { prefix: p.text };
    this.lines.set(f, head.line);
    this.lines.set(`${f}.prefix`, p.line);
    this.options((name, value, nameToken) => {
      const set = (k: keyof RaPrefixConfig, v: unknown): void => {
        (entry as unknown as Record<string, unknown>)[k] = v;
        this.lines.set(`${f}.${k}`, nameToken.line);
      };
      switch (name) {
        case 'advonlink': set('onLink', flag(value)); break;
        case 'advautonomous': set('autonomous', flag(value)); break;
        case 'advrouteraddr': set('routerAddress', flag(value)); break;
        case 'advvalidlifetime': set('validLifetime', lifetime(value)); break;
        case 'advpreferredlifetime': set('preferredLifetime', lifetime(value)); break;
        case 'deprecateprefix': case 'decrementlifetimes': case 'base6to4interface': case 'base6interface':
          throw new RadvdConfError(nameToken.line, `prefix option "${nameToken.text}" is not supported`);
        default: throw new RadvdConfError(nameToken.line, `unknown prefix option "${nameToken.text}"`);
      }
    });
    prefixes.push(entry);
  }

  private route(config: RaInterfaceConfig, field: string, head: Token): void {
    const p = this.word('a route prefix');
    const routes = (config.routes ??= []);
    const f = `${field}.routes[${routes.length}]`;
    const entry: RaRouteConfig = { prefix: p.text };
    this.lines.set(f, head.line);
    this.lines.set(`${f}.prefix`, p.line);
    this.options((name, value, nameToken) => {
      switch (name) {
        case 'advroutepreference': entry.preference = preference(value); break;
        case 'advroutelifetime': entry.lifetime = lifetime(value); break;
        case 'removeroute': onlyOn(value, nameToken); break; // routes always get lifetime 0 on stop
        default: throw new RadvdConfError(nameToken.line, `unknown route option "${nameToken.text}"`);
      }
      this.lines.set(`${f}.${name === 'advroutepreference' ? 'preference' : 'lifetime'}`, nameToken.line);
    });
    routes.push(entry);
  }

  private rdnss(config: RaInterfaceConfig, field: string, head: Token): void {
    const servers = this.wordsUntilBrace('RDNSS', head.line);
    const list = (config.rdnss ??= []);
    const entry: RaRdnssConfig = { servers };
    this.dnsBlock('RDNSS', `${field}.rdnss[${list.length}]`, head, entry);
    list.push(entry);
  }

  private dnssl(config: RaInterfaceConfig, field: string, head: Token): void {
    const domains = this.wordsUntilBrace('DNSSL', head.line);
    const list = (config.dnssl ??= []);
    const entry: RaDnsslConfig = { domains };
    this.dnsBlock('DNSSL', `${field}.dnssl[${list.length}]`, head, entry);
    list.push(entry);
  }

  /**
   * The `{ … }` block of an RDNSS or DNSSL section (RFC 8106 §5.1, §5.2): both take the same
   * two options, AdvRDNSSLifetime / AdvDNSSLLifetime and FlushRDNSS / FlushDNSSL (only `on`:
   * lifetime 0 is always sent on stop).
   */
  private dnsBlock(kind: 'RDNSS' | 'DNSSL', f: string, head: Token, entry: { lifetime?: Lifetime }): void {
    const lower = kind.toLowerCase();
    this.lines.set(f, head.line);
    this.options((name, value, nameToken) => {
      switch (name) {
        case `adv${lower}lifetime`: entry.lifetime = lifetime(value); this.lines.set(`${f}.lifetime`, nameToken.line); break;
        case `flush${lower}`: onlyOn(value, nameToken); break;
        default: throw new RadvdConfError(nameToken.line, `unknown ${kind} option "${nameToken.text}"`);
      }
    });
  }

  private nat64(config: RaInterfaceConfig, field: string, head: Token): void {
    const p = this.word('a NAT64 prefix');
    const list = (Array.isArray(config.pref64) ? config.pref64 : (config.pref64 = [] as RaPref64Config[]));
    const f = `${field}.pref64[${list.length}]`;
    const entry: RaPref64Config = { prefix: p.text };
    this.lines.set(f, head.line);
    this.lines.set(`${f}.prefix`, p.line);
    this.options((name, value, nameToken) => {
      if (name !== 'advvalidlifetime') throw new RadvdConfError(nameToken.line, `unknown nat64prefix option "${nameToken.text}"`);
      entry.lifetime = integer(value);
      this.lines.set(`${f}.lifetime`, nameToken.line);
    });
    list.push(entry);
  }
}

function flag(t: Token): boolean {
  const v = t.text.toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new RadvdConfError(t.line, `expected on or off, got "${t.text}"`);
}

function onlyOn(t: Token, name: Token): void {
  if (!flag(t)) throw new RadvdConfError(name.line, `"${name.text} off" is not supported`);
}

function number(t: Token): number {
  if (!/^\d+(\.\d+)?$/u.test(t.text)) throw new RadvdConfError(t.line, `expected a number, got "${t.text}"`);
  return Number(t.text);
}

function integer(t: Token): number {
  if (!/^\d+$/u.test(t.text)) throw new RadvdConfError(t.line, `expected an integer, got "${t.text}"`);
  return Number(t.text);
}

function lifetime(t: Token): number | 'infinity' {
  return t.text.toLowerCase() === 'infinity' ? 'infinity' : integer(t);
}

function preference(t: Token): 'low' | 'medium' | 'high' {
  const v = t.text.toLowerCase();
  if (v === 'low' || v === 'medium' || v === 'high') return v;
  throw new RadvdConfError(t.line, `expected low, medium or high, got "${t.text}"`);
}

/**
 * Reads radvd.conf text into RouterAdvertiser options (without `netns`). Values are validated
 * as `new RouterAdvertiser()` would; every error is a RadvdConfError naming the line.
 */
export function parseRadvdConf(text: string): RouterAdvertiserOptions {
  if (typeof text !== 'string') throw new TypeError('parseRadvdConf: text must be a string');
  const parser = new Parser(tokenize(text), text.split('\n').length);
  const options = parser.parse();
  const names = new Map<string, number>();
  options.interfaces.forEach((config, i) => {
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
  return options;
}
