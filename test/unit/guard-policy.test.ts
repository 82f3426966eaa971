/**
 * The guard without the kernel: option validation, the policy as data, rule compilation,
 * and the nf_tables codec's bytes (batch framing, attributes) decoded back.
 */
import { describe, expect, it } from 'vitest';

import { securePort } from '../../lib/guard/index.js';
import { commentUserdata, NFPROTO_NETDEV, NFT_MSG, userdataComment, VERDICT } from '../../lib/guard/nftables.js';
import { resolveGuardOptions } from '../../lib/guard/options.js';
import { guardChains, linkLocalFor } from '../../lib/guard/policy.js';
import { compileRule } from '../../lib/guard/rules.js';
import { checkGuardRecord, identityComment, parseIdentity } from '../../lib/guard/identity.js';
import { adoptGuard, countersOf, guardTable } from '../../lib/guard/secure-port.js';
import { native } from '../../lib/native.js';
import { resolveVmOptions } from '../../lib/network/vm-options.js';

const MAC = '02:00:00:00:00:01';
const base = { port: 'vm1n100', mac: MAC, prefixes: ['2001:db8:1::/64'] };
const names = (policy: ReturnType<typeof resolveGuardOptions>['policy']) =>
  Object.fromEntries(guardChains(policy).map((c) => [c.name, c.rules.map((r) => r.name)]));

describe('securePort options', () => {
  it.each([
    [{ ...base, port: 'a/b' }, 'ERR_INVALID_ARG_VALUE', '"port"'],
    [{ ...base, mac: '01:00:00:00:00:01' }, 'ERR_INVALID_ARG_VALUE', '"mac"'],
    [{ ...base, prefixes: '2001:db8::/64' }, 'ERR_INVALID_ARG_TYPE', '"prefixes"'],
    [{ ...base, prefixes: ['2001:db8::'] }, 'ERR_INVALID_ARG_VALUE', '"prefixes[0]"'],
    [{ ...base, prefixes: ['192.0.2.0/24'] }, 'ERR_INVALID_ARG_VALUE', '"prefixes[0]"'],
    [{ ...base, prefixes: [] }, 'ERR_INVALID_ARG_VALUE', '"prefixes"'],
    [{ ...base, addresses: ['nope'] }, 'ERR_INVALID_ARG_VALUE', '"addresses[0]"'],
    [{ ...base, routers: [1] }, 'ERR_INVALID_ARG_TYPE', '"routers[0]"'],
    [{ ...base, allowIPv4: 1 }, 'ERR_INVALID_ARG_TYPE', '"allowIPv4"'],
    [{ ...base, bandwidth: { inbound: { rate: 0 } } }, 'ERR_OUT_OF_RANGE', '"bandwidth.inbound.rate"'],
    [{ ...base, bandwidth: { outbound: { rate: 1000, burst: -1 } } }, 'ERR_OUT_OF_RANGE', '"bandwidth.outbound.burst"'],
    [{ ...base, netns: '' }, 'ERR_INVALID_ARG_VALUE', '"netns"'],
  ])('refuses %j before any syscall', async (options, code, field) => {
    expect(() => resolveGuardOptions(options)).toThrow(expect.objectContaining({ code }));
    expect(() => resolveGuardOptions(options)).toThrow(field);
    await expect(securePort(options as never)).rejects.toMatchObject({ code });
  });

  it('startVm checks portSecurity with the same rules, naming portSecurity.<field>', () => {
    const vm = { id: 1, memoryMiB: 64, cpus: 1, kernel: '/k' };
    expect(resolveVmOptions(vm, 100).guard).toEqual({});
    expect(resolveVmOptions({ ...vm, portSecurity: false }, 100).guard).toBeUndefined();
    expect(() => resolveVmOptions({ ...vm, portSecurity: { allowIPv4: 'yes' } }, 100)).toThrow('Expected "portSecurity.allowIPv4"');
    expect(() => resolveVmOptions({ ...vm, portSecurity: { addresses: ['192.0.2.1'] } }, 100)).toThrow('Expected "portSecurity.addresses[0]"');
    expect(() => resolveVmOptions({ ...vm, portSecurity: { mac: MAC } }, 100)).toThrow('Expected "portSecurity.mac"');
  });
});

