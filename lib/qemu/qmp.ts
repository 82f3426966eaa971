/**
 * A QMP client (QEMU Machine Protocol, docs/interop/qmp-spec.rst): one JSON object per line,
 * a greeting, capabilities negotiation, then commands whose replies carry the `id` we sent,
 * with asynchronous events interleaved.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

import { abortable, checkSignal, throwIfAborted } from '../abort.js';
import { ERROR_CODES, VmplumbError } from '../errors.js';

/** The greeting qemu sends first. */
export interface QmpGreeting {
  /** The greeting's body (qemu-qmp-ref: "Server greeting"). */
  QMP: {
    /** The qemu version. */
    version: {
      /** Version numbers: 9.2.0 is `{ major: 9, minor: 2, micro: 0 }`. */
      qemu: {
        /** Major version. */
        major: number;
        /** Minor version. */
        minor: number;
        /** Micro (patch) version. */
        micro: number;
      };
      /** The distribution's package version string ('Debian 1:9.2.0+ds-1'), or ''. */
      package: string;
    };
    /** Optional QMP capabilities the server offers ('oob'); none is enabled by vmplumb. */
    capabilities: string[];
  };
}

/** An asynchronous event (SHUTDOWN, POWERDOWN, STOP, RESUME, DEVICE_DELETED, …). */
export interface QmpEvent {
  /** The event name ('SHUTDOWN'). */
  event: string;
  /** The event's data, as qemu-qmp-ref documents it per event ('SHUTDOWN': `{ guest, reason }`). */
  data?: Record<string, unknown>;
  /** When qemu emitted it (host wall clock). */
  timestamp: {
    /** Seconds since the Unix epoch. */
    seconds: number;
    /** Microseconds within that second. */
    microseconds: number;
  };
}

/** Options of {@link QmpClient.execute}. */
export interface ExecuteOptions {
  /** How long to wait for the reply; default 10000 ms. */
  timeoutMs?: number;
  /** File descriptors sent with the command (SCM_RIGHTS), for `getfd`/`add-fd`. */
  fds?: number[];
  /**
   * Stops waiting for the reply: the call rejects with `signal.reason` (qemu may still carry
   * the command out; a late reply is dropped).
   */
  signal?: AbortSignal;
}

/** The codes a {@link QmpError} carries. */
export type QmpErrorCode = typeof ERROR_CODES.QMP | typeof ERROR_CODES.TIMEOUT | typeof ERROR_CODES.CONNECTION_RESET;

/** An error reply from qemu: `class` ('GenericError', 'DeviceNotFound', …) and `desc`. */
export class QmpError extends VmplumbError<QmpErrorCode> {
  /** QMP's error class. */
  readonly class: string;
  /** The command that failed. */
  readonly command: string;
  /** 'ERR_QMP' for an error reply, 'ETIMEDOUT' for no reply in time, 'ECONNRESET' when QMP went away. */
  declare readonly code: QmpErrorCode;
  constructor(command: string, errorClass: string, desc: string, code: QmpErrorCode = ERROR_CODES.QMP) {
    super(code, `QMP ${command}: ${desc}`);
    this.name = 'QmpError';
    this.class = errorClass;
    this.command = command;
  }
}

/** Sends bytes with fds attached in one sendmsg; returns the bytes sent. */
export type SendWithFds = (data: Buffer, fds: number[]) => number;

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A QMP connection over a stream. Emits 'event' (QmpEvent) and 'close'.
 * Call {@link QmpClient.negotiate} once before `execute`.
 */
export class QmpClient extends EventEmitter {
  #stream: Duplex;
  #sendWithFds: SendWithFds | undefined;
  #buffer = '';
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #greeting: QmpGreeting | undefined;
  #greetingWaiters: Array<{ resolve: (g: QmpGreeting) => void; reject: (e: Error) => void }> = [];
  #closed = false;
  #closeReason = 'QMP connection closed';

