/**
 * Link and address notifications as async iterables (rtnetlink(7) multicast groups,
 * RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR), like `ip monitor link|address`.
 *
 * Each iterable has its own socket: subscribed first, then a dump taken on the same socket,
 * so nothing falls between "what exists" and "what changes". The dump is the baseline (and,
 * with `existing: true`, is yielded as 'new' events first). When the kernel drops
 * notifications because the receive queue overflowed (ENOBUFS), the iterable dumps again and
 * yields the difference: 'new' for links/addresses that appeared or changed, 'del' for those
 * that vanished. The socket closes when the iteration ends (break, return) or on nl.close().
 */
import { debug } from '../diagnostics.js';
import { AF, RTEXT_FILTER_SKIP_STATS, RTM, RTNLGRP } from './constants.js';
import { Connection, type DumpSink } from './connection.js';
import { parseAddress, parseLink } from './parse.js';
import type { NativeNetns, NativeRtnlMessage } from '../native.js';
import type { Address, AddressEvent, Link, LinkEvent } from './types.js';
import { ownFields } from './own-fields.js';

/**
 * Links (or addresses) compared, and held notifications applied, per macrotask while
 * reconciling: a re-dump of 12,000 links after an overrun would otherwise hold the event loop
 * for a quarter of a second; in slices of 256 each turn stays within a few milliseconds.
 * (The dump itself is parsed as it is read, see resync.)
 */
const MESSAGES_PER_TURN = 256;

/**
 * Whether two parsed links (or addresses) are equal, field by field: what JSON.stringify on
 * both compared before, without making two strings per object (a re-dump of 12,000 links made
 * ~14 MB of them, and the scavenges that cost were the event loop's longest stalls).
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  // Own fields only, and a field set to undefined counts as absent (as in JSON).
  let fields = 0;
  for (const k in x) {
    if (!Object.hasOwn(x, k) || x[k] === undefined) continue;
    fields += 1;
    if (!Object.hasOwn(y, k) || !sameValue(x[k], y[k])) return false;
  }
  for (const k in y) if (Object.hasOwn(y, k) && y[k] !== undefined) fields -= 1;
  return fields === 0;
}

/** Lets the event loop run (timers, I/O) before going on. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * What differs between link and address streams. A kind may parse into fewer fields than
 * Link/Address: the stream keeps (and compares after a re-dump) exactly what `parse` returns,
 * so a consumer of thousands of links can keep only what it needs (lib/ra/monitor.ts).
 */
export interface StreamKind<T, E> {
  /** 'link' or 'address', for debug output. */
  name: string;
  groups: number[];
  dumpType: number;
  newType: number;
  delType: number;
  /** Messages this stream reports (e.g. not the bridge-port AF_BRIDGE link messages). */
  accept(m: NativeRtnlMessage): boolean;
  parse(m: NativeRtnlMessage): T;
  /**
   * What identifies the item among the stream's current ones. The stream keeps one key per
   * item for as long as it lives (thousands of links): a number, or a flat string (see
   * {@link addressKey}), not a string built with `+` or a template, which V8 keeps as a tree.
   */
  key(item: T): string | number;
  event(type: 'new' | 'del', item: T): E;
  /**
   * Link messages are decoded with only the header fields, `name`, `mtu` and `mac` (the
   * native socket's briefLinks): `parse` must need no more.
   */
  briefLinks?: boolean;
}

/**
 * An address's stream key: link index, address and length, one flat string (Array#join makes
 * one; a template literal's concatenations stay a tree of ~4 cons strings, ~170 bytes an
 * address instead of ~60).
 */
export function addressKey(a: Pick<Address, 'index' | 'address' | 'prefixLength'>): string {
  return [a.index, a.address, a.prefixLength].join(' ');
}

