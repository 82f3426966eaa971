/**
 * The netconf messages against the kernel (native/rtnl_netconf.cc): a dump and a get of the
 * namespace's IPv6 configuration report `all`'s forwarding as the sysctl says, and changing
 * net.ipv6.conf.all.forwarding is announced on RTNLGRP_IPV6_NETCONF with the new value (what
 * the router advertiser will follow, RFC 4861 §6.2.5). A new link is announced there too, with
 * its own index: the cost a subscriber pays per link.
 */
import { describe, expect, it } from 'vitest';

import { Connection } from '../../lib/netlink/connection.js';
import { AF, NETCONFA_IFINDEX, NLM_F, RTM, RTNLGRP } from '../../lib/netlink/constants.js';
import type { NativeRtnlMessage } from '../../lib/native.js';
import { useNetlinkNamespace } from '../helpers/netlink-fixture.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const isAll = (m: NativeRtnlMessage): boolean => m.msgType === RTM.NEWNETCONF && m.family === AF.INET6 && m.index === NETCONFA_IFINDEX.ALL;

describe.skipIf(skipUnlessRoot('netlink netconf'))('netconf', () => {
  const t = useNetlinkNamespace('vmpncf');

  it("reports and announces the namespace's IPv6 forwarding", async () => {
    const events: NativeRtnlMessage[] = [];
    const connection = new Connection(`/run/netns/${t.ns.name}`, [RTNLGRP.IPV6_NETCONF], (messages) => events.push(...(messages ?? [])));
    try {
      const sysctl = (): number => Number(t.ns.exec('sysctl', ['-n', 'net.ipv6.conf.all.forwarding']).trim());
      expect(sysctl()).toBe(0); // a new namespace does not forward
      const dump = await connection.dump(RTM.GETNETCONF, { family: AF.INET6 }, { operation: 'test' });
      expect(dump.filter(isAll)).toEqual([expect.objectContaining({ forwarding: 0 })]);
      // The dump has the default entry and lo too (control: the filter above is not empty by luck).
      expect(dump.some((m) => m.index === NETCONFA_IFINDEX.DEFAULT)).toBe(true);
      expect(dump.some((m) => m.index === 1)).toBe(true);
      const [got] = (await connection.request(RTM.GETNETCONF, 0, { family: AF.INET6, index: NETCONFA_IFINDEX.ALL }, { operation: 'test' })) ?? [];
      expect(got).toMatchObject({ msgType: RTM.NEWNETCONF, family: AF.INET6, index: NETCONFA_IFINDEX.ALL, forwarding: 0 });

      t.ns.sysctl('net.ipv6.conf.all.forwarding', 1);
      await until('the forwarding change announced', () => events.some((m) => isAll(m) && m.forwarding === 1));
      const [after] = (await connection.request(RTM.GETNETCONF, 0, { family: AF.INET6, index: NETCONFA_IFINDEX.ALL }, { operation: 'test' })) ?? [];
      expect(after).toMatchObject({ forwarding: 1 });

      t.ns.ip('link', 'add', 'ncf0', 'type', 'bridge');
      const index = Number(JSON.parse(t.ns.ip('-j', 'link', 'show', 'ncf0'))[0].ifindex);
      await until('the new link announced', () => events.some((m) => m.msgType === RTM.NEWNETCONF && m.index === index));
    } finally {
      connection.close();
    }
  });

  it('refuses a get without NETCONFA_IFINDEX, naming what is missing', async () => {
    const connection = new Connection(`/run/netns/${t.ns.name}`);
    try {
      await expect(connection.request(RTM.GETNETCONF, NLM_F.REQUEST, { family: AF.INET6 }, { operation: 'test' })).rejects.toMatchObject({ code: 'EINVAL' });
    } finally {
      connection.close();
    }
  });
});
