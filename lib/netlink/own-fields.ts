/**
 * Decoded rtnetlink messages read as their own fields only: a polluted Object.prototype
 * (issue 14, class 3) must not supply `master`, `mtu` or any optional field the parsers read,
 * in dumps (lib/netlink/netlink.ts) and in event streams (lib/netlink/events.ts) alike.
 */

/**
 * Whether Object.prototype carries enumerable properties (what `obj[key] = value` through a
 * merge bug leaves). Decoded messages are ordinary objects, and the parsers read optional
 * fields (`master`, `mtu`, …) that a polluted prototype would supply; only then are the
 * messages copied into prototype-less objects, so the common case costs one loop.
 */
export function prototypePolluted(): boolean {
  for (const key in Object.prototype) if (key !== undefined) return true;
  return false;
}

/** A decoded message (and its nested objects) as prototype-less copies of its own fields. */
export function ownFields<T>(value: T): T {
  if (Array.isArray(value)) return value.map(ownFields) as T;
  if (value === null || typeof value !== 'object' || !prototypePolluted()) return value;
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) out[key] = ownFields((value as Record<string, unknown>)[key]);
  return out as T;
}
