/**
 * The C++ rtnetlink codec without a socket: requests encoded by native/rtnl_*.cc parse back
 * into the same fields (a request and the kernel's message share one layout), and the bytes
 * are what rtnetlink(7) says (checked on a hand-assembled message).
 */
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { AF, IFA_F, IFF, NETCONFA_IFINDEX, NLM_F, NTF, NUD, RTM } from '../../lib/netlink/constants.js';
import { parseAddress, parseFdb, parseLink, parseRoute } from '../../lib/netlink/parse.js';

const roundTrip = (type: number, params: object) => {
  const buffer = native.rtnlEncode(type, NLM_F.REQUEST, 7, params);
  const [message] = native.rtnlDecode(buffer);
  return { buffer, message: message! };
};

describe('rtnetlink codec', () => {
  it('encodes RTM_NEWLINK byte for byte (nlmsghdr, ifinfomsg, IFLA_IFNAME, IFLA_MTU)', () => {
    const buffer = native.rtnlEncode(RTM.NEWLINK, NLM_F.REQUEST | NLM_F.CREATE | NLM_F.EXCL, 42, { name: 'br0', mtu: 1500, flags: IFF.UP, change: IFF.UP });
    const expected = Buffer.alloc(16 + 16 + 8 + 8);
    expected.writeUInt32LE(expected.length, 0); // nlmsg_len
    expected.writeUInt16LE(RTM.NEWLINK, 4);
    expected.writeUInt16LE(0x601, 6); // REQUEST|CREATE|EXCL
    expected.writeUInt32LE(42, 8); // seq
    expected.writeUInt32LE(IFF.UP, 16 + 8); // ifi_flags
    expected.writeUInt32LE(IFF.UP, 16 + 12); // ifi_change
    expected.writeUInt16LE(8, 32); // nla_len: header + "br0\0"
    expected.writeUInt16LE(3, 34); // IFLA_IFNAME
    expected.write('br0\0', 36, 'latin1');
    expected.writeUInt16LE(8, 40);
    expected.writeUInt16LE(4, 42); // IFLA_MTU
    expected.writeUInt32LE(1500, 44);
    expect(buffer.toString('hex')).toBe(expected.toString('hex'));
  });

  it('encodes IFLA_IFALIAS (type 20) NUL-terminated and decodes it into the link alias', () => {
    const { buffer, message } = roundTrip(RTM.NEWLINK, { name: 'br100', alias: 'vmplumb:net:100:/run/vmplumb' });
    const at = buffer.indexOf(Buffer.from('vmplumb:net:100:/run/vmplumb\0'));
    expect(at).toBeGreaterThan(0);
    expect(buffer.readUInt16LE(at - 4)).toBe(4 + 'vmplumb:net:100:/run/vmplumb'.length + 1); // nla_len
    expect(buffer.readUInt16LE(at - 2)).toBe(20); // IFLA_IFALIAS
    expect(native.rtnlAttributeAt(buffer, at - 4)).toBe('IFLA_IFALIAS');
    expect(parseLink(message)).toMatchObject({ name: 'br100', alias: 'vmplumb:net:100:/run/vmplumb' });
    // A link without an alias reports none (the kernel omits the attribute).
    expect(parseLink(roundTrip(RTM.NEWLINK, { name: 'br100' }).message).alias).toBeUndefined();
  });

  it('round-trips a vxlan with every IFLA_VXLAN_* the API sets', () => {
    const data = {
      id: 100,
      group6: 'ff05::100',
      link: 2,
      local6: '2001:db8::1',
      ttl: 5,
      tos: 1,
      learning: true,
      ageing: 300,
      limit: 10,
      portRange: { low: 1000, high: 2000 },
      proxy: true,
      rsc: false,
      l2miss: true,
      l3miss: false,
      port: 4789,
      udpCsum: true,
      udpZeroCsum6Tx: true,
      udpZeroCsum6Rx: false,
      collectMetadata: false,
      label: 0x12345,
      df: 2,
    };
    const { message } = roundTrip(RTM.NEWLINK, { name: 'vxlan100', kind: 'vxlan', master: 3, data });
    expect(message).toMatchObject({ msgType: RTM.NEWLINK, name: 'vxlan100', kind: 'vxlan', master: 3, data });
    const link = parseLink(message);
    expect(link.vxlan).toMatchObject({
      vni: 100,
      group: 'ff05::100',
      local: '2001:db8::1',
      dev: 2,
      port: 4789,
      ttl: 5,
      df: 'inherit',
      label: 0x12345,
      portRange: { low: 1000, high: 2000 },
    });
    expect(link.vxlan?.remote).toBeUndefined();
  });

  it('tells a vxlan remote from a group, IPv4 too', () => {
    const { message } = roundTrip(RTM.NEWLINK, { name: 'vx4', kind: 'vxlan', data: { id: 4, group: '192.0.2.7', local: '192.0.2.1' } });
    expect(parseLink(message).vxlan).toMatchObject({ vni: 4, remote: '192.0.2.7', local: '192.0.2.1' });
    const mc = roundTrip(RTM.NEWLINK, { name: 'vx5', kind: 'vxlan', data: { id: 5, group: '239.1.1.1' } }).message;
    expect(parseLink(mc).vxlan).toMatchObject({ group: '239.1.1.1' });
  });

  it('round-trips bridge options (times in USER_HZ on the wire, seconds in the API)', () => {
    const data = {
      stpState: 1,
      forwardDelay: 400,
      helloTime: 100,
      maxAge: 1200,
      ageingTime: 6000,
      priority: 4096,
      vlanFiltering: true,
      vlanDefaultPvid: 7,
      mcastSnooping: false,
      mcastQuerier: true,
    };
    const { message } = roundTrip(RTM.NEWLINK, { name: 'br1', kind: 'bridge', data });
    expect(message.data).toEqual(data);
    expect(parseLink(message).bridge).toEqual({
      stp: true,
      forwardDelay: 4,
      helloTime: 1,
      maxAge: 12,
      ageingTime: 60,
      priority: 4096,
      vlanFiltering: true,
      vlanDefaultPvid: 7,
      mcastSnooping: false,
      mcastQuerier: true,
    });
  });

  it('nests the veth peer (VETH_INFO_PEER: ifinfomsg + attributes)', () => {
    const buffer = native.rtnlEncode(RTM.NEWLINK, 1, 1, { name: 'a', kind: 'veth', peer: { name: 'b', netnsFd: 9, mtu: 9000 } });
    // The peer's name and fd are inside IFLA_LINKINFO/IFLA_INFO_DATA/VETH_INFO_PEER.
    const peerAt = buffer.indexOf(Buffer.from('b\0'));
    expect(peerAt).toBeGreaterThan(0);
    expect(native.rtnlAttributeAt(buffer, peerAt - 4)).toBe('IFLA_LINKINFO/IFLA_INFO_DATA/VETH_INFO_PEER');
  });

  it('names the attribute at an extended-ack offset', () => {
    const buffer = native.rtnlEncode(RTM.NEWLINK, 1, 1, { name: 'vx', kind: 'vxlan', data: { id: 1, ttl: 5 } });
    expect(native.rtnlAttributeAt(buffer, 32)).toBe('IFLA_IFNAME');
    const ttl = buffer.length - 8; // the last attribute: IFLA_VXLAN_TTL (4 + 1 padded to 8)
    expect(native.rtnlAttributeAt(buffer, ttl)).toBe('IFLA_LINKINFO/IFLA_INFO_DATA/IFLA_VXLAN_TTL');
  });

  it('round-trips addresses with flags above bit 7 (IFA_FLAGS) and lifetimes', () => {
    const { message } = roundTrip(RTM.NEWADDR, {
      family: AF.INET6,
      prefixLength: 64,
      index: 5,
      flags: IFA_F.NODAD | IFA_F.NOPREFIXROUTE,
      scope: 0,
      address: '2a0a:e5c1:111:888::1',
      local: '2a0a:e5c1:111:888::1',
      cacheinfo: { preferred: 100, valid: 200 },
    });
    expect(message).toMatchObject({ family: AF.INET6, prefixLength: 64, index: 5, flags: IFA_F.NODAD | IFA_F.NOPREFIXROUTE });
    expect(parseAddress(message)).toEqual({
      index: 5,
      family: 6,
      address: '2a0a:e5c1:111:888::1',
      prefixLength: 64,
      scope: 'universe',
      flags: { tentative: false, dadfailed: false, nodad: true, permanent: false, deprecated: false, optimistic: false },
      validLifetime: 200,
      preferredLifetime: 100,
    });
    const v4 = roundTrip(RTM.NEWADDR, { family: AF.INET, prefixLength: 24, index: 2, local: '192.0.2.1', address: '192.0.2.1', label: 'eth0:x' }).message;
    expect(parseAddress(v4)).toMatchObject({ family: 4, address: '192.0.2.1', prefixLength: 24, label: 'eth0:x' });
  });

  it('round-trips an FDB entry (AF_BRIDGE, dst, vni, port in network order)', () => {
    const buffer = native.rtnlEncode(RTM.NEWNEIGH, 1, 1, {
      family: AF.BRIDGE,
      index: 4,
      state: NUD.PERMANENT,
      flags: NTF.SELF,
      lladdr: '00:00:00:00:00:00',
      dst: '2001:db8::2',
      vni: 100,
      port: 4789,
    });
    // NDA_PORT is big-endian: 4789 = 0x12b5.
    expect(buffer.includes(Buffer.from([0x12, 0xb5]))).toBe(true);
    const [message] = native.rtnlDecode(buffer);
    expect(parseFdb(message!)).toEqual({
      index: 4,
      mac: '00:00:00:00:00:00',
      dst: '2001:db8::2',
      vni: 100,
      port: 4789,
      self: true,
      flags: ['self'],
      state: 'permanent',
    });
  });

  it('round-trips a route', () => {
    const { message } = roundTrip(RTM.NEWROUTE, {
      family: AF.INET6,
      dstLen: 48,
      tableId: 254,
      protocol: 3,
      scope: 0,
      type: 1,
      dst: '2001:db8:1::',
      gateway: 'fe80::1',
      oif: 3,
      priority: 1024,
    });
    expect(parseRoute(message)).toEqual({
      family: 6,
      destination: '2001:db8:1::/48',
      gateway: 'fe80::1',
      dev: 3,
      metric: 1024,
      table: 254,
      type: 'unicast',
      protocol: 'boot',
      scope: 'universe',
    });
  });

  it('encodes RTM_GETNETCONF byte for byte (netconfmsg padded to 4, NETCONFA_IFINDEX as s32)', () => {
    const buffer = native.rtnlEncode(RTM.GETNETCONF, NLM_F.REQUEST, 3, { family: AF.INET6, index: NETCONFA_IFINDEX.ALL });
    const expected = Buffer.alloc(16 + 4 + 8);
    expected.writeUInt32LE(expected.length, 0);
    expected.writeUInt16LE(RTM.GETNETCONF, 4);
    expected.writeUInt16LE(NLM_F.REQUEST, 6);
    expected.writeUInt32LE(3, 8);
    expected.writeUInt8(AF.INET6, 16); // ncm_family, then 3 bytes of padding
    expected.writeUInt16LE(8, 20); // nla_len
    expected.writeUInt16LE(1, 22); // NETCONFA_IFINDEX
    expected.writeInt32LE(-1, 24); // NETCONFA_IFINDEX_ALL
    expect(buffer.toString('hex')).toBe(expected.toString('hex'));
    // A dump request carries the header alone (the kernel's strict check refuses attributes).
    expect(native.rtnlEncode(RTM.GETNETCONF, NLM_F.REQUEST | NLM_F.DUMP, 3, { family: AF.INET6 })).toHaveLength(20);
  });

  it('decodes RTM_NEWNETCONF with signed values (index -1 is "all")', () => {
    // As the kernel sends it (inet6_netconf_fill_devconf): netconfmsg, then s32 attributes.
    const m = Buffer.alloc(16 + 4 + 8 * 3);
    m.writeUInt32LE(m.length, 0);
    m.writeUInt16LE(RTM.NEWNETCONF, 4);
    m.writeUInt8(AF.INET6, 16);
    const attrs: Array<[number, number]> = [
      [1, -1], // NETCONFA_IFINDEX: all
      [2, 1], // NETCONFA_FORWARDING
      [5, 0], // NETCONFA_PROXY_NEIGH
    ];
    attrs.forEach(([type, value], i) => {
      m.writeUInt16LE(8, 20 + i * 8);
      m.writeUInt16LE(type, 22 + i * 8);
      m.writeInt32LE(value, 24 + i * 8);
    });
    const [message] = native.rtnlDecode(m);
    expect(message).toEqual({ msgType: RTM.NEWNETCONF, family: AF.INET6, index: -1, forwarding: 1, proxyNeigh: 0 });
    expect(native.rtnlAttributeAt(m, 28)).toBe('NETCONFA_FORWARDING');
  });

  it('refuses values of the wrong type instead of sending garbage', () => {
    expect(() => native.rtnlEncode(RTM.NEWLINK, 1, 1, { name: 'x', kind: 'vxlan', data: { group6: 'not-an-address' } })).toThrow(/IFLA_VXLAN_GROUP6/u);
    expect(() => native.rtnlEncode(RTM.NEWLINK, 1, 1, { name: 42 })).toThrow(/IFLA_IFNAME/u);
  });

  it('stops at the end of the buffer when the last message is not padded to 4 bytes', () => {
    // One slab: a 17-byte message (nlmsg_len 17) at 0 and a well-formed RTM_NEWLINK at 20,
    // outside the 17 bytes handed over. NLMSG_NEXT on an unsigned remaining length wraps
    // around (17 - 20) and walked on into the neighbour; the walk must stop at the end.
    const slab = Buffer.alloc(64);
    const second = roundTrip(RTM.NEWLINK, { name: 'x' }).buffer;
    slab.writeUInt32LE(17, 0);
    slab.writeUInt16LE(RTM.NEWLINK, 4);
    second.copy(slab, 20);
    // Positive control: the same two messages with the padding present are both read.
    slab.writeUInt32LE(20, 0);
    expect(native.rtnlDecode(slab.subarray(0, 20 + second.length))).toHaveLength(2);
    slab.writeUInt32LE(17, 0);
    expect(native.rtnlDecode(slab.subarray(0, 17))).toHaveLength(1);
    expect(native.nfnlDecode(slab.subarray(0, 17))).toHaveLength(1);
  });
});
