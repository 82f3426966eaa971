/**
 * The reference scripts' multicast group for a network id (see DESIGN.md, interoperability
 * rule): `ff05::` followed by the decimal digits of the id read as hex, in groups of four from
 * the right. 100 → ff05::100, 12345 → ff05::1:2345, 16777215 → ff05::1677:7215.
 */
import { bytesToIPv6, checkInteger, ipv6ToBytes } from '../validate.js';

/** The default VXLAN multicast group of network `id` (0-16777215, the VNI range). */
export function vxlanGroupForId(id: number): string {
  checkInteger('id', id, 0, 16777215);
  const digits = String(id);
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 4) {
    // Leading zeros inside a group are dropped the way IPv6 text form drops them.
    groups.unshift(digits.slice(Math.max(0, end - 4), end).replace(/^0+(?=.)/u, ''));
  }
  // Canonical text (RFC 5952), so 0 gives 'ff05::' and the result compares equal to `ip`'s.
  return bytesToIPv6(ipv6ToBytes(`ff05::${groups.join(':')}`));
}
