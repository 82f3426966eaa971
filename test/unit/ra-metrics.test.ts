/** The advertiser's Prometheus text and the `--metrics-listen` address syntax. */
import { describe, expect, it } from 'vitest';
import { parseMetricsListen } from '../../lib/cli/ra.js';
import { formatMetrics } from '../../lib/ra/metrics.js';
import type { RaInterfaceStats } from '../../lib/ra/types.js';

const stats = (name: string, extra: Partial<RaInterfaceStats> = {}): RaInterfaceStats => ({
  name,
  index: 7,
  state: 'serving',
  advertisementsSent: 5,
  multicastAdvertisementsSent: 3,
  unicastAdvertisementsSent: 2,
  finalAdvertisementsSent: 1,
  solicitationsReceived: 4,
  solicitationsDropped: 1,
  sendErrors: 0,
  ...extra,
});

describe('formatMetrics', () => {
  it('writes every family with HELP and TYPE, one series per interface, RAs split by destination', () => {
    const text = formatMetrics([stats('br100'), stats('br101', { state: 'waiting', multicastAdvertisementsSent: 0 })]);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    // The exposition format: comments, or `name{labels} value`.
    for (const line of lines) expect(line).toMatch(/^(# (HELP|TYPE) vmplumb_ra_\w+ .+|vmplumb_ra_\w+\{[^}]*\} \d+)$/u);
    expect(lines).toContain('# TYPE vmplumb_ra_advertisements_total counter');
    expect(lines).toContain('vmplumb_ra_advertisements_total{interface="br100",destination="multicast"} 3');
    expect(lines).toContain('vmplumb_ra_advertisements_total{interface="br100",destination="unicast"} 2');
    expect(lines).toContain('vmplumb_ra_advertisements_total{interface="br101",destination="multicast"} 0');
    expect(lines).toContain('vmplumb_ra_final_advertisements_total{interface="br100"} 1');
    expect(lines).toContain('vmplumb_ra_solicitations_received_total{interface="br100"} 4');
    expect(lines).toContain('vmplumb_ra_solicitations_dropped_total{interface="br100"} 1');
    expect(lines).toContain('vmplumb_ra_send_errors_total{interface="br100"} 0');
    expect(lines).toContain('# TYPE vmplumb_ra_interface_serving gauge');
    expect(lines).toContain('vmplumb_ra_interface_serving{interface="br100"} 1');
    expect(lines).toContain('vmplumb_ra_interface_serving{interface="br101"} 0');
  });

  it('escapes label values and writes the families even with no interface', () => {
    expect(formatMetrics([stats('a"b\\c')])).toContain('{interface="a\\"b\\\\c"}');
    expect(formatMetrics([])).toMatch(/^# HELP vmplumb_ra_advertisements_total /u);
    expect(
      formatMetrics([])
        .split('\n')
        .filter((l) => l && !l.startsWith('#')),
    ).toEqual([]);
  });
});

describe('parseMetricsListen', () => {
  it.each([
    [':9430', { host: undefined, port: 9430 }],
    ['127.0.0.1:9430', { host: '127.0.0.1', port: 9430 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
  ])('%s', (value, expected) => expect(parseMetricsListen(value)).toEqual(expected));

  it.each(['9430', '::1:9430', '127.0.0.1:65536', '127.0.0.1:', 'host:port'])('refuses %s, naming the flag and the value', (value) => {
    expect(() => parseMetricsListen(value)).toThrow(`--metrics-listen: expected [address]:port (like :9430, 127.0.0.1:9430 or [::1]:9430), got "${value}"`);
  });
});