describe('the policy as data', () => {
  it('guards IPv6 by default: MAC, VLAN, RA, redirect, NA, DHCPv6 server, fragments, sources', () => {
    const chains = names(resolveGuardOptions({ ...base, routers: ['2001:db8:1::1'] }).policy);
    expect(Object.keys(chains)).toEqual(['', 'ip6', 'ip6-source', 'na', 'na-target', 'ns', 'rs']);
    expect(chains['']).toEqual(['mac-source', 'vlan', 'qinq', 'ip6', 'ethertype']);
    expect(chains.ip6).toEqual([
      'icmpv6-fragment',
      'ip6-source-check',
      'router-advertisement',
      'redirect',
      'neighbour-advertisement',
      'neighbour-solicitation',
      'router-solicitation',
      'dhcpv6-server',
      'ip6-pass',
    ]);
    expect(chains['ip6-source']).toEqual([
      'ip6-source-unspecified-ns',
      'ip6-source-unspecified-mld',
      'ip6-source-link-local',
      'ip6-source-router',
      'ip6-source-eui64',
      'ip6-source-foreign-eui64',
      'ip6-source-prefix',
      'ip6-source',
    ]);
    expect(chains['na-target']).toEqual([
      'na-target-link-local',
      'na-target-router',
      'na-target-eui64',
      'na-target-foreign-eui64',
      'na-target-prefix',
      'na-target',
    ]);
    expect(chains.na).toEqual(['na-target-check', 'na-target-lladdr', 'na-no-options', 'na-lladdr']);
    expect(chains.ns).toEqual(['ns-no-options', 'ns-source-lladdr-own', 'ns-dad-nonce', 'ns-source-lladdr']);
    expect(chains.rs).toEqual(['rs-no-options', 'rs-source-lladdr-own', 'rs-source-lladdr']);
  });

  it('passes ND messages only with nothing unchecked: the payload length pins one option at its offset', () => {
    const chains = guardChains(resolveGuardOptions(base).policy);
    const rule = (chain: string, name: string) => chains.find((c) => c.name === chain)?.rules.find((r) => r.name === name);
    const fields = (chain: string, name: string) => rule(chain, name)?.match.map((m) => `${m.field}=${m.value.toString('hex')}${m.ne ? ' ne' : ''}`);
    // NS and NA: 24 bytes of ICMPv6, or 32 with exactly one 8-byte option at 24; RS: 8 or 16.
    expect(fields('ns', 'ns-no-options')).toEqual(['ip6 plen=0018']);
    expect(fields('ns', 'ns-source-lladdr-own')).toEqual(['ip6 plen=0020', 'nd option=0101', 'nd option lladdr=020000000001']);
    expect(fields('ns', 'ns-dad-nonce')).toEqual(['ip6 plen=0020', `ip6 saddr=${'00'.repeat(16)}`, 'nd option=0e01']);
    expect(fields('na', 'na-target-lladdr')).toEqual(['ip6 plen=0020', 'nd option=0201', 'nd option lladdr=020000000001']);
    expect(fields('rs', 'rs-source-lladdr-own')).toEqual(['ip6 plen=0010', 'rs option=0101', 'rs option lladdr=020000000001']);
    for (const [chain, last] of [
      ['ns', 'ns-source-lladdr'],
      ['na', 'na-lladdr'],
      ['rs', 'rs-source-lladdr'],
    ] as const) {
      expect(chains.find((c) => c.name === chain)?.rules.at(-1)).toMatchObject({ name: last, match: [], verdict: 'drop' });
    }
  });

  it('pins addresses instead of the prefix; IPv4 and ARP only when allowed; bandwidth both ways', () => {
    const chains = names(
      resolveGuardOptions({
        ...base,
        addresses: ['2001:db8:1::42', '192.0.2.7'],
        allowIPv4: true,
        bandwidth: { inbound: { rate: 1e6 }, outbound: { rate: 2e6 } },
      }).policy,
    );
    expect(chains['ip6-source']).toEqual([
      'ip6-source-unspecified-ns',
      'ip6-source-unspecified-mld',
      'ip6-source-link-local',
      'ip6-source-pinned',
      'ip6-source',
    ]);
    expect(chains['']).toEqual(['bandwidth-out', 'mac-source', 'vlan', 'qinq', 'ip6', 'arp', 'ip4', 'ethertype']);
    expect(chains.arp).toEqual(['arp-sender-mac', 'arp-probe', 'arp-sender-ip-allowed', 'arp-sender-ip']);
    expect(chains.ip4).toEqual(['dhcp-server', 'dhcp-client', 'ip4-source-allowed', 'ip4-source']);
    expect(chains.egress).toEqual(['bandwidth-in']);
  });

  it('compiles a rule to payload, cmp, counter and verdict expressions', () => {
    const policy = resolveGuardOptions(base).policy;
    const [mac] = guardChains(policy)[0]?.rules ?? [];
    expect(compileRule('vm1', mac as never)).toEqual([
      { kind: 'payload', base: 0, offset: 6, len: 6, dreg: 1 },
      { kind: 'cmp', sreg: 1, op: 1, data: Buffer.from([2, 0, 0, 0, 0, 1]) },
      { kind: 'counter' },
      { kind: 'immediate', verdict: VERDICT.drop },
    ]);
    const jump = guardChains(policy)[0]?.rules.find((r) => r.name === 'ip6');
    expect(compileRule('vm1', jump as never).at(-1)).toEqual({ kind: 'immediate', verdict: VERDICT.jump, chain: 'vm1/ip6' });
    const prefix = guardChains(policy)[2]?.rules.find((r) => r.name === 'ip6-source-prefix');
    expect(compileRule('vm1', prefix as never)[1]).toMatchObject({ kind: 'bitwise', mask: Buffer.from('ffffffffffffffff0000000000000000', 'hex') });
    expect(linkLocalFor(MAC)).toBe('fe80::ff:fe00:1');
  });
});

