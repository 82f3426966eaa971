/**
 * `vmplumb demo` as CI runs it: the command as a child process (lib/cli.ts through tsx), which
 * must succeed, print the VM's EUI-64 address and the ping across VXLAN, and leave none of its
 * namespaces behind.
 */
import { existsSync, readdirSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { startCli } from '../helpers/cli.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

describe.skipIf(skipUnlessRoot('vmplumb demo', ['/dev/net/tun']))('vmplumb demo', () => {
  it('runs the reference scenario and cleans up', async () => {
    const cli = startCli(['demo']);
    const code = await cli.done;
    const [out, err] = [cli.out(), cli.err()];
    const prefix = `vmplumb-demo-${cli.child.pid}-`;
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(prefix)) : [];

    expect({ code, err, left }).toEqual({ code: 0, err: '', left: [] });
    expect(out).toContain(`[3/7] hosts: namespaces ${prefix}host1 and ${prefix}host2, joined by veth eth0 ↔ eth0`);
    expect(out).toContain('# ip -6 link add vxlan100 type vxlan id 100 dstport 4789 group ff05::100 dev eth0 ttl 5');
    expect(out).toContain('VM address: 2a0a:e5c1:111:888:0:ff:fe00:1\n');
    expect(out).toMatch(/the guest configured 2a0a:e5c1:111:888:0:ff:fe00:1\/64 from our RAs/u);
    expect(out).toMatch(/and its default route: via fe80::[0-9a-f:]+ dev eth0/u);
    expect(out).toMatch(/\[7\/7\] ping 2a0a:e5c1:111:888:0:ff:fe00:1 from host 2[^\n]*\n\s+[1-9]\/\d replies/u);
    expect(out).toMatch(/demo OK in \d+ s: nothing left behind\n$/u);
  }, 420_000);
});
