import { describe, expect, it } from 'vitest';
import { NetlinkError } from '../../lib/errors.js';
import { IFF } from '../../lib/netlink/constants.js';
import { toNetlinkError } from '../../lib/netlink/connection.js';
import { isMulticast, linkFlags, parseLink } from '../../lib/netlink/parse.js';

describe('link parsing', () => {
  it("names flags in ip's order, with NO-CARRIER when up without carrier", () => {
    expect(linkFlags(IFF.UP | IFF.BROADCAST | IFF.MULTICAST | IFF.LOWER_UP | IFF.RUNNING)).toEqual(['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP']);
    expect(linkFlags(IFF.UP | IFF.BROADCAST | IFF.MULTICAST)).toEqual(['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP']);
    expect(linkFlags(IFF.LOOPBACK | IFF.UP | IFF.LOWER_UP | IFF.RUNNING)).toEqual(['LOOPBACK', 'UP', 'LOWER_UP']);
  });

  it('shapes a message into a Link', () => {
    const link = parseLink({
      msgType: 16,
      family: 0,
      index: 4,
      flags: IFF.UP | IFF.RUNNING | IFF.LOWER_UP,
      name: 'br0',
      mtu: 1500,
      mac: '02:00:00:00:00:01',
      operstate: 6,
      group: 0,
      kind: 'bridge',
      data: { stpState: 0, forwardDelay: 1500 },
    });
    expect(link).toMatchObject({
      index: 4,
      name: 'br0',
      kind: 'bridge',
      up: true,
      carrier: true,
      operstate: 'up',
      mtu: 1500,
      mac: '02:00:00:00:00:01',
      master: undefined,
      linkGroup: 0,
      group: 0,
    });
    expect(link.bridge).toMatchObject({ stp: false, forwardDelay: 15 });
  });

  it('knows multicast addresses', () => {
    expect(isMulticast('ff05::100')).toBe(true);
    expect(isMulticast('239.1.1.1')).toBe(true);
    expect(isMulticast('2001:db8::1')).toBe(false);
    expect(isMulticast('192.0.2.1')).toBe(false);
  });
});

describe('NetlinkError', () => {
  it("reads like Node's SystemError and names the object", () => {
    const trace = new Error('trace');
    const error = toNetlinkError(
      { errno: -17, code: 'EEXIST', syscall: 'RTM_NEWLINK', description: 'File exists' },
      { operation: 'createVxlan', object: 'vxlan100', trace },
    );
    expect(error).toBeInstanceOf(NetlinkError);
    expect(error.message).toBe('createVxlan vxlan100: EEXIST: File exists');
    expect(error).toMatchObject({ errno: -17, code: 'EEXIST', syscall: 'RTM_NEWLINK', operation: 'createVxlan', object: 'vxlan100' });
    // The stack is the caller's, captured before the asynchronous call.
    expect(error.stack?.split('\n').slice(1).join('\n')).toBe(trace.stack?.split('\n').slice(1).join('\n'));
  });
  it('adds the extended ack', () => {
    const error = toNetlinkError(
      {
        errno: -22,
        code: 'EINVAL',
        syscall: 'RTM_NEWLINK',
        description: 'Invalid argument',
        extack: 'Local interface required for multicast remote destination',
        attribute: 'IFLA_LINKINFO/IFLA_INFO_DATA/IFLA_VXLAN_GROUP6',
      },
      { operation: 'createVxlan', object: 'vx' },
    );
    expect(error.message).toBe('createVxlan vx: EINVAL: Invalid argument (Local interface required for multicast remote destination)');
    expect(error.attribute).toBe('IFLA_LINKINFO/IFLA_INFO_DATA/IFLA_VXLAN_GROUP6');
  });
});
