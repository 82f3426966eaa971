/**
 * The `vmplumb` command as a child process against the kernel: `net up` makes the reference
 * network in a namespace and Ctrl-C (SIGINT) tears it down; `links --json` reports what
 * `ip` sees; `vm run` explains a missing network; `ra -C` is radvd in the foreground, seen by
 * rdisc6 in a client namespace. Runs lib/cli.ts through tsx (no compile step).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLI, ROOT, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { twoHostsWithVeth } from '../helpers/hosts.js';
import { runAsync, type TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

describe.skipIf(skipUnlessRoot('vmplumb CLI integration tests'))('vmplumb as a command', () => {
  let h1: TestNetns;
  let h2: TestNetns;
  let work: string;
  const children: RunningCli[] = [];

  beforeAll(() => {
    [h1, h2] = twoHostsWithVeth('vmpe2e', 'fd00:4789::1/64', 'fd00:4789::2/64');
    work = mkdtempSync(join(tmpdir(), 'vmpe2e-cli-'));
  });

  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.done));
    h1?.cleanup();
    h2?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('net up makes the network, links --json shows it, vm run finds it, Ctrl-C tears it down', async () => {
    const net = startCli([
      'net',
      'up',
      '--id',
      '100',
      '--dev',
      'eth0',
      '--prefix',
      '2a0a:e5c1:111:888::/64',
      '--rdnss',
      '2a0a:e5c0::3,2a0a:e5c0::4',
      '--dnssl',
      'place7.ungleich.ch',
      '--netns',
      h1.name,
    ]);
    children.push(net);
    await until('"network 100 up"', () => net.out().includes('press Ctrl-C') || net.child.exitCode !== null);
    expect(net.err()).toBe('');
    expect(net.out()).toContain(
      'network 100 up: vxlan100 (group ff05::100, dev eth0) in br100, router 2a0a:e5c1:111:888::1, advertising 2a0a:e5c1:111:888::/64',
    );
    expect(h1.ipJson('-d', 'link', 'show', 'dev', 'vxlan100')[0].linkinfo.info_data).toMatchObject({ id: 100, group6: 'ff05::100', port: 4789, ttl: 5 });

    const links = await runCli(['links', '--json', '--netns', h1.name]);
    expect(links.code).toBe(0);
    const parsed = JSON.parse(links.out) as { name: string; kind?: string; master?: number; index: number }[];
    const br = parsed.find((l) => l.name === 'br100');
    expect(br?.kind).toBe('bridge');
    expect(parsed.find((l) => l.name === 'vxlan100')).toMatchObject({ kind: 'vxlan', master: br?.index });
    expect(parsed.map((l) => l.name).sort()).toEqual(
      h1
        .ipJson<{ ifname: string }[]>('link', 'show')
        .map((l) => l.ifname)
        .sort(),
    );

    const human = await runCli(['links', '--netns', h1.name, '--kind', 'vxlan']);
    expect(human.out).toMatch(/^INDEX\s+NAME\s+KIND\s+STATE\s+MTU\s+MAC\s+MASTER\n\d+\s+vxlan100\s+vxlan\s+\S+\s+\d+\s+[0-9a-f:]{17}\s+br100\n$/u);

    // vm run against a network that is not there says what to do (and changes nothing).
    const missing = await runCli(['vm', 'run', '--net', '101', '--id', '1', '--kernel', '/nonexistent', '--netns', h1.name]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(
      'vmplumb vm run: VxlanNetwork 101: there is no bridge br101 in namespace ' + `${h1.name} (start the network first, e.g. vmplumb net up --id 101 …)\n`,
    );

    // A VM that cannot start: the tap was opened and enslaved, qemu refused; nothing stays.
    const bad = await runCli(['vm', 'run', '--net', '100', '--id', '1', '--kernel', '/nonexistent/vmlinuz', '--netns', h1.name]);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe(
      'vmplumb vm run: VM 1 in network 100: spawn qemu for vm1n100 failed: ' + 'Expected "kernel" to be a readable file, got "/nonexistent/vmlinuz": ENOENT\n',
    );
    expect(h1.ipJson<{ ifname: string }[]>('link', 'show').map((l) => l.ifname)).not.toContain('vm1n100');

    // Ctrl-C: the network is torn down, then the command exits 130 (128 + SIGINT) as a shell expects.
    net.child.kill('SIGINT');
    expect(await net.done).toBe(130);
    expect(net.out()).toContain('network 100 down');
    expect(
      h1
        .ipJson<{ ifname: string }[]>('link', 'show')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['eth0', 'lo']);
  }, 150_000);

  it('net up fails with one line and exit 1 when the underlay is missing, leaving nothing', async () => {
    const r = await runCli(['net', 'up', '--id', '100', '--dev', 'eth9', '--prefix', '2a0a:e5c1:111:888::/64', '--netns', h1.name]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^vmplumb net up: VxlanNetwork 100: create vxlan100 on underlay eth9 failed: .*ENODEV.*\n$/u);
    expect(r.err.split('\n')).toHaveLength(2);
    expect(
      h1
        .ipJson<{ ifname: string }[]>('link', 'show')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['eth0', 'lo']);
  }, 30_000);

  it('ra -C radvd.conf advertises like radvd; rdisc6 on the other side sees it; SIGTERM stops it', async () => {
    // A plain link between two namespaces: h1's side is the "bridge" radvd would serve.
    h1.ip('link', 'add', 'br100', 'type', 'veth', 'peer', 'name', 'cl0', 'netns', h2.name);
    h1.ip('link', 'set', 'br100', 'up');
    h2.ip('link', 'set', 'cl0', 'up');
    const conf = join(work, 'radvd.conf');
    writeFileSync(conf, readFileSync(join(ROOT, 'test', 'fixtures', 'ra', 'radvd.conf'), 'utf8'));

    const check = await runCli(['ra', '-c', '-C', conf]);
    expect(check.code).toBe(0);
    expect(check.out).toBe(`${conf}: syntax OK (interfaces: br100)\n`);

    const pidfile = join(work, 'radvd.pid');
    const ra = startCli(['ra', '-n', '-C', conf, '-p', pidfile, '--netns', h1.name]);
    children.push(ra);
    await until('advertising', () => ra.out().includes('advertising on br100') || ra.child.exitCode !== null);
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(ra.child.pid));
    // The link-local source may wait for DAD (RTNL contention on a busy machine).
    const answer = await until(
      'rdisc6 answer',
      () =>
        runAsync('ip', ['netns', 'exec', h2.name, 'rdisc6', '-1', '-n', '-r', '2', '-w', '1500', 'cl0']).then(
          (out) => out.includes('Prefix') && out,
          () => false,
        ),
      60_000,
    );
    expect(answer).toMatch(/Prefix\s+:\s+2a0a:e5c1:111:888::\/64/u);
    expect(answer).toMatch(/Recursive DNS server\s+:\s+2a0a:e5c0::4/u);
    ra.child.kill('SIGTERM');
    expect(await ra.done).toBe(0);
    expect(() => readFileSync(pidfile)).toThrow();
    h1.ip('link', 'del', 'br100');
  }, 120_000);

  it('bench churn --json measures the library on a few pairs', async () => {
    const r = await runCli(['bench', 'churn', '--pairs', '5', '--only', 'library', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { pairs: number; contenders: { library?: { createUs: { median: number }; deleteUs: { median: number } } } };
    expect(report.pairs).toBe(5);
    expect(report.contenders.library?.createUs.median).toBeGreaterThan(0);
    expect(report.contenders.library?.deleteUs.median).toBeGreaterThan(0);
    expect(r.err).toContain('run 1/1: library, 5 pairs');
  }, 60_000);

  it('demo as an ordinary user: one clear line, exit code 1, nothing made', async () => {
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...CLI, 'demo'], { cwd: ROOT });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(err).toBe('vmplumb demo: needs root (CAP_NET_ADMIN for namespaces, links and taps): run it with sudo\n');
  }, 30_000);
});