/** Links (RTNLGRP_LINK) as parsed Link objects. */
export const LINKS: StreamKind<Link, LinkEvent> = {
  name: 'link',
  groups: [RTNLGRP.LINK],
  dumpType: RTM.GETLINK,
  newType: RTM.NEWLINK,
  delType: RTM.DELLINK,
  // AF_BRIDGE RTM_NEWLINK/DELLINK describe bridge ports (joining/leaving), not links.
  accept: (m) => m.family === AF.UNSPEC || m.family === undefined,
  parse: parseLink,
  key: (l) => l.index,
  event: (type, link) => ({ type, link }),
};

/** Addresses (RTNLGRP_IPV4_IFADDR + RTNLGRP_IPV6_IFADDR) as parsed Address objects. */
export const ADDRESSES: StreamKind<Address, AddressEvent> = {
  name: 'address',
  groups: [RTNLGRP.IPV4_IFADDR, RTNLGRP.IPV6_IFADDR],
  dumpType: RTM.GETADDR,
  newType: RTM.NEWADDR,
  delType: RTM.DELADDR,
  accept: () => true,
  parse: parseAddress,
  key: addressKey,
  event: (type, address) => ({ type, address }),
};

/** An async iterable of events with its own subscribed socket. */
export class EventStream<T, E> implements AsyncIterableIterator<E> {
  private readonly connection: Connection;
  private readonly queue: E[] = [];
  private waiter: ((result: IteratorResult<E>) => void) | undefined;
  private failer: ((error: unknown) => void) | undefined;
  private failure: unknown;
  private state = new Map<string | number, T>();
  private syncing = true;
  private held: NativeRtnlMessage[] = [];
  private done = false;
  private resyncing = false;
  private resyncAgain = false;
  /** How often the kernel dropped notifications (ENOBUFS) and the stream re-dumped. */
  overruns = 0;

  constructor(
    private readonly kind: StreamKind<T, E>,
    netns: NativeNetns,
    existing: boolean,
    receiveBuffer: number | undefined,
    private readonly onClose: (stream: EventStream<T, E>) => void,
  ) {
    this.connection = new Connection(
      netns,
      kind.groups,
      (messages, failure) => {
        if (failure) {
          this.overruns += 1;
          debug('%s events: the kernel dropped notifications (ENOBUFS, overrun %d): re-dumping', kind.name, this.overruns);
          void this.resync(false);
        } else if (messages) {
          this.receive(messages);
        }
      },
      receiveBuffer,
      kind.briefLinks,
    );
    void this.resync(existing);
  }

  /** Notifications: held while a dump is running, applied in order afterwards. */
  private receive(messages: NativeRtnlMessage[]): void {
    if (this.syncing) {
      for (const m of messages) this.held.push(m);
      return;
    }
    this.apply(messages);
  }

  private apply(messages: NativeRtnlMessage[]): void {
    for (const received of messages) {
      const m = ownFields(received);
      if (!this.kind.accept(m)) continue;
      const item = this.kind.parse(m);
      const key = this.kind.key(item);
      if (m.msgType === this.kind.delType) {
        this.state.delete(key);
        this.push(this.kind.event('del', item));
      } else if (m.msgType === this.kind.newType) {
        this.state.set(key, item);
        this.push(this.kind.event('new', item));
      }
    }
  }

