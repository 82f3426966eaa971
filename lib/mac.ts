/**
 * MAC addresses for VMs and the IPv6 addresses SLAAC derives from them.
 *
 * `macForVm` gives every VM id a stable, locally administered unicast MAC in the 02:00:… space
 * the reference setup uses (IEEE 802: bit 1 of the first octet = locally administered, bit 0
 * = group). `eui64Address` is the address a guest configures by SLAAC from a /64 prefix:
 * RFC 4862 §5.5.3 with the modified EUI-64 interface identifier of RFC 4291 §2.5.1 and
 * Appendix A (flip the universal/local bit, insert ff:fe in the middle).
 */
import { createHash } from 'node:crypto';

import { bytesToIPv6, checkPrefixed, checkUnicastMac, invalidType, invalidValue, ipv6ToBytes } from './validate.js';

/**
 * A deterministic, locally administered unicast MAC for a VM id: `02:00:` followed by four
 * bytes. Integer ids from 0 to 2^32-1 map one to one (id 1 → 02:00:00:00:00:01); string ids
 * (a name, a UUID) are hashed (SHA-256, first four bytes), so they are stable but may collide.
 */
export function macForVm(id: number | string): string {
  let tail: Buffer;
  if (typeof id === 'number') {
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw invalidValue('id', 'an integer from 0 to 4294967295 or a non-empty string', id);
    }
    tail = Buffer.alloc(4);
    tail.writeUInt32BE(id);
  } else if (typeof id === 'string' && id.length > 0) {
    tail = createHash('sha256').update(id).digest().subarray(0, 4);
  } else {
    throw invalidType('id', 'an integer from 0 to 4294967295 or a non-empty string', id);
  }
  return ['02', '00', ...[...tail].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * The address SLAAC gives an interface with MAC `mac` in the /64 `prefix`:
 * eui64Address('2a0a:e5c1:111:888::/64', '02:00:f0:a9:c4:4e') === '2a0a:e5c1:111:888:0:f0ff:fea9:c44e'.
 *
 * @throws ERR_INVALID_ARG_VALUE when the prefix is not an IPv6 /64 (SLAAC needs exactly 64
 *   bits of interface identifier on Ethernet, RFC 4862 §5.5.3 d) or the MAC is not unicast.
 */
export function eui64Address(prefix: string, mac: string): string {
  const p = checkPrefixed('prefix', prefix);
  if (p.family !== 6 || p.prefixLength !== 64) throw invalidValue('prefix', 'an IPv6 /64 prefix', prefix);
  const m = checkUnicastMac('mac', mac)
    .split(':')
    .map((h) => parseInt(h, 16));
  const bytes = ipv6ToBytes(p.address);
  const iid = [(m[0] ?? 0) ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]];
  iid.forEach((b, i) => {
    bytes[8 + i] = b ?? 0;
  });
  return bytesToIPv6(bytes);
}
