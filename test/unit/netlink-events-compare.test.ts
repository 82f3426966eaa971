/**
 * How an event stream decides, after a re-dump, that a link or address changed (sameValue in
 * lib/netlink/events.ts): field by field, nested objects and arrays included, a field set to
 * undefined counting as absent, as the JSON comparison it replaced.
 */
import { describe, expect, it } from 'vitest';

import { sameValue } from '../../lib/netlink/events.js';

const link = { index: 7, name: 'br7', kind: 'bridge', up: true, flags: ['BROADCAST', 'UP'], bridge: { stp: false, priority: 32768 } };

describe('sameValue', () => {
  it('equal when every field is, in any order', () => {
    expect(sameValue(link, JSON.parse(JSON.stringify(link)))).toBe(true);
    expect(sameValue({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameValue({ a: 1, master: undefined }, { a: 1 })).toBe(true);
  });

  it('different when any field differs, is missing or added, nested too', () => {
    expect(sameValue(link, { ...link, up: false })).toBe(false);
    expect(sameValue(link, { ...link, master: 3 })).toBe(false);
    expect(sameValue({ ...link, master: 3 }, link)).toBe(false);
    expect(sameValue(link, { ...link, bridge: { stp: false, priority: 4096 } })).toBe(false);
    expect(sameValue(link, { ...link, flags: ['BROADCAST'] })).toBe(false);
    expect(sameValue(link, { ...link, flags: ['BROADCAST', 'UP', 'LOWER_UP'] })).toBe(false);
    expect(sameValue({ a: [] }, { a: {} })).toBe(false);
    expect(sameValue({ a: null }, { a: {} })).toBe(false);
    expect(sameValue({ a: 1 }, { a: '1' })).toBe(false);
  });
});
