import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { QmpClient, type QmpEvent } from '../../lib/qemu/qmp.js';
import { until } from '../helpers/poll.js';

const GREETING = { QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'fake' }, capabilities: ['oob'] } };

/** A fake qemu monitor on a unix socket: records what it got, answers with `respond`. */
async function fakePeer(respond: (msg: { execute: string; id?: number; arguments?: unknown }, peer: Socket) => void): Promise<{
  client: QmpClient;
  received: Array<{ execute: string; id?: number }>;
  peer: () => Socket;
  close: () => void;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'vmptap-qmp-'));
  const path = join(dir, 'qmp.sock');
  const received: Array<{ execute: string; id?: number }> = [];
  let peerSocket: Socket | undefined;
  const server: Server = createServer((s) => {
    peerSocket = s;
    s.write(`${JSON.stringify(GREETING)}\r\n`);
    let buf = '';
    s.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id?: number };
        buf = buf.slice(nl + 1);
        received.push(msg);
        respond(msg, s);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const socket = connect(path);
  const client = new QmpClient(socket);
  cleanups.push(() => {
    client.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { client, received, peer: () => peerSocket as Socket, close: () => peerSocket?.destroy() };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const ok = (msg: { id?: number }, s: Socket, ret: unknown = {}): void => {
  s.write(`${JSON.stringify({ return: ret, id: msg.id })}\r\n`);
};

describe('QmpClient', () => {
  it('reads the greeting and negotiates capabilities', async () => {
    const { client, received } = await fakePeer((m, s) => ok(m, s));
    const greeting = await client.negotiate();
    expect(greeting.QMP.version.qemu.major).toBe(7);
    expect(received.map((m) => m.execute)).toEqual(['qmp_capabilities']);
    expect(typeof received[0]?.id).toBe('number');
  });

  it('matches replies by id, out of order, with events in between', async () => {
    const held: Array<{ id?: number; execute: string }> = [];
    const { client, peer } = await fakePeer((m, s) => {
      if (m.execute === 'qmp_capabilities') return ok(m, s);
      held.push(m);
      if (held.length === 2) {
        // Reply to the second first, with an event before and one split across writes.
        s.write(`${JSON.stringify({ timestamp: { seconds: 1, microseconds: 2 }, event: 'STOP' })}\r\n`);
        s.write(`${JSON.stringify({ return: { status: 'paused' }, id: held[1]?.id })}\r\n{"timestamp": {"seconds": 1, "microseconds": 3}, "ev`);
        setTimeout(() => {
          s.write(`ent": "RESUME"}\r\n${JSON.stringify({ return: [1, 2], id: held[0]?.id })}\r\n`);
        }, 20);
      }
    });
    await client.negotiate();
    const events: QmpEvent[] = [];
    client.on('event', (e: QmpEvent) => events.push(e));
    const [a, b] = await Promise.all([client.execute('query-a'), client.execute('query-status', { verbose: true })]);
    expect(a).toEqual([1, 2]);
    expect(b).toEqual({ status: 'paused' });
    expect(events.map((e) => e.event)).toEqual(['STOP', 'RESUME']);
    expect(peer()).toBeDefined();
  });

  it('sends arguments as QMP expects them', async () => {
    const { client, received } = await fakePeer((m, s) => ok(m, s));
    await client.negotiate();
    await client.execute('netdev_del', { id: 'net1' });
    expect(received[1]).toEqual({ execute: 'netdev_del', arguments: { id: 'net1' }, id: received[1]?.id });
  });

  it('turns an error reply into a QmpError with its class', async () => {
    const { client } = await fakePeer((m, s) => {
      if (m.execute === 'qmp_capabilities') return ok(m, s);
      s.write(`${JSON.stringify({ error: { class: 'DeviceNotFound', desc: "Device 'x' not found" }, id: m.id })}\r\n`);
    });
    await client.negotiate();
    const error = (await client.execute('device_del', { id: 'x' }).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error).toMatchObject({ name: 'QmpError', class: 'DeviceNotFound', code: 'ERR_QMP', message: "QMP device_del: Device 'x' not found" });
    // The stack points at the caller, not at the socket callback that got the reply.
    expect(error.stack).toContain('qemu-qmp.test.ts');
  });

  it('times out a command to a hung peer with a clear error, and ignores the late reply', async () => {
    const late: Array<() => void> = [];
    const { client } = await fakePeer((m, s) => {
      if (m.execute === 'qmp_capabilities') return ok(m, s);
      late.push(() => ok(m, s, 'late'));
    });
    await client.negotiate();
    const started = Date.now();
    await expect(client.execute('query-status', undefined, { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      message: expect.stringMatching(/query-status: no reply within 100 ms \(is qemu hung\?\)/),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    late.forEach((f) => f());
    // The connection still works after a timeout.
    const next = client.execute('query-x', undefined, { timeoutMs: 1000 });
    late.splice(0);
    await new Promise((r) => setTimeout(r, 20));
    late.forEach((f) => f());
    await expect(next).resolves.toBe('late');
  });

  it('rejects pending commands when the peer goes away', async () => {
    const { client, close } = await fakePeer((m, s) => {
      if (m.execute === 'qmp_capabilities') ok(m, s);
    });
    await client.negotiate();
    const pending = client.execute('query-status');
    setTimeout(close, 10);
    await expect(pending).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(client.execute('query-status')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(client.closed).toBe(true);
  });

  it('refuses to pass fds on a stream that cannot', async () => {
    const { client } = await fakePeer((m, s) => ok(m, s));
    await client.negotiate();
    await expect(client.execute('getfd', { fdname: 'x' }, { fds: [0] })).rejects.toThrow(/cannot pass file descriptors/);
  });

  it('stops waiting when the signal fires: rejects with its reason, drops the late reply, stays usable', async () => {
    let held: { id?: number } | undefined;
    const { client, peer } = await fakePeer((m, s) => {
      if (m.execute === 'query-slow') held = m;
      else ok(m, s, m.execute === 'query-status' ? { status: 'running' } : {});
    });
    await client.negotiate();
    const controller = new AbortController();
    const slow = client.execute('query-slow', undefined, { signal: controller.signal });
    await until('qemu got query-slow', () => held !== undefined);
    const reason = new Error('the operator gave up');
    controller.abort(reason);
    await expect(slow).rejects.toBe(reason);
    ok(held!, peer(), { late: true }); // a late reply to the abandoned command is dropped
    await expect(client.execute('query-status')).resolves.toEqual({ status: 'running' });
    // Control: an already-aborted signal rejects at once and sends nothing.
    const sent = held;
    await expect(client.execute('query-slow', undefined, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(held).toBe(sent);
    await expect(client.execute('query-status', undefined, { signal: 'yes' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});
