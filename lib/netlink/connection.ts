/**
 * One rtnetlink socket as the Netlink class uses it: requests queued in the same tick go out
 * together in one flush (one sendmsg per 256 KiB), failures become NetlinkErrors that point
 * at the caller's code, and slow requests are sent from the thread pool.
 *
 * Why the flush policy lives here: the kernel runs each request inside sendmsg(2) on the
 * calling thread. Creating a link costs a few hundred microseconds there, which is fine
 * inline for a few requests (and saves a thread hop on the hot path: create with master+up);
 * deleting a bridge waits for RCU grace periods (milliseconds to tens of ms), so deletions
 * and large batches go to the libuv pool and the event loop keeps running.
 */
import { NetlinkError } from '../errors.js';
import { native, type NativeNetlinkFailure, type NativeNetlinkSocket, type NativeNetns, type NativeRtnlMessage } from '../native.js';

/** At most this many cheap requests are sent inline (on the JS thread) in one flush. */
const INLINE_MAX = 16;

/** What a request is, for its error message: `createVxlan vxlan100: EEXIST: File exists`. */
export interface RequestContext {
  /** The API call ('createVxlan'). */
  operation: string;
  /** The object it is about ('vxlan100'). */
  object?: string | undefined;
  /** The kernel may take long (waits for RCU): send from the thread pool. */
  slow?: boolean;
  /** Captured where the user called us, so a rejection points at user code. */
  trace?: Error;
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

/** Captures the stack of the public call `fn` was called from (sharp's pattern). */
export function captureTrace(fn: (...args: never[]) => unknown): Error {
  const trace = new Error();
  Error.captureStackTrace(trace, fn);
  return trace;
}

/** A NETLINK_ROUTE socket with batching and error translation. */
export class Connection {
  readonly socket: NativeNetlinkSocket;
  private queued = 0;
  private slow = false;
  private scheduled = false;
  private closed = false;

  constructor(netns: NativeNetns, groups: number[] = [], onEvent?: (messages: NativeRtnlMessage[] | null, failure?: NativeNetlinkFailure) => void, receiveBuffer?: number) {
    this.socket = new native.NetlinkSocket(netns, groups, onEvent, receiveBuffer);
  }

  /** Resolves a link name to its index in this socket's namespace; 0 when absent. */
  ifIndex(name: string): number {
    return this.socket.ifIndex(name);
  }

  /** Queues a request; it goes out with everything else queued in this tick. */
  request(type: number, flags: number, params: object, context: RequestContext): Promise<NativeRtnlMessage[] | undefined> {
    let promise: Promise<NativeRtnlMessage[] | undefined>;
    try {
      promise = this.socket.request(type, flags, params);
    } catch (error) {
      return Promise.reject(this.translate(error, context));
    }
    this.queued += 1;
    if (context.slow) this.slow = true;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
    return promise.catch((failure: unknown) => {
      throw this.translate(failure, context);
    });
  }

  /** Closes the socket (idempotent); outstanding requests reject with ECANCELED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private flush(): void {
    const async = this.slow || this.queued > INLINE_MAX;
    this.scheduled = false;
    this.queued = 0;
    this.slow = false;
    if (!this.closed) this.socket.flush(async);
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
