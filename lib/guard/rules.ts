/**
 * Rules as data: a guard is a list of chains, each a list of named rules made of matches on
 * packet fields and one verdict. `compileRule` turns one into nf_tables expressions; nothing
 * here talks to the kernel, so the policy (./policy.ts) is testable without privileges.
 *
 * Every rule counts what it matched (a counter expression right before the verdict): the
 * counters are the guard's per-rule "who tried what" (`counters()`).
 */
import type { NativeNftExpression } from '../native.js';
import {
  CMP_OP,
  NFT_EXTHDR_F_PRESENT,
  NFT_EXTHDR_OP_IPV6,
  NFT_LIMIT_F_INV,
  NFT_LIMIT_PKT_BYTES,
  NFT_META_L4PROTO,
  NFT_REG_1,
  PAYLOAD_BASE,
  VERDICT,
} from './nftables.js';

/** Where a field lies: a payload (base, byte offset, length), the L4 protocol, or "has a fragment header". */
type FieldSpec = { base: keyof typeof PAYLOAD_BASE; offset: number; len: number } | { meta: 'l4proto' } | { exthdr: 'fragment' };

/**
 * The packet fields the guard matches, named as `nft` names them. Offsets: Ethernet (IEEE
 * 802.3), IPv6 (RFC 8200 §3), IPv4 (RFC 791), ARP (RFC 826), ICMPv6 (RFC 4443), neighbour
 * discovery (RFC 4861 §4.1, §4.3-4.4: an RS's first option at 8, an NS/NA's target at 8 and first option at 24), UDP (RFC 768).
 */
export const FIELDS = {
  'ether saddr': { base: 'link', offset: 6, len: 6 },
  'ether type': { base: 'link', offset: 12, len: 2 },
  'ip6 plen': { base: 'network', offset: 4, len: 2 },
  'ip6 saddr': { base: 'network', offset: 8, len: 16 },
  'ip saddr': { base: 'network', offset: 12, len: 4 },
  'arp sha': { base: 'network', offset: 8, len: 6 },
  'arp spa': { base: 'network', offset: 14, len: 4 },
  'icmpv6 type': { base: 'transport', offset: 0, len: 1 },
  'nd target': { base: 'transport', offset: 8, len: 16 },
  'nd option': { base: 'transport', offset: 24, len: 2 },
  'nd option lladdr': { base: 'transport', offset: 26, len: 6 },
  'rs option': { base: 'transport', offset: 8, len: 2 },
  'rs option lladdr': { base: 'transport', offset: 10, len: 6 },
  'th sport': { base: 'transport', offset: 0, len: 2 },
  'meta l4proto': { meta: 'l4proto' },
  'exthdr frag': { exthdr: 'fragment' },
} as const satisfies Record<string, FieldSpec>;

/** A field's name. */
export type Field = keyof typeof FIELDS;

/** One match: `field` (masked by `mask`, if given) equals (or, with `ne`, differs from) `value`. */
export interface Match {
  field: Field;
  value: Buffer;
  mask?: Buffer;
  ne?: boolean;
}

/** What a rule does with a packet it matched. */
export type Verdict = 'accept' | 'drop' | 'return' | { jump: string };

/** A named rule: all `match`es (and an over-the-rate `limit`) hold → counted → `verdict`. */
export interface GuardRule {
  /** Unique within the guard: the counter's name and the rule's nft comment. */
  name: string;
  match: Match[];
  /** Bytes per second beyond which the rule matches (nft `limit rate over N bytes/second`). */
  limit?: { rate: number; burst: number };
  verdict: Verdict;
}

/** A chain of a guard: the base chain hooks the port ('ingress': from the guest; 'egress': to it). */
export interface GuardChain {
  /** '' for the ingress base chain, else a suffix ('ip6', 'ip6-source', …). */
  name: string;
  hook?: 'ingress' | 'egress';
  rules: GuardRule[];
}

const NEXTHDR_FRAGMENT = 44;

// Read-only zero operands (bitwise xor), shared: the encoder only reads them.
const ZEROS = Buffer.alloc(16);
const zeros = (len: number): Buffer => ZEROS.subarray(0, len);

function load(field: Field): NativeNftExpression {
  const f: FieldSpec = FIELDS[field];
  if ('meta' in f) return { kind: 'meta', key: NFT_META_L4PROTO, dreg: NFT_REG_1 };
  if ('exthdr' in f) {
    return { kind: 'exthdr', type: NEXTHDR_FRAGMENT, offset: 0, len: 1, dreg: NFT_REG_1, flags: NFT_EXTHDR_F_PRESENT, op: NFT_EXTHDR_OP_IPV6 };
  }
  return { kind: 'payload', base: PAYLOAD_BASE[f.base], offset: f.offset, len: f.len, dreg: NFT_REG_1 };
}

/** A field's length in bytes (what a match's value must be). */
export function fieldLength(field: Field): number {
  const f: FieldSpec = FIELDS[field];
  return 'base' in f ? f.len : 1;
}

/** The chain a verdict jumps to, named in the table: `<port>/<suffix>` ('' is the base chain `<port>`). */
export function chainName(port: string, suffix: string): string {
  return suffix === '' ? port : `${port}/${suffix}`;
}

/** The nf_tables expressions of one rule of the guard of `port`. */
export function compileRule(port: string, rule: GuardRule): NativeNftExpression[] {
  const out: NativeNftExpression[] = [];
  for (const m of rule.match) {
    if (m.value.length !== fieldLength(m.field)) throw new RangeError(`rule ${rule.name}: ${m.field} takes ${fieldLength(m.field)} bytes`);
    out.push(load(m.field));
    if (m.mask) out.push({ kind: 'bitwise', sreg: NFT_REG_1, dreg: NFT_REG_1, mask: m.mask, xor: zeros(m.mask.length) });
    out.push({ kind: 'cmp', sreg: NFT_REG_1, op: m.ne ? CMP_OP.ne : CMP_OP.eq, data: m.value });
  }
  if (rule.limit) {
    out.push({ kind: 'limit', rate: rule.limit.rate, unit: 1, burst: rule.limit.burst, type: NFT_LIMIT_PKT_BYTES, flags: NFT_LIMIT_F_INV });
  }
  out.push({ kind: 'counter' });
  const v = rule.verdict;
  out.push(typeof v === 'string' ? { kind: 'immediate', verdict: VERDICT[v] } : { kind: 'immediate', verdict: VERDICT.jump, chain: chainName(port, v.jump) });
  return out;
}
