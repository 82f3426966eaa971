/**
 * NLM_F_DUMP_INTR is policy in TypeScript: the addon reports an interrupted dump as
 * `interrupted`, Connection.dump() runs it again, and fails with EINTR after DUMP_ATTEMPTS.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { Connection, DUMP_ATTEMPTS } from '../../lib/netlink/connection.js';
import type { NativeRtnlMessage } from '../../lib/native.js';

const open: Connection[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

/** A connection whose request() answers from `replies` (one per call) and counts the calls. */
function scripted(replies: Array<{ messages: number; interrupted: boolean }>): { connection: Connection; calls: () => number } {
  const connection = new Connection(undefined);
  open.push(connection);
  let calls = 0;
  connection.request = async () => {
    const r = replies[Math.min(calls++, replies.length - 1)]!;
    const messages = Array.from({ length: r.messages }, () => ({}) as NativeRtnlMessage);
    return r.interrupted ? Object.assign(messages, { interrupted: true }) : messages;
  };
  return { connection, calls: () => calls };
}

describe('Connection.dump and NLM_F_DUMP_INTR', () => {
  it('returns an uninterrupted dump as it came (control)', async () => {
    const { connection, calls } = scripted([{ messages: 3, interrupted: false }]);
    expect(await connection.dump(18, {}, { operation: 'listLinks' })).toHaveLength(3);
    expect(calls()).toBe(1);
  });

  it('runs an interrupted dump again and returns the first consistent one', async () => {
    const { connection, calls } = scripted([
      { messages: 2, interrupted: true },
      { messages: 2, interrupted: true },
      { messages: 5, interrupted: false },
    ]);
    expect(await connection.dump(18, {}, { operation: 'listLinks' })).toHaveLength(5);
    expect(calls()).toBe(3);
  });

  it('fails with EINTR after DUMP_ATTEMPTS interrupted dumps', async () => {
    const { connection, calls } = scripted([{ messages: 1, interrupted: true }]);
    await expect(connection.dump(18, {}, { operation: 'listLinks' })).rejects.toMatchObject({ code: 'EINTR', errno: -4, operation: 'listLinks' });
    expect(calls()).toBe(DUMP_ATTEMPTS);
  });
});