describe('nf_tables codec', () => {
  const rule = {
    type: NFT_MSG.NEWRULE,
    flags: 0x400 | 0x800,
    family: NFPROTO_NETDEV,
    table: 'vmplumb-guard',
    chain: 'vm1',
    expressions: compileRule('vm1', { name: 'x', match: [{ field: 'ether type', value: Buffer.from([0x86, 0xdd]) }], verdict: 'accept' }),
    userdata: commentUserdata('ip6'),
  };

  it('frames a batch: NFNL_MSG_BATCH_BEGIN (res_id NFNL_SUBSYS_NFTABLES), the message, NFNL_MSG_BATCH_END', () => {
    const bytes = native.nfnlEncode([rule], true);
    const types: number[] = [];
    for (let off = 0; off < bytes.length; off += (bytes.readUInt32LE(off) + 3) & ~3) types.push(bytes.readUInt16LE(off + 4));
    expect(types).toEqual([0x10, (10 << 8) | NFT_MSG.NEWRULE, 0x11]);
    expect(bytes.readUInt16BE(16 + 2)).toBe(10); // nfgenmsg.res_id of BATCH_BEGIN, big-endian
    expect(bytes[16 + 20]).toBe(NFPROTO_NETDEV); // the rule's nfgenmsg.nfgen_family
  });

  it("decodes what it encodes (NEWRULE has the same layout as the kernel's dump)", () => {
    const [decoded] = native.nfnlDecode(native.nfnlEncode([rule], false));
    expect(decoded).toMatchObject({ msgType: NFT_MSG.NEWRULE, family: NFPROTO_NETDEV, table: 'vmplumb-guard', chain: 'vm1' });
    expect(decoded?.expressions?.map((e) => e.kind)).toEqual(['payload', 'cmp', 'counter', 'immediate']);
    expect(decoded?.expressions?.[3]).toMatchObject({ verdict: VERDICT.accept });
    expect(userdataComment(decoded?.userdata)).toBe('ip6');
  });

  it('refuses an unknown expression kind naming it', () => {
    expect(() => native.nfnlEncode([{ ...rule, expressions: [{ kind: 'nope' } as never] }], true)).toThrow(
      "unknown expression kind 'nope' (messages[0].expressions[0].kind)",
    );
  });

  it('checks every field at the native boundary: a TypeError with its code, naming the field by its path', () => {
    const encode = (messages: unknown[]): unknown => {
      try {
        return native.nfnlEncode(messages as never, true);
      } catch (error) {
        return error;
      }
    };
    const refused = (messages: unknown[], code: string, field: string): void => {
      const error = encode(messages);
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ code, message: expect.stringContaining(`"${field}"`) });
    };
    // Control: the well-formed rule encodes.
    expect(encode([rule])).toBeInstanceOf(Buffer);
    refused([rule, 7], 'ERR_INVALID_ARG_TYPE', 'messages[1]');
    refused([{ ...rule, family: '5' }], 'ERR_INVALID_ARG_TYPE', 'messages[0].family');
    refused([{ ...rule, expressions: [{ kind: 'meta', key: 'x', dreg: 1 }] }], 'ERR_INVALID_ARG_TYPE', 'messages[0].expressions[0].key');
    refused([{ ...rule, expressions: [{ kind: 'immediate', verdict: 'accept' }] }], 'ERR_INVALID_ARG_TYPE', 'messages[0].expressions[0].verdict');
    refused([{ ...rule, expressions: [null] }], 'ERR_INVALID_ARG_TYPE', 'messages[0].expressions[0]');
    refused([{ ...rule, expressions: {} }], 'ERR_INVALID_ARG_TYPE', 'messages[0].expressions');
    refused([{ ...rule, handle: 2n ** 64n }], 'ERR_INVALID_ARG_VALUE', 'messages[0].handle');
    refused([{ ...rule, chain: 'vm\u00001' }], 'ERR_INVALID_ARG_VALUE', 'messages[0].chain');
    const chain = { type: NFT_MSG.NEWCHAIN, family: NFPROTO_NETDEV, table: 't', name: 'c' };
    expect(encode([{ ...chain, hook: { num: 0, priority: -10, device: 'eth0' } }])).toBeInstanceOf(Buffer);
    refused([{ ...chain, hook: 0 }], 'ERR_INVALID_ARG_TYPE', 'messages[0].hook');
    refused([{ ...chain, hook: { num: 0, priority: '-10' } }], 'ERR_INVALID_ARG_TYPE', 'messages[0].hook.priority');
    const elements = { type: NFT_MSG.NEWSETELEM, family: NFPROTO_NETDEV, table: 't', name: 's' };
    expect(encode([{ ...elements, elements: [{ key: Buffer.alloc(4) }] }])).toBeInstanceOf(Buffer);
    refused([{ ...elements, elements: [{ key: Buffer.alloc(4) }, 'k'] }], 'ERR_INVALID_ARG_TYPE', 'messages[0].elements[1]');
    refused([{ ...elements, elements: [{ key: [1, 2] }] }], 'ERR_INVALID_ARG_TYPE', 'messages[0].elements[0].key');
  });

  it('reads own properties only: an inherited field is no field', () => {
    const inherited = Object.assign(Object.create({ table: 'vmplumb-guard' }) as object, { ...rule, table: undefined });
    delete (inherited as { table?: string }).table;
    expect(() => native.nfnlEncode([inherited as never], true)).toThrow(/"messages\[0\]\.table" argument must be a string/u);
  });

  it('sums counters of rules that share a name', () => {
    const r = (name: string, packets: number) => ({
      msgType: 6,
      family: 5,
      userdata: commentUserdata(name),
      expressions: [
        { kind: 'counter', packets, bytes: packets * 100 },
        { kind: 'immediate', verdict: 0 },
      ],
    });
    expect(countersOf([r('a', 1), r('b', 2), r('a', 3)])).toEqual([
      { name: 'a', verdict: 'drop', packets: 4, bytes: 400 },
      { name: 'b', verdict: 'drop', packets: 2, bytes: 200 },
    ]);
  });
});