  /**
   * The dump, taken again while changes keep interrupting it (Connection.dump gives up after
   * DUMP_ATTEMPTS in a row with EINTR): a stream must outlive a flood of changes, so it backs
   * off (10 ms, doubling, at most 1 s) and dumps again until a dump is consistent (true) or
   * the stream ends (false). Notifications meanwhile are held and applied after it. The
   * messages go to `sink` as they are read, each attempt after `sink.begin()`.
   */
  private async dumpUntilConsistent(sink: DumpSink): Promise<boolean> {
    for (let round = 0; ; round++) {
      try {
        await this.connection.dump(this.kind.dumpType, { family: AF.UNSPEC, extMask: RTEXT_FILTER_SKIP_STATS }, { operation: 'events' }, sink);
        return true;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'EINTR' || this.done) throw error;
        const ms = Math.min(1000, 10 * 2 ** round);
        debug('%s events: dumps interrupted by concurrent changes, again in %d ms', this.kind.name, ms);
        await new Promise((resolve) => setTimeout(resolve, ms).unref());
        if (this.done) return false;
      }
    }
  }

  /**
   * Dumps and reconciles with what we knew: at start (emitting everything only with
   * `existing`) and after an overrun (emitting the difference).
   */
  private async resync(emitAll: boolean): Promise<void> {
    // Another overrun while re-dumping: one more dump once this one is done.
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.resyncing = true;
    const initial = this.syncing && this.state.size === 0;
    this.syncing = true;
    try {
      // Parsed as they are read (a readiness callback's worth at a time, at most 64 KiB):
      // the raw dump is never held whole, and no macrotask parses all of it.
      let next = new Map<string | number, T>();
      const sink: DumpSink = {
        begin: () => {
          next = new Map();
        },
        add: (messages) => {
          if (this.done) return;
          for (const m of messages) {
            const own = ownFields(m);
            if (!this.kind.accept(own)) continue;
            const item = this.kind.parse(own);
            next.set(this.kind.key(item), item);
          }
        },
      };
      if (!(await this.dumpUntilConsistent(sink)) || this.done) return;
      // The comparison yields to the event loop every MESSAGES_PER_TURN items.
      let n = 0;
      if (emitAll || !initial) {
        for (const [key, item] of next) {
          if (++n % MESSAGES_PER_TURN === 0) await nextTurn();
          const before = this.state.get(key);
          if (emitAll || before === undefined || !sameValue(before, item)) this.push(this.kind.event('new', item));
        }
        if (!initial) {
          for (const [key, item] of this.state) if (!next.has(key)) this.push(this.kind.event('del', item));
        }
      }
      this.state = next;
      // Notifications that came during the dump, in order; more may arrive meanwhile.
      while (this.held.length > 0 && !this.done) {
        this.apply(this.held.splice(0, MESSAGES_PER_TURN));
        if (this.held.length > 0) await nextTurn();
      }
      this.syncing = false;
    } catch (error) {
      if (!this.done) this.fail(error);
    } finally {
      this.resyncing = false;
    }
    if (this.resyncAgain && !this.done) {
      this.resyncAgain = false;
      await this.resync(false);
    }
  }

  private push(event: E): void {
    if (this.done) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      this.failer = undefined;
      waiter({ value: event, done: false });
    } else {
      this.queue.push(event);
    }
  }

  private fail(error: unknown): void {
    const failer = this.failer;
    if (failer) {
      this.waiter = undefined;
      this.failer = undefined;
      failer(error);
    } else {
      this.failure = error;
    }
    this.close();
  }

  /** The next event (waits for one). */
  next(): Promise<IteratorResult<E>> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve({ value: queued, done: false });
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failer = reject;
    });
  }

  /** Ends the iteration and closes the socket (called by `break`). */
  return(): Promise<IteratorResult<E>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the iteration with `reason` (an AbortSignal's): the pending or next next() rejects with it. */
  abort(reason: unknown): void {
    if (this.done) return;
    this.queue.length = 0;
    this.fail(reason);
  }

  /** Closes the socket (idempotent); a pending next() resolves as done. */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.connection.close();
    const waiter = this.waiter;
    this.waiter = undefined;
    this.failer = undefined;
    waiter?.({ value: undefined, done: true });
    this.onClose(this);
  }
}

/** A link event stream (RTNLGRP_LINK). */
export function linkEventStream(
  netns: NativeNetns,
  existing: boolean,
  receiveBuffer: number | undefined,
  onClose: (s: EventStream<Link, LinkEvent>) => void,
): EventStream<Link, LinkEvent> {
  return new EventStream(LINKS, netns, existing, receiveBuffer, onClose);
}

/** An address event stream (RTNLGRP_IPV4_IFADDR + RTNLGRP_IPV6_IFADDR). */
export function addressEventStream(
  netns: NativeNetns,
  existing: boolean,
  receiveBuffer: number | undefined,
  onClose: (s: EventStream<Address, AddressEvent>) => void,
): EventStream<Address, AddressEvent> {
  return new EventStream(ADDRESSES, netns, existing, receiveBuffer, onClose);
}
