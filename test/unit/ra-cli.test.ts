/**
 * `vmplumb ra` with radvd's command-line flags, without privileges: what a distribution's
 * radvd unit passes (`--logmethod stderr_clean --configtest`) works, -v prints the version,
 * the flags it does not implement are refused with a sentence, before anything is read.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { main } from '../../lib/cli/program.js';
import { captureOutput } from '../helpers/capture-output.js';

const CONF = fileURLToPath(new URL('../fixtures/ra/radvd-conf/man-3-6to4.conf', import.meta.url));
const io = captureOutput();

const run = (...args: string[]): Promise<number> => main(['node', 'vmplumb', 'ra', ...args], '9.8.7-test');

describe('vmplumb ra with radvd flags', () => {
  it('checks a file as radvd --logmethod stderr_clean --configtest does, printing the warnings', async () => {
    expect(await run('--logmethod', 'stderr_clean', '--configtest', '-C', CONF)).toBe(0);
    expect(io.out).toBe(`${CONF}: syntax OK (interfaces: bnep0)\n`);
    expect(io.err).toMatch(/line 13: prefix 0:0:0:5678::\/64 with Base6to4Interface ppp0 is not advertised/u);
  });

  it('logs nothing with --logmethod none; -s and -f are accepted', async () => {
    expect(await run('-m', 'none', '-s', '-f', '3', '-c', '-C', CONF)).toBe(0);
    expect(io.err).toBe('');
  });

  it('-v prints the version', async () => {
    expect(await run('-v')).toBe(0);
    expect(io.out).toBe('vmplumb ra 9.8.7-test (radvd.conf compatible)\n');
  });

  it.each([
    [['-m', 'syslog'], /--logmethod syslog is not supported: vmplumb ra logs to stderr/u],
    [['--logmethod', 'logfile', '-l', '/tmp/radvd.log'], /--logmethod logfile is not supported/u],
    [['-l', '/tmp/radvd.log'], /--logfile is not supported: vmplumb ra logs to stderr; redirect it/u],
    [['-u', 'radvd'], /--username is not supported: vmplumb ra keeps the privileges/u],
    [['-t', '/var/run/radvd'], /--chrootdir is not supported/u],
  ])('refuses %j with a reason, exit code 1', async (args, message) => {
    expect(await run(...args, '-c', '-C', CONF)).toBe(1);
    expect(io.out).toBe('');
    expect(io.err).toMatch(message);
  });
});
