/**
 * Cancelling an event stream with an AbortSignal: the waiting next() rejects with the reason
 * and the stream's socket is closed (its fd is gone). Control: the same stream, not aborted,
 * reports a link another process (`ip`) made.
 */
import { readdirSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Netlink } from '../../lib/netlink/index.js';
import { TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const fdCount = (): number => readdirSync('/proc/self/fd').length;

describe.skipIf(skipUnlessRoot('event stream abort'))('linkEvents / addressEvents with an AbortSignal', () => {
  let ns: TestNetns | undefined;
  let nl: Netlink | undefined;

  beforeAll(async () => {
    ns = new TestNetns('vmpevab');
    nl = await Netlink.open({ netns: ns.name });
  });

  afterAll(async () => {
    await nl?.close();
    ns?.cleanup();
  });

  it('reports a link made by ip (control), then rejects the waiting next() with the reason and closes its socket', async () => {
    const controller = new AbortController();
    const before = fdCount();
    const events = nl!.linkEvents({ signal: controller.signal });
    expect(fdCount()).toBe(before + 1);
    const first = events.next();
    ns!.ip('link', 'add', 'br7', 'type', 'bridge');
    const { value } = await first;
    expect(value).toMatchObject({ type: 'new', link: { name: 'br7' } });

    const waiting = events.next();
    const reason = new Error('agent shutting down');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await until('the stream socket is closed', () => fdCount() === before);
    await expect(events.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('addressEvents too: reports an address added by ip (control), then ends with the reason and closes its socket', async () => {
    ns!.ip('link', 'add', 'br8', 'type', 'bridge');
    ns!.ip('link', 'set', 'br8', 'up');
    const controller = new AbortController();
    const before = fdCount();
    const events = nl!.addressEvents({ signal: controller.signal });
    const first = events.next();
    ns!.ip('-6', 'addr', 'add', '2001:db8:e7::1/64', 'dev', 'br8', 'nodad');
    const { value } = await first;
    expect(value).toMatchObject({ type: 'new' });
    const waiting = events.next();
    const reason = new Error('no more events');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await until('the stream socket is closed', () => fdCount() === before);
  });

  it('refuses an aborted signal at once, and a signal that is not one', () => {
    expect(() => nl!.linkEvents({ signal: AbortSignal.abort() })).toThrow(expect.objectContaining({ name: 'AbortError' }) as Error);
    expect(() => nl!.addressEvents({ signal: AbortSignal.abort() })).toThrow(expect.objectContaining({ name: 'AbortError' }) as Error);
    expect(() => nl!.linkEvents({ signal: {} as AbortSignal })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }) as Error);
  });
});