describe('guard identity (the kernel keeps it, a VM folder caches it)', () => {
  it('writes and reads the base chain comment; anything else is not ours', () => {
    const comment = identityComment({ id: '0123456789ab', mac: MAC, vm: 'vm1n100' });
    expect(comment).toBe('vmplumb-guard id=0123456789ab mac=02:00:00:00:00:01 vm=vm1n100');
    expect(parseIdentity(comment)).toEqual({ id: '0123456789ab', mac: MAC, vm: 'vm1n100' });
    expect(parseIdentity('vmplumb-guard id=0123456789ab mac=02:00:00:00:00:01')).toEqual({ id: '0123456789ab', mac: MAC });
    for (const other of [undefined, '', 'hostfw', 'vmplumb-guard', 'vmplumb-guard id=zz mac=x', 'vmplumb-guardx id=0123456789ab mac=m']) {
      expect(parseIdentity(other)).toBeUndefined();
    }
  });

  it('checks a record read from disk before anything acts on it, naming the field', () => {
    const record = { port: 'vm1n100', mac: MAC, id: '0123456789ab', netns: 'blue', vm: 'vm1n100' };
    expect(checkGuardRecord('guard', record)).toEqual({ ...record, netns: '/run/netns/blue' });
    expect(() => checkGuardRecord('guard', { ...record, id: 'x' })).toThrow('"guard.id"');
    expect(() => checkGuardRecord('guard', { ...record, port: 'a/b' })).toThrow('"guard.port"');
    expect(() => checkGuardRecord('guard', { ...record, vm: 'a b' })).toThrow('"guard.vm"');
    expect(() => adoptGuard({ ...record, mac: 'nope' })).toThrow('"record.mac"');
    const adopted = adoptGuard(record);
    expect(adopted).toMatchObject({ port: 'vm1n100', id: '0123456789ab', vm: 'vm1n100', adopted: true, removed: false });
    expect(adopted.record()).toEqual({ ...record, netns: '/run/netns/blue' });
  });

  it('refuses a VM name a comment could not carry', () => {
    expect(() => resolveGuardOptions({ ...base, vm: 'a b' })).toThrow('"vm"');
    expect(resolveGuardOptions({ ...base, vm: 'vm1n100' }).vm).toBe('vm1n100');
  });

  it('spreads ports over the shard tables by name, the same in every process', () => {
    expect(guardTable('vm1n100')).toBe(guardTable('vm1n100'));
    expect(guardTable('vm1n100')).toMatch(/^vmplumb-guard\/[0-9a-f]{2}$/u);
    const shards = new Set(Array.from({ length: 1000 }, (_, i) => guardTable(`vm${i}n100`)));
    expect(shards.size).toBe(64);
  });
});
