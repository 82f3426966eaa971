/**
 * One rtnetlink socket as the Netlink class uses it: requests queued in the same tick go out
 * together in one flush (back to back, 4 per sendmsg), and failures become NetlinkErrors that
 * point at the caller's code.
 *
 * Every flush is sent from the libuv thread pool. The kernel runs each request inside
 * sendmsg(2) on the calling thread, under the rtnl lock: creating a vxlan that joins a
 * multicast group takes a millisecond or more, deleting a bridge waits for RCU grace periods,
 * and any request, even a read, waits while another task (our own bulk delete, or `ip`) holds
 * the lock, for seconds if need be. Measured here: sending up to 16 creations inline delayed
 * the event loop by 26-28 ms; from the pool it stays under 10 ms, for about the same
 * throughput (the hop costs tens of microseconds against hundreds in the kernel).
 */
import { constants as osConstants } from 'node:os';

import { debug, netlinkTraced, traceNetlinkRequest } from '../diagnostics.js';
import { NetlinkError } from '../errors.js';
import { NLM_F } from './constants.js';
import { native, type NativeNetlinkFailure, type NativeNetlinkSocket, type NativeNetns, type NativeRtnlMessage } from '../native.js';

const { EBADF, EINTR } = osConstants.errno;

/** How often a dump the kernel flags as interrupted (NLM_F_DUMP_INTR) is run before it fails. */
export const DUMP_ATTEMPTS = 10;

/** What a request is, for its error message: `createVxlan vxlan100: EEXIST: File exists`. */
export interface RequestContext {
  /** The API call ('createVxlan'). */
  operation: string;
  /** The object it is about ('vxlan100'). */
  object?: string | undefined;
  /** Captured where the user called us, so a rejection points at user code. */
  trace?: CallerTrace;
}

/** Where a public call was made: only the `stack` that Error.captureStackTrace installs. */
export interface CallerTrace {
  readonly stack?: string | undefined;
}

/** Turns the addon's failure into a NetlinkError carrying the caller's stack. */
export function toNetlinkError(failure: NativeNetlinkFailure, context: RequestContext): NetlinkError {
  const error = new NetlinkError(context.operation, context.object, failure, failure.description);
  if (context.trace?.stack) {
    const frames = context.trace.stack.split('\n').slice(1).join('\n');
    error.stack = `${error.name}: ${error.message}\n${frames}`;
  }
  return error;
}

/** EBADF for a request made on a closed (or closing) connection: nothing was sent. */
export function closedError(context: RequestContext): NetlinkError {
  return toNetlinkError(
    { errno: -EBADF, code: 'EBADF', syscall: context.operation, description: 'Bad file descriptor', extack: 'the Netlink is closed' },
    context,
  );
}

/**
 * Captures the stack of the public call `fn` was called from (sharp's pattern), on a plain
 * object: `new Error()` would walk the stack once more for its own trace, and the capture is
 * most of what a call costs (~2-3 µs of ~10 when a caller issues a thousand in one tick).
 * V8 formats the frames only when `stack` is read, i.e. only for a call that fails.
 */
export function captureTrace(fn: (...args: never[]) => unknown): CallerTrace {
  const trace: { stack?: string } = {};
  Error.captureStackTrace(trace, fn);
  return trace;
}

/** Receives a dump's messages as they are read (see Connection.dump). */
export interface DumpSink {
  /** A new attempt starts: forget what the previous (interrupted) one delivered. */
  begin(): void;
  /** Messages of the current attempt, in order. */
  add(messages: NativeRtnlMessage[]): void;
}

