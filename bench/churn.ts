/**
 * `npm run bench`: the link-churn benchmark (lib/bench) — the library, `ip -batch` with the
 * reference commands and the kernel floor (bench/floor.c), each in a fresh namespace.
 * Progress goes to stderr, the report to stdout (a table, or JSON with --json). Ctrl-C stops
 * after the running step and removes the namespaces; a second Ctrl-C removes them at once.
 */
import { execFileSync } from 'node:child_process';

import { formatChurnReport, liveNamespaces, runChurn } from '../lib/bench/index.js';
import { parseChurnArgs, USAGE } from './churn-args.js';

async function main(): Promise<number> {
  let args;
  try {
    args = parseChurnArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('the benchmark makes network namespaces and links: run it as root\n');
    return 1;
  }
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write(`\n${signal}: stopping after the current step and removing the namespaces (again to force)\n`);
      controller.abort(new Error(`interrupted by ${signal}`));
      return;
    }
    for (const ns of liveNamespaces()) ns.destroySync((cmd, argv) => execFileSync(cmd, argv, { stdio: 'ignore' }));
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await runChurn({
      ...args.options,
      signal: controller.signal,
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatChurnReport(report));
    return 0;
  } catch (error) {
    process.stderr.write(`benchmark failed: ${(error as Error).message}\n`);
    return controller.signal.aborted ? 130 : 1;
  }
}

process.exitCode = await main();
