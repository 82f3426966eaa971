/**
 * Summary statistics of repeated benchmark runs. Medians, not means: the machine is shared and
 * a run disturbed by someone else's work is an outlier to ignore, not to average in.
 */

/** Samples of one measured quantity over the runs, with the median and the spread. */
export interface Summary {
  /** The middle sample (mean of the two middle ones for an even count). */
  median: number;
  min: number;
  max: number;
  /** Every sample in run order. */
  samples: number[];
}

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, minimum and maximum of `samples` (which must not be empty). */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize() needs at least one sample');
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples: [...samples] };
}

/** The spread of a summary relative to its median, (max - min) / median: 0.05 = ±2.5 %. */
export function relativeSpread(summary: Summary): number {
  return summary.median === 0 ? 0 : (summary.max - summary.min) / summary.median;
}
