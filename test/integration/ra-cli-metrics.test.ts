/**
 * `vmplumb ra --metrics-listen 127.0.0.1:0`: /metrics over HTTP while it advertises into a
 * client namespace; the counters agree with what a capture and rdisc6 in the client see.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinWithVeth, TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { ROOT, startCli } from '../helpers/cli.js';
import { Capture, until } from '../helpers/ra-capture.js';

/** One sample of the Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.skipIf(skipUnlessRoot('vmplumb ra --metrics-listen', ['/usr/bin/dumpcap', '/usr/bin/rdisc6']))('vmplumb ra --metrics-listen', () => {
  let router: TestNetns;
  let client: TestNetns;
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'vmpra-metrics-'));
    router = new TestNetns('vmpram');
    client = new TestNetns('vmpram');
    // The router side is named as the reference radvd.conf's interface.
    joinWithVeth(router, 'br100', client, 'vmpram-c0');
  });

  afterAll(() => {
    router?.cleanup();
    client?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('serves /metrics with RAs split by destination; 404 elsewhere; SIGTERM closes it and exits 0', async () => {
    const conf = join(work, 'radvd.conf');
    writeFileSync(conf, readFileSync(join(ROOT, 'test', 'fixtures', 'ra', 'radvd.conf'), 'utf8'));
    const capture = new Capture(client, 'vmpram-c0');
    await capture.ready;
    const { child, out, err, done } = startCli(['ra', '-C', conf, '--netns', router.name, '--metrics-listen', '127.0.0.1:0']);
    try {
      const url = await until(`the metrics URL (stderr: ${err()})`, () => /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/u.exec(out())?.[1], 60_000);
      const get = async (path = ''): Promise<{ status: number; type: string | null; text: string }> => {
        const r = await fetch(`${url}${path}`);
        return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
      };
      await until('a multicast RA at the client', () => capture.packets().some((p) => p.destination === 'ff02::1'), 60_000);
      const first = await get();
      expect(first.status).toBe(200);
      expect(first.type).toBe('text/plain; version=0.0.4; charset=utf-8');
      const multicast = sample(first.text, 'vmplumb_ra_advertisements_total{interface="br100",destination="multicast"}')!;
      expect(multicast).toBeGreaterThanOrEqual(1);
      expect(sample(first.text, 'vmplumb_ra_interface_serving{interface="br100"}')).toBe(1);
      // Everything counted reaches the client.
      await until('the counted RAs at the client', () => capture.packets().filter((p) => p.destination === 'ff02::1').length >= multicast);

      // A solicitation from the client's link-local is answered by unicast and counted.
      const ll = await until('the client link-local past DAD', () => client.linkLocal('vmpram-c0'), 60_000);
      const answer = await new Promise<string>((resolve) => {
        execFile('ip', ['netns', 'exec', client.name, 'rdisc6', '-1', '-r', '3', '-w', '1500', 'vmpram-c0'], { encoding: 'utf8' }, (_e, stdout) =>
          resolve(stdout),
        );
      });
      expect(answer).toMatch(/Prefix\s+:\s+2a0a:e5c1:111:888::\/64/u);
      await until('the unicast reply captured', () => capture.packets().some((p) => p.destination === ll));
      const second = await get();
      expect(sample(second.text, 'vmplumb_ra_solicitations_received_total{interface="br100"}')).toBeGreaterThanOrEqual(1);
      expect(sample(second.text, 'vmplumb_ra_advertisements_total{interface="br100",destination="unicast"}')).toBeGreaterThanOrEqual(1);

      expect((await get('/../other')).status).toBe(404);
      child.kill('SIGTERM');
      expect(await done).toBe(0);
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await capture.stop();
    }
  }, 120_000);
});