  constructor(stream: Duplex, options: { sendWithFds?: SendWithFds } = {}) {
    super();
    this.#stream = stream;
    this.#sendWithFds = options.sendWithFds;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.#onData(chunk));
    stream.on('error', () => {
      /* reported as 'close' to every waiter */
    });
    stream.on('close', () => this.#onClose());
  }

  /** The greeting, once received. */
  get greeting(): QmpGreeting | undefined {
    return this.#greeting;
  }

  /** True once the connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Leaves capabilities negotiation mode (qmp_capabilities) and resolves with the greeting.
   * The command is sent at once, not after the greeting: qemu reads it from the socket once
   * it has greeted, so a connection is ready after one wake-up of qemu instead of two (this
   * halves attach time on a busy host with hundreds of VMs).
   */
  async negotiate(timeoutMs = 10_000): Promise<QmpGreeting> {
    const reply = this.execute('qmp_capabilities', undefined, { timeoutMs });
    reply.catch(() => {
      /* reported below, after the greeting's own error if any */
    });
    const greeting = await this.#waitGreeting(timeoutMs);
    await reply;
    return greeting;
  }

  /**
   * Runs a command and resolves with its `return` value. Replies are matched by id, so
   * commands may overlap and events may arrive in between.
   *
   * @throws QmpError: an error reply (code 'ERR_QMP'), no reply within `timeoutMs`
   *   ('ETIMEDOUT': qemu hung), or the connection closed (ERROR_CODES.CONNECTION_RESET).
   */
  async execute<T = unknown>(command: string, args?: Record<string, unknown>, options: ExecuteOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const signal = checkSignal('options.signal', options.signal);
    throwIfAborted(signal);
    if (this.#closed) throw new QmpError(command, 'Closed', this.#closeReason, ERROR_CODES.CONNECTION_RESET);
    // The reply arrives from a socket callback; keep the caller's stack for the error.
    const caller = new Error();
    const withCaller = (error: Error): Error => {
      error.stack = `${error.name}: ${error.message}\n${(caller.stack ?? '').split('\n').slice(1).join('\n')}`;
      return error;
    };
    const id = this.#nextId++;
    const message = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
    const line = `${JSON.stringify(message)}\n`;
    const reply = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(withCaller(new QmpError(command, 'Timeout', `no reply within ${timeoutMs} ms (is qemu hung?)`, ERROR_CODES.TIMEOUT)));
      }, timeoutMs);
      this.#pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject: (e) => reject(withCaller(e)), timer });
    });
    try {
      if (options.fds && options.fds.length > 0) await this.#writeWithFds(Buffer.from(line), options.fds);
      else this.#stream.write(line);
    } catch (error) {
      const p = this.#pending.get(id);
      if (p) {
        clearTimeout(p.timer);
        this.#pending.delete(id);
      }
      throw error;
    }
    return abortable(reply, signal, () => {
      const p = this.#pending.get(id);
      if (p) {
        clearTimeout(p.timer);
        this.#pending.delete(id);
      }
    });
  }

  /** Closes the connection (idempotent); pending commands reject with ECONNRESET. */
  close(): void {
    this.#stream.destroy();
    this.#onClose();
  }

  /** `await using qmp = new QmpClient(…)`: close(). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  // The fds must ride on bytes of this command, so nothing may be queued in the stream ahead
  // of them: wait until the stream's own queue is empty, then one sendmsg on the same socket.
  async #writeWithFds(data: Buffer, fds: number[]): Promise<void> {
    if (!this.#sendWithFds) throw new VmplumbError(ERROR_CODES.UNSUPPORTED, 'this QMP connection cannot pass file descriptors');
    while (this.#stream.writableLength > 0) {
      await new Promise<void>((resolve) => this.#stream.once('drain', resolve));
      if (this.#closed) throw new QmpError('sendmsg', 'Closed', this.#closeReason, ERROR_CODES.CONNECTION_RESET);
    }
    const sent = this.#sendWithFds(data, fds);
    if (sent < data.length) this.#stream.write(data.subarray(sent));
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let nl: number;
    while ((nl = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line) this.#onMessage(line);
    }
  }

  #onMessage(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.emit('protocolError', new Error(`QMP: unparsable line ${JSON.stringify(line.slice(0, 200))}`));
      return;
    }
    if ('QMP' in message) {
      this.#greeting = message as unknown as QmpGreeting;
      for (const w of this.#greetingWaiters.splice(0)) w.resolve(this.#greeting);
      return;
    }
    if (typeof message.event === 'string') {
      this.emit('event', message as unknown as QmpEvent);
      return;
    }
    const id = message.id;
    const pending = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (!pending) return; // a reply to a command that already timed out
    this.#pending.delete(id as number);
    clearTimeout(pending.timer);
    if ('error' in message) {
      const e = message.error as { class?: string; desc?: string };
      pending.reject(new QmpError(pending.command, e.class ?? 'GenericError', e.desc ?? 'error'));
    } else {
      pending.resolve(message.return);
    }
  }

  #waitGreeting(timeoutMs: number): Promise<QmpGreeting> {
    if (this.#greeting) return Promise.resolve(this.#greeting);
    if (this.#closed) return Promise.reject(new QmpError('greeting', 'Closed', this.#closeReason, ERROR_CODES.CONNECTION_RESET));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new QmpError('greeting', 'Timeout', `no QMP greeting within ${timeoutMs} ms`, ERROR_CODES.TIMEOUT));
      }, timeoutMs);
      this.#greetingWaiters.push({
        resolve: (g) => {
          clearTimeout(timer);
          resolve(g);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#greetingWaiters.splice(0)) w.reject(new QmpError('greeting', 'Closed', this.#closeReason, ERROR_CODES.CONNECTION_RESET));
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(new QmpError(p.command, 'Closed', this.#closeReason, ERROR_CODES.CONNECTION_RESET));
    }
    this.emit('close');
  }
}
