/**
 * `vmplumb bench churn` — and `npm run bench`, which runs this same command: the one front-end
 * and the one argument parser of the link-churn benchmark (testing/bench: the library against
 * `ip -batch` with the reference commands and the kernel floor, each in a fresh namespace).
 * Progress on stderr, the report on stdout (a table, or JSON). Ctrl-C stops after the running
 * step and removes the namespaces (exit 130); a second Ctrl-C removes them at once.
 */
import { Option, type Command } from 'commander';

import type { ChurnOptions, Contender } from '../../testing/bench/churn.js';
import { CONTENDERS } from '../../testing/bench/churn.js';
import { FLOOR_DELETES, type FloorDelete } from '../../testing/bench/floor.js';
import { CliError, interrupted, intOption, listOption, note, printJson } from './common.js';

/** The flags of `bench churn`, as commander parses them. */
export interface ChurnCliOptions {
  pairs: number;
  runs: number;
  only?: string[];
  /** Deprecated spelling of `only` (vmplumb 0.1's `bench churn`), still accepted. */
  contenders?: string[];
  sequential?: boolean;
  floorDelete?: string;
  json?: boolean;
}

/**
 * Maps the flags to runChurn's options: the library, the floor and `ip -batch` by default,
 * `--only` to choose, `--sequential` to add the library awaiting each create in turn.
 */
export function churnOptions(flags: ChurnCliOptions): ChurnOptions {
  let contenders: Contender[] = ['library', 'floor', 'ip-batch'];
  const only = flags.only ?? flags.contenders;
  if (only !== undefined) {
    const bad = only.find((c) => !CONTENDERS.includes(c as Contender));
    if (bad !== undefined || only.length === 0) {
      throw new CliError(`--only takes a list of ${CONTENDERS.join(', ')}, got ${JSON.stringify(only.join(','))}`);
    }
    contenders = only as Contender[];
  }
  if (flags.sequential && !contenders.includes('library-sequential')) contenders.splice(1, 0, 'library-sequential');
  return {
    pairs: flags.pairs,
    runs: flags.runs,
    contenders,
    ...(flags.floorDelete === undefined ? {} : { floorDelete: flags.floorDelete as FloorDelete }),
  };
}

/** Registers `bench` and `bench churn`. */
export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks');
  bench
    .command('churn')
    .description('create and delete N bridge+vxlan pairs: the library against ip -batch and the kernel floor')
    .option('--pairs <n>', 'bridge+vxlan pairs per run', intOption(1, 10000), 100)
    .option('--runs <n>', 'repetitions (medians are reported)', intOption(1, 100), 1)
    .option('--only <contenders>', `measure only these, of ${CONTENDERS.join(', ')} (comma-separated)`, listOption)
    .addOption(new Option('--contenders <names>', 'deprecated: --only').argParser(listOption).hideHelp())
    .option('--sequential', 'also measure the library awaiting each create in turn')
    .addOption(new Option('--floor-delete <strategy>', "the floor's deletion strategy (default group)").choices(FLOOR_DELETES))
    .option('--json', 'print the report as JSON on stdout (progress still goes to stderr)')
    .action(async (flags: ChurnCliOptions) => {
      const options = churnOptions(flags);
      if (typeof process.getuid === 'function' && process.getuid() !== 0) {
        throw new CliError('the benchmark makes network namespaces and links: run it as root');
      }
      const { formatChurnReport, liveNamespaces, runChurn } = await import('../../testing/bench/index.js');
      const { execFileSync } = await import('node:child_process');
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals): void => {
        if (controller.signal.aborted) {
          // Forced: remove the namespaces now (their links go with them), then leave.
          for (const ns of liveNamespaces()) ns.destroySync((cmd, argv) => execFileSync(cmd, argv, { stdio: 'ignore' }));
          process.exit(130);
        }
        note(`${signal}: stopping after the current step and removing the namespaces (again to force)`);
        controller.abort(interrupted(signal));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const report = await runChurn({ ...options, signal: controller.signal, onProgress: (line) => note(line) });
        if (flags.json) printJson(report);
        else process.stdout.write(formatChurnReport(report));
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
