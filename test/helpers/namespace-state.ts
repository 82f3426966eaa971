/**
 * What the kernel holds in a namespace, as `ip` and `bridge` print it: links (`ip -d link`),
 * addresses, the bridge FDB and routes of every table. Two snapshots are equal when a call
 * changed nothing the kernel shows; the fields that move on their own (lifetimes counting
 * down, statistics, route cache ages) are left out.
 */
import { runAsync, type TestNetns } from './netns.js';

/** Keys whose values change without anyone acting (timers, lifetimes, counters). */
const VOLATILE = /life_time|expires|^used$|^updated$|^stats|_timer$|^gc_timer$|^ifi_change$/u;

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (!VOLATILE.test(key)) out[key] = strip(v);
  return out;
}

/** The namespace's links, addresses, FDB and routes, as the kernel reports them. */
export interface NamespaceState {
  links: unknown;
  addresses: unknown;
  fdb: unknown;
  routes: unknown;
}

/** Reads the namespace's state with `ip -j -d link`, `ip -j addr`, `bridge -j fdb`, `ip -j route`. */
export function namespaceState(ns: TestNetns): NamespaceState {
  return strip({
    links: ns.ipJson('-d', 'link', 'show'),
    addresses: ns.ipJson('addr', 'show'),
    fdb: ns.bridgeJson('fdb', 'show'),
    routes: [...ns.ipJson('-4', 'route', 'show', 'table', 'all'), ...ns.ipJson('-6', 'route', 'show', 'table', 'all')],
  }) as NamespaceState;
}

/** namespaceState without blocking the event loop: the four commands run in parallel. */
export async function namespaceStateAsync(ns: TestNetns): Promise<NamespaceState> {
  const json = async (cmd: string, ...args: string[]): Promise<unknown[]> => {
    const out = await runAsync(cmd, ['-n', ns.name, '-j', ...args]);
    return out.trim() ? (JSON.parse(out) as unknown[]) : [];
  };
  const [links, addresses, fdb, routes4, routes6] = await Promise.all([
    json('ip', '-d', 'link', 'show'),
    json('ip', 'addr', 'show'),
    json('bridge', 'fdb', 'show'),
    json('ip', '-4', 'route', 'show', 'table', 'all'),
    json('ip', '-6', 'route', 'show', 'table', 'all'),
  ]);
  return strip({ links, addresses, fdb, routes: [...routes4, ...routes6] }) as NamespaceState;
}
