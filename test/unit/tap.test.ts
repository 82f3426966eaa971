import { describe, expect, it } from 'vitest';

import { openTap } from '../../lib/tap.js';

// Validation happens before any syscall, so these run without privileges.
describe('openTap validation', () => {
  it.each([
    [{ name: '' }, /"name"/],
    [{ name: 'a-name-longer-than-15' }, /"name" to be an interface name of 1 to 15 bytes/],
    [{ name: 'tap/0' }, /"name"/],
    [{ name: 'tap%s' }, /"name" to be an interface name or a pattern with one %d/],
    [{ name: 'tap%d%d' }, /"name"/],
    [{ queues: 0 }, /"queues" to be an integer from 1 to 256, got 0/],
    [{ queues: 257 }, /"queues"/],
    [{ queues: 1.5 }, /"queues"/],
    [{ vnetHdr: 'yes' }, /"vnetHdr" to be a boolean/],
    [{ persist: 1 }, /"persist"/],
    [{ owner: -1 }, /"owner"/],
    [{ group: 'wheel' }, /"group"/],
    [{ netns: '' }, /"netns"/],
    [{ netns: -3 }, /"netns"/],
  ])('refuses %j', async (options, message) => {
    await expect(openTap(options as never)).rejects.toThrow(message);
    await expect(openTap(options as never)).rejects.toHaveProperty('code', expect.stringMatching(/^ERR_(INVALID_ARG_(TYPE|VALUE)|OUT_OF_RANGE)$/));
  });
});
