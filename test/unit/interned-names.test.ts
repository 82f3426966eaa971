/**
 * The names a process keeps once per network are made once and shared (lib/netns.ts,
 * lib/state/run-dir.ts, lib/netlink/events.ts): sharing must never hand one call another's
 * answer.
 */
import { describe, expect, it } from 'vitest';

import { addressKey } from '../../lib/netlink/events.js';
import { resolveNetns } from '../../lib/netns.js';
import { resolveRunDir } from '../../lib/state/run-dir.js';

describe('names shared between networks', () => {
  it('resolveNetns: each name its own path, the same string for the same name', () => {
    const a = resolveNetns('netns', 'alpha');
    expect(a).toBe('/run/netns/alpha');
    expect(resolveNetns('netns', 'beta')).toBe('/run/netns/beta');
    expect(resolveNetns('netns', 'alpha')).toBe('/run/netns/alpha');
    expect(resolveNetns('netns', '/proc/1/ns/net')).toBe('/proc/1/ns/net');
    expect(resolveNetns('netns', 'alpha')).toBe(a);
  });

  it('resolveRunDir: each option its own folder, normalized', () => {
    expect(resolveRunDir('/run//x')).toBe('/run/x');
    expect(resolveRunDir('/run/y/../z')).toBe('/run/z');
    expect(resolveRunDir('/run/x')).toBe('/run/x');
  });

  it('addressKey: link, address and length all count', () => {
    const key = addressKey({ index: 12, address: 'fe80::1', prefixLength: 64 });
    expect(key).toBe(addressKey({ index: 12, address: 'fe80::1', prefixLength: 64 }));
    expect(
      new Set([
        key,
        addressKey({ index: 13, address: 'fe80::1', prefixLength: 64 }),
        addressKey({ index: 12, address: 'fe80::1', prefixLength: 128 }),
        addressKey({ index: 12, address: 'fe80::2', prefixLength: 64 }),
      ]).size,
    ).toBe(4);
    // Index 1 with 2fe80… cannot meet index 12 with fe80…: a separator sits between the fields.
    expect(addressKey({ index: 1, address: '2fe80::1', prefixLength: 64 })).not.toBe(addressKey({ index: 12, address: 'fe80::1', prefixLength: 64 }));
  });
});
