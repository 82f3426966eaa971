/**
 * `vmplumb bench churn --pairs N [--runs N] [--json]`: the link-churn benchmark of lib/bench
 * (the library against `ip -batch` with the reference commands and the kernel floor), each in
 * a fresh namespace. Progress on stderr, the report on stdout (a table, or JSON). Ctrl-C
 * stops after the running step and removes the namespaces.
 */
import { Option, type Command } from 'commander';

import { CliError, intOption, listOption, note, printJson } from './common.js';

interface ChurnCliOptions {
  pairs: number;
  runs: number;
  contenders?: string[];
  floorDelete?: string;
  json?: boolean;
}

const CONTENDERS = ['library', 'library-sequential', 'floor', 'ip-batch'];
const FLOOR_DELETES = ['group', 'group-preset', 'vx-br', 'br-vx', 'pairwise', 'threads', 'group-threads'];

/** Registers `bench` and `bench churn`. */
export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks');
  bench
    .command('churn')
    .description('create and delete N bridge+vxlan pairs: the library against ip -batch and the kernel floor')
    .option('--pairs <n>', 'bridge+vxlan pairs', intOption(1, 10000), 100)
    .option('--runs <n>', 'repetitions (medians are reported)', intOption(1, 100), 1)
    .option('--contenders <names>', `what to measure, of ${CONTENDERS.join(', ')} (comma-separated)`, listOption)
    .addOption(new Option('--floor-delete <strategy>', "the floor's deletion strategy").choices(FLOOR_DELETES))
    .option('--json', 'print the report as JSON')
    .action(async (options: ChurnCliOptions) => {
      const bad = options.contenders?.find((c) => !CONTENDERS.includes(c));
      if (bad !== undefined) throw new CliError(`unknown contender "${bad}": expected ${CONTENDERS.join(', ')}`);
      if (typeof process.getuid === 'function' && process.getuid() !== 0) {
        throw new CliError('the benchmark makes network namespaces and links: run it as root');
      }
      const { formatChurnReport, liveNamespaces, runChurn } = await import('../bench/index.js');
      const { execFileSync } = await import('node:child_process');
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals): void => {
        if (controller.signal.aborted) {
          // Forced: remove the namespaces now (their links go with them), then leave.
          for (const ns of liveNamespaces()) ns.destroySync((cmd, argv) => execFileSync(cmd, argv, { stdio: 'ignore' }));
          process.exit(130);
        }
        note(`${signal}: stopping after the current step and removing the namespaces (again to force)`);
        controller.abort(new CliError(`interrupted by ${signal}`));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const report = await runChurn({
          pairs: options.pairs,
          runs: options.runs,
          ...(options.contenders === undefined ? {} : { contenders: options.contenders as never }),
          ...(options.floorDelete === undefined ? {} : { floorDelete: options.floorDelete as never }),
          signal: controller.signal,
          onProgress: (line) => note(line),
        });
        if (options.json) printJson(report);
        else process.stdout.write(formatChurnReport(report));
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
