/**
 * The `vmplumb` command line without privileges: --help everywhere, option errors as one line
 * with exit code 1 (before anything is loaded or made), and how command lines map to the
 * library's options.
 */
import { describe, expect, it } from 'vitest';

import { buildProgram, main } from '../../lib/cli/program.js';
import { netUpOptions } from '../../lib/cli/net.js';
import { vmRunOptions } from '../../lib/cli/vm.js';
import { referenceScript } from '../../testing/demo/hosts.js';
import { captureOutput } from '../helpers/capture-output.js';

const io = captureOutput();

const run = (...args: string[]): Promise<number> => main(['node', 'vmplumb', ...args], '0.0.0-test');

describe('vmplumb --help', () => {
  it.each([
    [[], ['demo', 'net', 'vm', 'ra', 'links', 'bench']],
    [
      ['bench', 'churn'],
      ['--pairs', '--runs', '--only', '--sequential', '--floor-delete', '--json'],
    ],
    [['demo'], ['--cache-dir', '--timeout']],
    [
      ['net', 'up'],
      ['--id', '--dev', '--prefix', '--rdnss', '--dnssl', '--netns', '--peer', '--no-ra'],
    ],
    [
      ['vm', 'run'],
      ['--net', '--id', '--cdrom', '--memory', '--cpus', '--kernel'],
    ],
    [['ra'], ['-C, --config', '-c, --configtest', '-n, --nodaemon']],
    [['links'], ['--json', '--netns']],
  ])('vmplumb %j --help', async (words, mentions) => {
    expect(await run(...words, '--help')).toBe(0);
    expect(io.out).toMatch(/^Usage: vmplumb/u);
    for (const m of mentions) expect(io.out).toContain(m);
    expect(io.err).toBe('');
  });

  it('every command has a description and --help', () => {
    const program = buildProgram('0');
    const walk = (c: typeof program): void => {
      for (const sub of c.commands) {
        expect(sub.description(), sub.name()).not.toBe('');
        expect(sub.helpInformation()).toContain('-h, --help');
        walk(sub);
      }
    };
    walk(program);
  });

  it('--version', async () => {
    expect(await run('--version')).toBe(0);
    expect(io.out.trim()).toBe('0.0.0-test');
  });
});

describe('vmplumb errors: one line, exit code 1', () => {
  it.each([
    [['frob'], "vmplumb: unknown command 'frob'"],
    [['net', 'up', '--id', '100', '--dev', 'eth0'], "vmplumb net up: required option '--prefix <prefix>' not specified"],
    [
      ['net', 'up', '--id', 'x', '--dev', 'eth0', '--prefix', 'p'],
      "vmplumb net up: option '--id <n>' argument 'x' is invalid. expected an integer from 0 to 16777215.",
    ],
    [
      ['net', 'up', '--id', '100', '--dev', 'eth0', '--prefix', '2a0a::/48'],
      'vmplumb net up: Expected "prefix" to be an IPv6 /64 prefix like 2001:db8:0:1::/64, got "2a0a::/48": SLAAC needs a /64',
    ],
    [
      ['net', 'up', '--id', '100', '--dev', 'eth0', '--prefix', '2a0a::/64', '--rdnss', 'nope'],
      'vmplumb net up: Expected "rdnss[0]" to be an IPv6 address, got "nope"',
    ],
    [
      ['net', 'up', '--id', '100', '--dev', 'a-name-far-too-long', '--prefix', '2a0a::/64'],
      'vmplumb net up: Expected "underlay" to be an interface name of 1 to 15 bytes, got "a-name-far-too-long"',
    ],
    [['vm', 'run', '--net', '100', '--id', '1'], 'vmplumb vm run: give exactly one of --cdrom, --disk or --kernel'],
    [
      ['vm', 'run', '--net', '100', '--id', '1', '--cdrom', 'a.iso', '--memory', '0'],
      "vmplumb vm run: option '--memory <MiB>' argument '0' is invalid. expected an integer from 16 to 4194304.",
    ],
    [['ra', '-C', '/nonexistent/radvd.conf'], 'vmplumb ra: cannot read /nonexistent/radvd.conf: ENOENT'],
    [['links', '--bogus'], "vmplumb links: unknown option '--bogus'"],
    [['bench', 'churn', '--pairs', '0'], "vmplumb bench churn: option '--pairs <n>' argument '0' is invalid. expected an integer from 1 to 10000."],
    [
      ['bench', 'churn', '--contenders', 'library,foo'],
      'vmplumb bench churn: --only takes a list of library, library-sequential, floor, ip-batch, got "library,foo"',
    ],
    [
      ['bench', 'churn', '--floor-delete', 'fast'],
      "vmplumb bench churn: option '--floor-delete <strategy>' argument 'fast' is invalid. Allowed choices are group, group-preset, vx-br, br-vx, pairwise, threads, group-threads.",
    ],
  ])('vmplumb %j', async (args, message) => {
    expect(await run(...args)).toBe(1);
    expect(io.err).toBe(`${message}\n`);
    expect(io.out).toBe('');
  });
});

describe('command lines → library options', () => {
  it('net up', () => {
    expect(
      netUpOptions({
        id: 100,
        dev: 'eth0',
        prefix: '2a0a:e5c1:111:888::/64',
        rdnss: ['2a0a:e5c0::3', '2a0a:e5c0::4'],
        dnssl: ['place7.ungleich.ch'],
        netns: 'h1',
        ra: true,
      }),
    ).toEqual({
      id: 100,
      underlay: 'eth0',
      prefix: '2a0a:e5c1:111:888::/64',
      rdnss: ['2a0a:e5c0::3', '2a0a:e5c0::4'],
      dnssl: ['place7.ungleich.ch'],
      netns: 'h1',
    });
    expect(netUpOptions({ id: 1, dev: 'eth0', prefix: 'p', peer: ['fd00::2'], ra: false })).toEqual({
      id: 1,
      underlay: 'eth0',
      prefix: 'p',
      peers: ['fd00::2'],
      ra: false,
    });
  });

  it('vm run', () => {
    expect(vmRunOptions({ net: 100, id: 1, cdrom: 'alpine.iso', memory: 1024, cpus: 2, stopTimeout: 1 })).toEqual({
      id: 1,
      memoryMiB: 1024,
      cpus: 2,
      cdrom: 'alpine.iso',
    });
    expect(vmRunOptions({ net: 100, id: 1, kernel: 'k', initrd: 'i', append: 'a', memory: 256, cpus: 1, accel: 'tcg', serial: 's', stopTimeout: 1 })).toEqual({
      id: 1,
      memoryMiB: 256,
      cpus: 1,
      kernel: 'k',
      initrd: 'i',
      append: 'a',
      accel: 'tcg',
      serial: { file: 's' },
    });
  });

  it("the demo's host 2 runs the reference commands of docs/ARCHITECTURE.md", () => {
    expect(referenceScript({ id: 100, address: '2a0a:e5c1:111:888::2' })).toEqual([
      'ip -6 link add vxlan100 type vxlan id 100 dstport 4789 group ff05::100 dev eth0 ttl 5',
      'ip link add br100 type bridge',
      'ip link set vxlan100 master br100 up ; ip link set br100 up',
      'ip addr add 2a0a:e5c1:111:888::2/64 dev br100',
    ]);
  });
});
