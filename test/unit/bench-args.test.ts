/**
 * The churn benchmark's one front-end (`vmplumb bench churn`, which `npm run bench` runs):
 * how flags map to runChurn's options, and bad flags refused with one line and exit code 1
 * before anything runs.
 */
import { describe, expect, it } from 'vitest';

import { churnDefaults } from '../../testing/bench/churn.js';
import { churnOptions } from '../../lib/cli/bench.js';
import { main } from '../../lib/cli/program.js';
import { captureOutput } from '../helpers/capture-output.js';

const io = captureOutput();

const run = (...args: string[]): Promise<number> => main(['node', 'vmplumb', 'bench', 'churn', ...args], '0.0.0-test');

describe('bench churn flags', () => {
  it('defaults to the library, the floor and ip -batch', () => {
    const options = churnOptions({ pairs: 100, runs: 1 });
    expect(options).toEqual({ pairs: 100, runs: 1, contenders: ['library', 'floor', 'ip-batch'] });
    const o = churnDefaults(options);
    expect([o.pairs, o.runs, o.floorDelete, o.netnsPrefix]).toEqual([100, 1, 'group', 'vmpbench']);
  });

  it('reads --sequential and --floor-delete', () => {
    expect(churnOptions({ pairs: 1000, runs: 5, sequential: true, floorDelete: 'vx-br' })).toEqual({
      pairs: 1000,
      runs: 5,
      floorDelete: 'vx-br',
      contenders: ['library', 'library-sequential', 'floor', 'ip-batch'],
    });
  });

  it('restricts the contenders with --only', () => {
    expect(churnOptions({ pairs: 1, runs: 1, only: ['floor', 'library'] }).contenders).toEqual(['floor', 'library']);
    expect(() => churnOptions({ pairs: 1, runs: 1, only: ['qemu'] })).toThrow(
      /--only takes a list of library, library-sequential, floor, ip-batch, got "qemu"/u,
    );
  });

  it.each([
    [['--pairs', '0'], /--pairs <n>' argument '0' is invalid\. expected an integer from 1 to 10000/u],
    [['--pairs', '1.5'], /--pairs <n>' argument '1\.5' is invalid/u],
    [['--runs', 'x'], /--runs <n>' argument 'x' is invalid\. expected an integer from 1 to 100/u],
    [['--only', 'qemu'], /--only takes a list of .* got "qemu"/u],
    [['--floor-delete', 'fast'], /--floor-delete <strategy>' argument 'fast' is invalid\. Allowed choices are group, /u],
    [['--bogus'], /unknown option '--bogus'/u],
  ])('refuses %j with exit code 1', async (argv, message) => {
    expect(await run(...argv)).toBe(1);
    expect(io.err).toMatch(message);
    expect(io.err.trim().split('\n')).toHaveLength(1);
  });

  it('refuses bad options given to runChurn directly, naming the field', () => {
    expect(() => churnDefaults({ pairs: 0 })).toThrow(/"pairs"/u);
    expect(() => churnDefaults({ runs: 101 })).toThrow(/"runs"/u);
    expect(() => churnDefaults({ contenders: ['qemu' as never] })).toThrow(/got "qemu"/u);
    expect(() => churnDefaults({ floorDelete: 'fast' as never })).toThrow(/Expected "floorDelete" to be one of group, .* got "fast"/u);
  });
});
