/**
 * Observability: the `vmplumb:netlink` tracing channel reports each request with what the
 * kernel did (checked with `ip -j`), and NODE_DEBUG=vmplumb prints the library's own
 * decisions (here the KVM → TCG fallback). Each has a control: no subscriber / no NODE_DEBUG,
 * no output.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NETLINK_TRACING_CHANNEL, type NetlinkRequestMessage } from '../../lib/diagnostics.js';
import { useNetlinkNamespace } from '../helpers/netlink-fixture.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe.skipIf(skipUnlessRoot('diagnostics'))('diagnostics', () => {
  const t = useNetlinkNamespace('vmpdiag');

  it('traces netlink requests: operation, object, type, latency, errno', async () => {
    const started: NetlinkRequestMessage[] = [];
    const ended: NetlinkRequestMessage[] = [];
    const errors: NetlinkRequestMessage[] = [];
    const handlers = {
      start: (m: unknown) => started.push(m as NetlinkRequestMessage),
      asyncEnd: (m: unknown) => ended.push(m as NetlinkRequestMessage),
      error: (m: unknown) => errors.push(m as NetlinkRequestMessage),
    };
    const channel = diagnostics_channel.tracingChannel(NETLINK_TRACING_CHANNEL);
    channel.subscribe(handlers as never);
    let failure: (Error & { code: string }) | undefined;
    try {
      await t.nl.createBridge({ name: 'brtrace' });
      failure = (await t.nl.createBridge({ name: 'brtrace' }).then(
        () => undefined,
        (e: unknown) => e,
      )) as (Error & { code: string }) | undefined;
      expect(failure?.code).toBe('EEXIST');
    } finally {
      channel.unsubscribe(handlers as never);
    }
    // What the kernel did: one bridge.
    expect(t.ns.ipJson('-d', 'link', 'show', 'dev', 'brtrace')[0].linkinfo.info_kind).toBe('bridge');
    expect(started.map((m) => [m.operation, m.object, m.type])).toEqual([
      ['createBridge', 'brtrace', 16],
      ['createBridge', 'brtrace', 16],
    ]);
    expect(ended).toHaveLength(2);
    expect(ended[0]!.errno).toBeUndefined();
    expect(ended[0]!.durationMs).toBeGreaterThan(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ operation: 'createBridge', object: 'brtrace', errno: -17, code: 'EEXIST' });
    expect(errors[0]!.error).toBe(failure);

    // Control: unsubscribed, nothing is published.
    await t.nl.deleteLink('brtrace');
    expect(started).toHaveLength(2);
    expect(t.ns.ipJson('link', 'show').map((l: { ifname: string }) => l.ifname)).not.toContain('brtrace');
  });

  it('NODE_DEBUG=vmplumb prints the KVM → TCG fallback; without it, nothing', async () => {
    // /bin/false as qemu: the KVM probe guest "fails", whatever /dev/kvm says.
    const script = `import { resolveAccel } from ${JSON.stringify(join(ROOT, 'lib', 'qemu', 'accel.ts'))};
      console.log(await resolveAccel('auto', '/bin/false'));`;
    const runScript = (env: NodeJS.ProcessEnv) =>
      new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
        void import('node:child_process').then(({ execFile }) => {
          execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8' }, (error, stdout, stderr) =>
            error ? reject(error) : resolve({ stdout, stderr }),
          );
        });
      });
    const { NODE_DEBUG: _, ...base } = process.env;
    const debugged = await runScript({ ...base, NODE_DEBUG: 'vmplumb' });
    expect(debugged.stdout.trim()).toBe('tcg');
    expect(debugged.stderr).toMatch(/^VMPLUMB \d+: accel auto: KVM does not run a probe guest with \/bin\/false.*falling back to tcg$/mu);
    const quiet = await runScript(base);
    expect(quiet.stdout.trim()).toBe('tcg');
    expect(quiet.stderr).not.toMatch(/VMPLUMB/u);
  });
});
