/**
 * The reference scripts' multicast group for a network id (docs/ARCHITECTURE.md,
 * "Interoperability"): `ff05::` followed by the decimal digits of the id read as hex, in
 * groups of four from the right. 100 → ff05::100, 12345 → ff05::1:2345, 16777215 → ff05::1677:7215.
 */
import { checkInteger } from '../validate.js';

/** The default VXLAN multicast group of network `id` (0-16777215, the VNI range). */
export function vxlanGroupForId(id: number): string {
  checkInteger('id', id, 0, 16777215);
  // At most 8 decimal digits: two groups of four. Both are written as numbers, so leading
  // zeros go the way IPv6 text drops them (10000 → 1:0). The result is already canonical
  // (RFC 5952, the form `ip` prints): the zeros between ff05 and the id are the longest run
  // and become '::'; a zero low group after a non-zero high one is a single zero, never
  // shortened. Only 0 itself is all zeros after ff05: 'ff05::'.
  if (id === 0) return 'ff05::';
  const high = Math.floor(id / 10000);
  const low = id % 10000;
  return high === 0 ? `ff05::${low}` : `ff05::${high}:${low}`;
}
