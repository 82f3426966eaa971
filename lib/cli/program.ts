/**
 * The `vmplumb` command line (commander): one sub-command per file in this folder. Every
 * command loads the library (and so the native addon) only when it runs, so `--help` and
 * option errors work anywhere. Errors end the command with one line on stderr and exit code 1;
 * a foreground command stopped by Ctrl-C exits 130 (128 + SIGINT) once it has torn down, a
 * service (`ra`) stops gracefully on SIGTERM or SIGINT and exits 0, as radvd does.
 */
import { Command, CommanderError } from 'commander';

import { registerBench } from './bench.js';
import { CliError, intOption, messageOf } from './common.js';
import { registerHost } from './host.js';
import { registerLinks } from './links.js';
import { registerNet } from './net.js';
import { registerRa } from './ra.js';
import { registerVm } from './vm.js';

/** Builds the program (a fresh one per call, so tests can parse several command lines). */
export function buildProgram(version: string): Command {
  const program = new Command('vmplumb')
    .description('the plumbing between a Linux host and its VMs: VXLAN networks, taps, qemu, router advertisements')
    .version(version, '-V, --version')
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false })
    .exitOverride()
    .configureOutput({
      // commander's own errors ("error: unknown option '--x'") as one line that names us.
      outputError: (text, write) => write(`vmplumb: ${text.replace(/^error: /u, '')}`),
    });
  // Sub-commands inherit exitOverride and the output settings.
  program
    .command('demo')
    .description('the reference scenario in throwaway namespaces: network 100, a tiny guest, ping across VXLAN')
    .option('--cache-dir <dir>', 'where the test guest is built and cached (default $VMPLUMB_CACHE or ~/.cache/vmplumb/guest)')
    .option('--timeout <seconds>', 'how long to wait for the guest to configure its address', intOption(10, 3600), 180)
    .action(async (options: { cacheDir?: string; timeout: number }) => {
      const { runDemo } = await import('../../testing/demo/demo.js');
      await runDemo(options);
    });
  registerNet(program);
  registerVm(program);
  registerRa(program);
  registerLinks(program);
  registerBench(program);
  registerHost(program);
  for (const command of allCommands(program)) {
    command.exitOverride().configureOutput({ outputError: (text, write) => write(`${fullName(command)}: ${text.replace(/^error: /u, '')}`) });
  }
  return program;
}

/** 'vmplumb net up'. */
function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Runs the command line; returns the exit code (0 ok, 1 error, 128 + signal when interrupted). */
export async function main(argv: string[], version: string): Promise<number> {
  const program = buildProgram(version);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with code 0; commander has printed what it had to say.
      return error.exitCode === 0 ? 0 : 1;
    }
    const name = commandName(argv);
    process.stderr.write(`vmplumb${name ? ` ${name}` : ''}: ${messageOf(error)}\n`);
    if (process.env.VMPLUMB_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

/** The sub-command words of a command line ('net up'), for the error prefix. */
function commandName(argv: string[]): string {
  const words: string[] = [];
  for (const arg of argv.slice(2)) {
    if (arg.startsWith('-')) break;
    words.push(arg);
    if (words.length === 2 || !['net', 'vm', 'bench'].includes(words[0] ?? '')) break;
  }
  return words.join(' ');
}