/** A NETLINK_ROUTE socket with batching and error translation. */
export class Connection {
  readonly socket: NativeNetlinkSocket;
  private scheduled = false;
  private closed = false;
  /** Set by drainAndClose(): no new request is taken, nothing more is flushed. */
  private closing = false;
  /** Every request not yet settled (its kernel answer still to come). */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    netns: NativeNetns,
    groups: number[] = [],
    onEvent?: (messages: NativeRtnlMessage[] | null, failure?: NativeNetlinkFailure) => void,
    receiveBuffer?: number,
    briefLinks?: boolean,
  ) {
    this.socket = new native.NetlinkSocket(netns, groups, onEvent, receiveBuffer, briefLinks);
  }

  /** Names resolved since the last flush (see ifIndex). */
  private readonly names = new Map<string, number>();

  /**
   * Resolves a link name to its index in this socket's namespace; 0 when absent. A name asked
   * again before the queued requests go out is answered from memory: a thousand vxlans over
   * one underlay made in one tick cost one ioctl for it, not a thousand. Nothing we send can
   * have changed it meanwhile (the cache is dropped when the batch leaves, and at the latest
   * when this tick's microtasks have run).
   */
  ifIndex(name: string): number {
    let index = this.names.get(name);
    if (index === undefined) {
      index = this.socket.ifIndex(name);
      if (this.names.size === 0) queueMicrotask(() => this.names.clear());
      this.names.set(name, index);
    }
    return index;
  }

  /** request() for a change: settles with nothing once the kernel has acked it. */
  command(type: number, flags: number, params: object, context: RequestContext): Promise<void> {
    return this.request(type, flags, params, context) as Promise<unknown> as Promise<void>;
  }

  /** Queues a request; it goes out with everything else queued in this tick. */
  request(
    type: number,
    flags: number,
    params: object,
    context: RequestContext,
    onChunk?: (messages: NativeRtnlMessage[]) => void,
  ): Promise<NativeRtnlMessage[] | undefined> {
    if (this.closing || this.closed) return Promise.reject(closedError(context));
    let promise: Promise<NativeRtnlMessage[] | undefined>;
    try {
      promise = onChunk ? this.socket.request(type, flags, params, onChunk) : this.socket.request(type, flags, params);
    } catch (error) {
      return Promise.reject(this.translate(error, context));
    }
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
    const settled = promise.catch((failure: unknown) => {
      throw this.translate(failure, context);
    });
    this.inflight.add(settled);
    const forget = (): void => {
      this.inflight.delete(settled);
    };
    settled.then(forget, forget);
    return netlinkTraced() ? traceNetlinkRequest({ operation: context.operation, object: context.object, type }, settled) : settled;
  }

  /**
   * A dump (NLM_F_DUMP). The kernel flags a dump that raced with changes (NLM_F_DUMP_INTR: its
   * result may miss or repeat objects); it is run again, up to {@link DUMP_ATTEMPTS} times, and
   * then fails with code 'EINTR' rather than return an inconsistent picture.
   *
   * With a `sink`, the messages go to it as they are read (and the result is empty): a dump
   * of thousands of links is never held whole, and handling it is spread over the reads.
   */
  async dump(type: number, params: object, context: RequestContext, sink?: DumpSink): Promise<NativeRtnlMessage[]> {
    for (let attempt = 1; ; attempt++) {
      sink?.begin();
      const messages = (await this.request(type, NLM_F.DUMP, params, context, sink?.add)) ?? [];
      if (!(messages as { interrupted?: boolean }).interrupted) return messages;
      debug('%s: dump interrupted by concurrent changes (NLM_F_DUMP_INTR), attempt %d of %d', context.operation, attempt, DUMP_ATTEMPTS);
      if (attempt === DUMP_ATTEMPTS) {
        throw toNetlinkError(
          {
            errno: -EINTR,
            code: 'EINTR',
            syscall: context.operation,
            description: 'Interrupted system call',
            extack: `the dump was interrupted by concurrent changes ${DUMP_ATTEMPTS} times in a row (NLM_F_DUMP_INTR)`,
          },
          context,
        );
      }
    }
  }

  /** Closes the socket at once (idempotent); outstanding requests reject with ECANCELED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.socket.close();
  }

  /**
   * Closes without leaving any caller in doubt: requests not yet handed to the kernel are
   * rejected with ECANCELED (they never happened); those the kernel already has are waited
   * for, so each settles with the kernel's own answer (200 bridges in flight: every promise
   * that resolves is a bridge that exists). Then the socket closes. Idempotent.
   */
  async drainAndClose(): Promise<void> {
    if (this.closed) return;
    if (!this.closing) {
      this.closing = true;
      this.socket.cancelUnsent();
    }
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    this.close();
  }

  /** True once close() or drainAndClose() began: no request is taken any more. */
  get isClosed(): boolean {
    return this.closing || this.closed;
  }

  private flush(): void {
    this.scheduled = false;
    this.names.clear();
    if (!this.closing && !this.closed) this.socket.flush(true);
  }

  private translate(failure: unknown, context: RequestContext): Error {
    if (failure && typeof failure === 'object' && 'errno' in failure && 'code' in failure && !(failure instanceof Error)) {
      return toNetlinkError(failure as NativeNetlinkFailure, context);
    }
    if (failure instanceof Error && 'errno' in failure && 'code' in failure) {
      const f = failure as Error & { errno: number; code: string; syscall?: string };
      return toNetlinkError({ errno: f.errno, code: f.code, syscall: f.syscall ?? context.operation, description: f.message }, context);
    }
    return failure instanceof Error ? failure : new Error(String(failure));
  }
}
