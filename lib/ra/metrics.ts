/**
 * The router advertiser's counters in the Prometheus text exposition format (version 0.0.4),
 * as CoreRAD exposes its own: one series per interface, RAs split by destination (multicast
 * to ff02::1 or unicast to one host). Served by `vmplumb ra --metrics-listen`.
 */
import type { RaInterfaceStats } from './types.js';

/** The Content-Type of what formatMetrics returns. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A label value with `\`, `"` and newlines escaped (the exposition format's rule). */
function label(value: string): string {
  return value.replace(/\\/gu, '\\\\').replace(/"/gu, '\\"').replace(/\n/gu, '\\n');
}

interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  samples: (s: RaInterfaceStats) => Array<[labels: string, value: number]>;
}

const FAMILIES: Family[] = [
  {
    name: 'vmplumb_ra_advertisements_total',
    type: 'counter',
    help: 'Router advertisement messages sent (a split RA counts once per message), by destination.',
    samples: (s) => [
      ['destination="multicast"', s.multicastAdvertisementsSent],
      ['destination="unicast"', s.unicastAdvertisementsSent],
    ],
  },
  {
    name: 'vmplumb_ra_final_advertisements_total',
    type: 'counter',
    help: 'Final router advertisements (router lifetime 0, RFC 4861 §6.2.5) sent.',
    samples: (s) => [['', s.finalAdvertisementsSent]],
  },
  {
    name: 'vmplumb_ra_solicitations_received_total',
    type: 'counter',
    help: 'Router solicitations received, valid or not.',
    samples: (s) => [['', s.solicitationsReceived]],
  },
  {
    name: 'vmplumb_ra_solicitations_dropped_total',
    type: 'counter',
    help: 'Router solicitations dropped as invalid (RFC 4861 §6.1.1).',
    samples: (s) => [['', s.solicitationsDropped]],
  },
  {
    name: 'vmplumb_ra_send_errors_total',
    type: 'counter',
    help: 'Router advertisements the kernel refused to send.',
    samples: (s) => [['', s.sendErrors]],
  },
  {
    name: 'vmplumb_ra_interface_serving',
    type: 'gauge',
    help: '1 while the interface is advertised on, 0 while waiting for it or stopped.',
    samples: (s) => [['', s.state === 'serving' ? 1 : 0]],
  },
];

/** Formats per-interface stats as Prometheus text (every family, even with no interface). */
export function formatMetrics(stats: readonly RaInterfaceStats[]): string {
  const lines: string[] = [];
  for (const family of FAMILIES) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const s of stats) {
      for (const [extra, value] of family.samples(s)) {
        const labels = [`interface="${label(s.name)}"`, extra].filter(Boolean).join(',');
        lines.push(`${family.name}{${labels}} ${value}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
