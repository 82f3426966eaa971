/**
 * The options of the environment-driven benchmarks (`npm run bench:qemu`, `bench:ra`,
 * `bench:ra-flood`, `bench:bulk-delete`): every `BENCH_*` variable is read and checked here, so
 * a typo'd value fails with its name instead of becoming NaN runs. (`npm run bench`, the churn
 * benchmark, is `vmplumb bench churn` and takes flags: lib/cli.)
 */

/** `process.env[name]` as an integer from 1 to `max`, or `fallback` when unset. */
export function benchInteger(name: string, fallback: number, max = 1_000_000): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/u.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new RangeError(`${name} takes an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** Whether `process.env[name]` is set to something other than '' or '0'. */
export function benchFlag(name: string): boolean {
  const text = process.env[name];
  return text !== undefined && text !== '' && text !== '0';
}
