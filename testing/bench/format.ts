/**
 * The churn report as text for people: µs per pair to create, ms to delete (total and per
 * pair), the library/floor ratios against the targets, the event loop's largest delay.
 */
import type { ChurnReport, Contender, ContenderReport } from './churn.js';
import { TARGETS } from './churn.js';
import type { Summary } from './stats.js';

const LABELS: Record<Contender, string> = {
  library: 'library (pipelined)',
  'library-sequential': 'library (sequential)',
  floor: 'floor',
  'ip-batch': 'ip -batch',
};

/** `median [min–max]` of `summary` scaled by `scale`, with `digits` decimals. */
export function formatSummary(summary: Summary, scale = 1, digits = 0): string {
  const f = (v: number) => (v * scale).toFixed(digits);
  return summary.samples.length === 1 ? f(summary.median) : `${f(summary.median)} [${f(summary.min)}–${f(summary.max)}]`;
}

/** Each target as met or missed (undefined where the report lacks the figures). */
export function checkTargets(report: ChurnReport): { create?: boolean; delete?: boolean; eventLoop?: boolean } {
  const loop = report.contenders.library?.eventLoopMaxDelayMs;
  return {
    create: report.ratios.create === undefined ? undefined : report.ratios.create <= TARGETS.createRatio,
    delete: report.ratios.delete === undefined ? undefined : report.ratios.delete <= TARGETS.deleteRatio,
    // "Never delayed": the worst run counts, not the median.
    eventLoop: loop === undefined ? undefined : loop.max <= TARGETS.eventLoopMaxDelayMs,
  };
}

function row(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
    .join('  ')
    .trimEnd();
}

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED';
}

/** The report as a table (plain text, ends with a newline). */
export function formatChurnReport(report: ChurnReport): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(
    `link churn: ${report.pairs} pairs × ${report.runs} run${report.runs === 1 ? '' : 's'} (medians [min–max]); ` +
      `kernel ${m.kernel}, ${m.cpus} CPUs, load ${m.loadStart[0]!.toFixed(2)} → ${m.loadEnd[0]!.toFixed(2)}`,
  );
  const header = ['', 'create µs/pair', 'delete ms', 'delete ms/pair', 'event loop max ms'];
  // The event loop column of the floor and ip -batch is the idle baseline (see below).
  const rows: string[][] = [];
  for (const name of ['library', 'library-sequential', 'floor', 'ip-batch'] as Contender[]) {
    const c: ContenderReport | undefined = report.contenders[name];
    if (!c) continue;
    const label = name === 'floor' ? `floor (delete: ${report.floorDelete})` : LABELS[name];
    rows.push([
      label,
      formatSummary(c.createUs, 1 / report.pairs),
      formatSummary(c.deleteUs, 1 / 1000),
      formatSummary(c.deleteUs, 1 / 1000 / report.pairs, 1),
      c.eventLoopMaxDelayMs ? formatSummary(c.eventLoopMaxDelayMs, 1, 1) : '',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  lines.push(row(header, widths), ...rows.map((r) => row(r, widths)));
  for (const [name, why] of Object.entries(report.skipped)) lines.push(`${LABELS[name as Contender]}: skipped (${why})`);
  const t = checkTargets(report);
  if (report.ratios.create !== undefined && report.ratios.delete !== undefined) {
    lines.push(
      `library/floor: create ${report.ratios.create.toFixed(2)}× (target ≤ ${TARGETS.createRatio}×: ${verdict(t.create)}), ` +
        `delete ${report.ratios.delete.toFixed(2)}× (target ≤ ${TARGETS.deleteRatio}×: ${verdict(t.delete)})`,
    );
    const { createPerRun, deletePerRun } = report.ratios;
    if (createPerRun && deletePerRun && createPerRun.length > 1) {
      const list = (r: number[]) => r.map((x) => x.toFixed(2)).join(' ');
      lines.push(`library/floor run by run: create ${list(createPerRun)}; delete ${list(deletePerRun)}`);
    }
  }
  const loop = report.contenders.library?.eventLoopMaxDelayMs;
  if (loop) {
    // While the floor or ip -batch runs, this process only waits: its loop delays are the
    // machine's noise (CPU contention), the baseline to read the library's figure against.
    const idle = [report.contenders.floor, report.contenders['ip-batch']].flatMap((c) => c?.eventLoopMaxDelayMs?.samples ?? []);
    const baseline = idle.length > 0 ? `; idle baseline (while the other contenders ran) ${Math.max(...idle).toFixed(1)} ms` : '';
    const p99 = report.contenders.library?.eventLoopP99DelayMs;
    const p99Text = p99 ? `, 99th percentile ${formatSummary(p99, 1, 1)} ms` : '';
    lines.push(
      `event loop: largest delay ${loop.max.toFixed(1)} ms over all library runs (target ≤ ${TARGETS.eventLoopMaxDelayMs} ms: ${verdict(t.eventLoop)})${p99Text}${baseline}`,
    );
    const sentinel = report.contenders.library?.sentinelMaxDelayMs;
    if (sentinel)
      lines.push(
        `event loop: an idle sentinel process saw up to ${sentinel.max.toFixed(1)} ms in the same windows (per run ${formatSummary(sentinel, 1, 1)} ms)`,
      );
  }
  return `${lines.join('\n')}\n`;
}
