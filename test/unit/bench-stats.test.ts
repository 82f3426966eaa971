import { describe, expect, it } from 'vitest';

import { median, relativeSpread, summarize } from '../../testing/bench/stats.js';

describe('bench statistics', () => {
  it('takes the middle sample of an odd count, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([42])).toBe(42);
  });

  it('averages the two middle samples of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('is NaN for no samples, and summarize refuses them', () => {
    expect(median([])).toBeNaN();
    expect(() => summarize([])).toThrow(RangeError);
  });

  it('summarizes without reordering the samples it keeps', () => {
    const samples = [1700, 1650, 1900];
    const s = summarize(samples);
    expect(s).toEqual({ median: 1700, min: 1650, max: 1900, samples: [1700, 1650, 1900] });
    samples[0] = 0;
    expect(s.samples[0]).toBe(1700);
  });

  it('relates the spread to the median', () => {
    expect(relativeSpread(summarize([90, 100, 110]))).toBeCloseTo(0.2);
    expect(relativeSpread(summarize([0, 0]))).toBe(0);
  });
});

describe('event-loop delays', () => {
  it('combines two watches field by field', async () => {
    const { worstDelay } = await import('../../testing/bench/event-loop.js');
    expect(worstDelay({ maxMs: 12, p99Ms: 1 }, { maxMs: 3, p99Ms: 2.5 })).toEqual({ maxMs: 12, p99Ms: 2.5 });
  });
});
