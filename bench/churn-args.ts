/**
 * Command-line arguments of `npm run bench` (bench/churn.ts), parsed with util.parseArgs into
 * {@link ChurnOptions}. Pure: no side effects, so it is unit-tested.
 */
import { parseArgs } from 'node:util';

import type { ChurnOptions, Contender } from '../lib/bench/churn.js';
import { FLOOR_DELETES, type FloorDelete } from '../lib/bench/floor.js';

/** What the command line asks for. */
export interface ChurnArgs {
  options: ChurnOptions;
  json: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--pairs N] [--runs R] [--json] [--sequential]
                        [--only library,floor,ip-batch,library-sequential] [--floor-delete STRATEGY]
  --pairs N          bridge+vxlan pairs per run (default 100)
  --runs R           repetitions; medians are reported (default 1)
  --json             print the report as JSON on stdout (progress still goes to stderr)
  --sequential       also measure the library awaiting each create in turn
  --only LIST        measure only these contenders (comma-separated)
  --floor-delete S   the floor's deletion: ${FLOOR_DELETES.join(', ')} (default group)
`;

function positiveInteger(flag: string, text: string, max: number): number {
  if (!/^\d+$/u.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new RangeError(`${flag} takes an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** Parses `argv` (without node and the script); throws with a message naming the flag. */
export function parseChurnArgs(argv: readonly string[]): ChurnArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      pairs: { type: 'string' },
      runs: { type: 'string' },
      json: { type: 'boolean', default: false },
      sequential: { type: 'boolean', default: false },
      only: { type: 'string' },
      'floor-delete': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const options: ChurnOptions = {};
  if (values.pairs !== undefined) options.pairs = positiveInteger('--pairs', values.pairs, 10000);
  if (values.runs !== undefined) options.runs = positiveInteger('--runs', values.runs, 100);
  let contenders: Contender[] = ['library', 'floor', 'ip-batch'];
  if (values.only !== undefined) {
    const known: Contender[] = ['library', 'library-sequential', 'floor', 'ip-batch'];
    contenders = values.only.split(',').map((s) => s.trim()).filter(Boolean) as Contender[];
    const bad = contenders.find((c) => !known.includes(c));
    if (bad !== undefined || contenders.length === 0) {
      throw new RangeError(`--only takes a list of ${known.join(', ')}, got ${JSON.stringify(values.only)}`);
    }
  }
  if (values.sequential && !contenders.includes('library-sequential')) contenders.splice(1, 0, 'library-sequential');
  options.contenders = contenders;
  const floorDelete = values['floor-delete'];
  if (floorDelete !== undefined) {
    if (!FLOOR_DELETES.includes(floorDelete as FloorDelete)) {
      throw new RangeError(`--floor-delete takes one of ${FLOOR_DELETES.join(', ')}, got ${JSON.stringify(floorDelete)}`);
    }
    options.floorDelete = floorDelete as FloorDelete;
  }
  return { options, json: values.json, help: values.help };
}
