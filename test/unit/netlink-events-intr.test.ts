/**
 * An event stream outlives dumps that changes keep interrupting: Connection.dump gives up
 * with EINTR after DUMP_ATTEMPTS flagged dumps, and the stream backs off and dumps again
 * (lib/netlink/events.ts). Any other failure still ends the stream (control). The stream's
 * socket is real (the current namespace's link group needs no privilege); its dumps are
 * scripted through Connection.prototype.dump.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { Connection } from '../../lib/netlink/connection.js';
import { linkEventStream } from '../../lib/netlink/events.js';

const refuse = (code: string, errno: number) => Object.assign(new Error(`events: ${code}`), { code, errno });

afterEach(() => {
  vi.restoreAllMocks();
});

/** Makes the first `failures` dumps fail with `error`, the rest as the kernel answers. */
function scriptDumps(failures: number, error: Error): () => number {
  const real = Connection.prototype.dump;
  let calls = 0;
  vi.spyOn(Connection.prototype, 'dump').mockImplementation(function (this: Connection, ...args: Parameters<Connection['dump']>) {
    calls += 1;
    return calls <= failures ? Promise.reject(error) : real.apply(this, args);
  });
  return () => calls;
}

describe('event streams and interrupted dumps', () => {
  it('dumps again after Connection.dump gives up with EINTR, and reports what exists', async () => {
    const calls = scriptDumps(3, refuse('EINTR', -4));
    const stream = linkEventStream(undefined, true, undefined, () => undefined);
    try {
      const first = await stream.next();
      expect(first.done).toBe(false);
      expect(first.value).toMatchObject({ type: 'new', link: { name: 'lo' } });
      expect(calls()).toBe(4);
    } finally {
      await stream.return();
    }
  });

  it('ends with any other failure of the dump (control: not retried)', async () => {
    const calls = scriptDumps(1, refuse('EPERM', -1));
    const stream = linkEventStream(undefined, true, undefined, () => undefined);
    try {
      await expect(stream.next()).rejects.toMatchObject({ code: 'EPERM' });
      expect(calls()).toBe(1);
    } finally {
      await stream.return();
    }
  });
});
