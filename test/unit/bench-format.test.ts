import { describe, expect, it } from 'vitest';

import type { ChurnReport } from '../../testing/bench/churn.js';
import { checkTargets, formatChurnReport, formatSummary } from '../../testing/bench/format.js';
import { ipBatchCreateCommands, ipBatchDeleteCommands } from '../../testing/bench/ip-batch.js';
import { summarize } from '../../testing/bench/stats.js';

function report(overrides: Partial<ChurnReport> = {}): ChurnReport {
  return {
    pairs: 100,
    runs: 3,
    floorDelete: 'group',
    machine: { kernel: '6.18.44', cpus: 2, loadStart: [1.5, 1, 1], loadEnd: [2.25, 1, 1] },
    contenders: {
      library: {
        createUs: summarize([46000, 45000, 48000]),
        deleteUs: summarize([1750000, 1700000, 1800000]),
        eventLoopMaxDelayMs: summarize([3.1, 2.5, 4.2]),
        eventLoopP99DelayMs: summarize([1, 1.2, 2]),
        sentinelMaxDelayMs: summarize([2, 9.5, 3]),
      },
      floor: {
        createUs: summarize([42000, 41000, 43000]),
        deleteUs: summarize([1700000, 1690000, 1710000]),
        maxSendUs: summarize([1, 2, 3]),
        eventLoopMaxDelayMs: summarize([1.5, 6.25, 2]),
      },
      'ip-batch': { createUs: summarize([54000]), deleteUs: summarize([5500000]) },
    },
    skipped: {},
    ratios: { create: 46000 / 42000, delete: 1750000 / 1700000, createPerRun: [46 / 42, 1.1, 1.125], deletePerRun: [1.02, 1.0, 1.05] },
    ...overrides,
  };
}

describe('churn report', () => {
  it('formats a median with its range, or alone for one sample', () => {
    expect(formatSummary(summarize([46000, 45000, 48000]), 1 / 100)).toBe('460 [450–480]');
    expect(formatSummary(summarize([1750000]), 1 / 1000 / 100, 1)).toBe('17.5');
  });

  it('prints per-pair creation, total and per-pair deletion, ratios and the event loop', () => {
    const text = formatChurnReport(report());
    expect(text).toContain('link churn: 100 pairs × 3 runs (medians [min–max]); kernel 6.18.44, 2 CPUs, load 1.50 → 2.25');
    expect(text).toMatch(/library \(pipelined\) +460 \[450–480\] +1750 \[1700–1800\] +17\.5 \[17\.0–18\.0\] +3\.1 \[2\.5–4\.2\]/u);
    expect(text).toMatch(/floor \(delete: group\) +420 \[410–430\] +1700 \[1690–1710\] +17\.0 \[16\.9–17\.1\] +2\.0 \[1\.5–6\.3\]\n/u);
    expect(text).toMatch(/ip -batch +540 +5500 +55\.0\n/u);
    expect(text).toContain(
      'library/floor: create 1.10× (target ≤ 1.2×: met), delete 1.03× (target ≤ 1.1×: met)\n' +
        'library/floor run by run: create 1.10 1.10 1.13; delete 1.02 1.00 1.05\n',
    );
    // The worst run, not the median, decides "never delayed more than 20 ms".
    expect(text).toContain(
      'event loop: largest delay 4.2 ms over all library runs (target ≤ 20 ms: met), 99th percentile 1.2 [1.0–2.0] ms; idle baseline (while the other contenders ran) 6.3 ms\n' +
        'event loop: an idle sentinel process saw up to 9.5 ms in the same windows (per run 3.0 [2.0–9.5] ms)\n',
    );
  });

  it('says which targets are missed', () => {
    const r = report({ ratios: { create: 1.3, delete: 1.2 } });
    r.contenders.library!.eventLoopMaxDelayMs = summarize([5, 25]);
    expect(checkTargets(r)).toEqual({ create: false, delete: false, eventLoop: false });
    expect(formatChurnReport(r)).toContain('create 1.30× (target ≤ 1.2×: MISSED), delete 1.20× (target ≤ 1.1×: MISSED)');
  });

  it('names skipped contenders and leaves the ratios out without a floor', () => {
    const r = report({ skipped: { floor: 'no compiler' }, ratios: {} });
    delete r.contenders.floor;
    const text = formatChurnReport(r);
    expect(text).toContain('floor: skipped (no compiler)');
    expect(text).not.toContain('library/floor');
    expect(checkTargets(r)).toEqual({ create: undefined, delete: undefined, eventLoop: true });
  });
});

describe('ip -batch peer', () => {
  it('uses the reference commands with the reference group for each vni', () => {
    expect(ipBatchCreateCommands(2).split('\n')).toEqual([
      'link add br1 type bridge',
      'link set br1 up',
      'link add vx1 type vxlan id 1 dstport 4789 group ff05::1 dev eth0 ttl 5',
      'link set vx1 master br1 up',
      'link add br2 type bridge',
      'link set br2 up',
      'link add vx2 type vxlan id 2 dstport 4789 group ff05::2 dev eth0 ttl 5',
      'link set vx2 master br2 up',
      '',
    ]);
    expect(ipBatchCreateCommands(12345)).toContain('link add vx12345 type vxlan id 12345 dstport 4789 group ff05::1:2345 dev eth0 ttl 5\n');
  });

  it('deletes each vxlan before its bridge', () => {
    expect(ipBatchDeleteCommands(2)).toBe('link del vx1\nlink del br1\nlink del vx2\nlink del br2\n');
  });
});
