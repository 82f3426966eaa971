import { describe, expect, it } from 'vitest';

import { parseChurnArgs } from '../../bench/churn-args.js';
import { churnDefaults } from '../../lib/bench/churn.js';

describe('npm run bench arguments', () => {
  it('defaults to the library, the floor and ip -batch, as a table', () => {
    const args = parseChurnArgs([]);
    expect(args).toEqual({ options: { contenders: ['library', 'floor', 'ip-batch'] }, json: false, help: false });
    const o = churnDefaults(args.options);
    expect([o.pairs, o.runs, o.floorDelete, o.netnsPrefix]).toEqual([100, 1, 'group', 'vmpbench']);
  });

  it('reads --pairs, --runs, --json, --sequential and --floor-delete', () => {
    const args = parseChurnArgs(['--pairs', '1000', '--runs', '5', '--json', '--sequential', '--floor-delete', 'vx-br']);
    expect(args.json).toBe(true);
    expect(args.options).toEqual({
      pairs: 1000, runs: 5, floorDelete: 'vx-br', contenders: ['library', 'library-sequential', 'floor', 'ip-batch'],
    });
  });

  it('restricts the contenders with --only', () => {
    expect(parseChurnArgs(['--only', 'floor, library']).options.contenders).toEqual(['floor', 'library']);
  });

  it.each([
    [['--pairs', '0'], /--pairs takes an integer from 1 to 10000, got "0"/u],
    [['--pairs', '1.5'], /--pairs .* got "1.5"/u],
    [['--runs', 'x'], /--runs takes an integer from 1 to 100, got "x"/u],
    [['--only', 'qemu'], /--only takes a list of library, library-sequential, floor, ip-batch, got "qemu"/u],
    [['--floor-delete', 'fast'], /--floor-delete takes one of group, .* got "fast"/u],
    [['--bogus'], /Unknown option '--bogus'/u],
    [['stray'], /Unexpected argument 'stray'/u],
  ])('refuses %j', (argv, message) => {
    expect(() => parseChurnArgs(argv)).toThrow(message);
  });

  it('refuses bad options given to runChurn directly, naming the field', () => {
    expect(() => churnDefaults({ pairs: 0 })).toThrow(/"pairs"/u);
    expect(() => churnDefaults({ runs: 101 })).toThrow(/"runs"/u);
    expect(() => churnDefaults({ contenders: ['qemu' as never] })).toThrow(/got "qemu"/u);
    expect(() => churnDefaults({ floorDelete: 'fast' as never })).toThrow(/Expected "floorDelete" to be one of group, .* got "fast"/u);
  });
});
