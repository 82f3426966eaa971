/**
 * A dump with a sink (Connection.dump, native/netlink_socket.cc onChunk): its messages come
 * as they are read, in several chunks for a dump bigger than one read, all of them exactly
 * once and in order, and the promise resolves with nothing left over; a plain dump of the
 * same namespace (control) returns the same links in one array.
 */
import { describe, expect, it } from 'vitest';

import { Connection } from '../../lib/netlink/connection.js';
import { AF, RTEXT_FILTER_SKIP_STATS, RTM } from '../../lib/netlink/constants.js';
import type { NativeRtnlMessage } from '../../lib/native.js';
import { useNetlinkNamespace } from '../helpers/netlink-fixture.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

/** ~1-2 KiB per bridge in a link dump: 400 of them are several 64 KiB reads. */
const BRIDGES = 400;

describe.skipIf(skipUnlessRoot('netlink dump chunks'))('chunked dumps', () => {
  const t = useNetlinkNamespace('vmpchunk', (ns) => {
    ns.ipBatch(Array.from({ length: BRIDGES }, (_, i) => `link add cb${i} type bridge`));
  });

  it('hands a big dump over in chunks as it is read, each link once, and resolves empty', async () => {
    const connection = new Connection(`/run/netns/${t.ns.name}`);
    try {
      const params = { family: AF.UNSPEC, extMask: RTEXT_FILTER_SKIP_STATS };
      const chunks: NativeRtnlMessage[][] = [];
      let begun = 0;
      const rest = await connection.dump(RTM.GETLINK, params, { operation: 'test' }, { begin: () => (begun += 1), add: (m) => chunks.push(m) });
      const plain = await connection.dump(RTM.GETLINK, params, { operation: 'test' });
      expect(rest).toEqual([]);
      expect(begun).toBeGreaterThanOrEqual(1);
      // Interrupted attempts start over (begin); the last attempt's chunks are the dump.
      const names = chunks.flat().map((m) => m.name);
      expect(chunks.length).toBeGreaterThan(1);
      expect(names.filter((n) => typeof n === 'string' && n.startsWith('cb'))).toHaveLength(BRIDGES);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toEqual(plain.map((m) => m.name));
    } finally {
      connection.close();
    }
  });
});
