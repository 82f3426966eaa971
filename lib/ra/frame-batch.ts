/**
 * The multicast RAs of one timer tick, sent together: queued as they are built, then handed
 * to the packet socket (sendmmsg, native/icmp6.cc) once the tick's callbacks are done, and
 * each sender told its frame's outcome. At 4,096 bridges a tick carries ~100 RAs: a few
 * N-API crossings and system calls instead of one each per RA.
 *
 * They go FRAMES_PER_CALL at a time, within the event loop's time slice (lib/time-slice.ts):
 * while links are created or deleted, the bridge floods each frame into its VXLAN port, whose
 * route lookup then walks one ff00::/8 route per interface of the namespace (~1 ms a frame at
 * 4,096), so one call for a whole tick stalled the loop for up to 500 ms (bench:scale,
 * --cpu-prof). Once the slice is spent, the rest go on in a later macrotask (setImmediate),
 * ahead of frames queued meanwhile, so timers and I/O run in between.
 *
 * The flush is a microtask queued by the first frame, so a frame MAY leave before anything the
 * same tick resolved, but need not: whoever must know that a frame has left (stop() waiting
 * for its final RA before the bridge is deleted) waits for its outcome (frameSent).
 */
import type { NativeIcmp6Socket } from '../native.js';
import { sliceHasTime } from '../time-slice.js';

const EBADF = 9;
/**
 * Frames per sendFrames call: the clock is read between calls, so a macrotask runs at most a
 * slice plus this many frames' sends (8 ms + ~8 ms at 4,096 networks, under the 20 ms bound).
 */
export const FRAMES_PER_CALL = 8;

/** Who is told the outcome of a queued frame. */
export interface FrameSender {
  /** The frame was sent (errno 0) or refused (a positive errno). */
  frameSent(errno: number, final: boolean, solicited: boolean, packetBytes: number): void;
}

/** A reusable batch of frames for one packet socket and one destination MAC. */
export class FrameBatch {
  /** Frames [head, count) wait, oldest first. */
  private head = 0;
  private count = 0;
  private indexes = new Int32Array(64);
  private errnos = new Int32Array(64);
  private readonly packets: (Buffer | undefined)[] = [];
  private readonly senders: (FrameSender | undefined)[] = [];
  /** Bit 0: final, bit 1: solicited. */
  private flags = new Uint8Array(64);
  /** A flush is queued (this tick's microtask or a remainder's immediate) or running. */
  private flushing = false;
  /** The immediate that sends the remainder of a flush that ran out of slice. */
  private remainder: NodeJS.Immediate | undefined;

  /**
   * @param socket the namespace's socket, or undefined once it closed (frames then fail EBADF)
   * @param mac the link-layer destination of every frame (33:33:00:00:00:01 for ff02::1)
   */
  constructor(
    private readonly socket: () => NativeIcmp6Socket | undefined,
    private readonly mac: Buffer,
  ) {}

  /** Frames waiting to be sent (this tick's, and a remainder left for a later macrotask). */
  get size(): number {
    return this.count - this.head;
  }

  /** Queues `packet` for interface `index`, after every frame already waiting; `sender` hears the outcome once it is sent. */
  queue(sender: FrameSender, index: number, packet: Buffer, final: boolean, solicited: boolean): void {
    if (this.count === this.indexes.length) this.grow();
    const i = this.count++;
    this.indexes[i] = index;
    this.packets[i] = packet;
    this.senders[i] = sender;
    this.flags[i] = (final ? 1 : 0) | (solicited ? 2 : 0);
    if (!this.flushing) {
      this.flushing = true;
      queueMicrotask(this.flushTick);
    }
  }

  /** Makes room: moves the waiting frames to the front, or doubles the arrays when they fill them. */
  private grow(): void {
    const waiting = this.count - this.head;
    const size = waiting * 2 > this.indexes.length ? this.indexes.length * 2 : this.indexes.length;
    const moved = <T extends Int32Array | Uint8Array>(old: T, fresh: T): T => {
      fresh.set(old.subarray(this.head, this.count));
      return fresh;
    };
    this.indexes = moved(this.indexes, new Int32Array(size));
    this.flags = moved(this.flags, new Uint8Array(size));
    if (this.errnos.length !== size) this.errnos = new Int32Array(size);
    this.packets.copyWithin(0, this.head, this.count).fill(undefined, waiting);
    this.senders.copyWithin(0, this.head, this.count).fill(undefined, waiting);
    this.head = 0;
    this.count = waiting;
  }

  /** This tick's flush: not even its first chunk when the slice is already spent. */
  private readonly flushTick = (): void => this.send(false);

  /** A remainder's flush: its first chunk goes whatever else this macrotask ran, so the batch always gets on. */
  private readonly flushRemainder = (): void => {
    this.remainder = undefined;
    this.send(true);
  };

  /** Sends waiting frames a chunk at a time while the slice lasts, reporting each outcome; leaves the rest for a later macrotask. */
  private send(firstChunk: boolean): void {
    this.flushing = true; // frames a callback queues meanwhile join this loop, not a flush of their own
    let sure = firstChunk;
    while (this.head < this.count) {
      const socket = this.socket();
      // Nothing to send once the socket is gone: no time spent, so no slicing. Asked even
      // before a chunk that goes anyway, so that its time counts against the slice it opens.
      const hasTime = socket === undefined || sliceHasTime();
      if (!hasTime && !sure) {
        this.remainder = setImmediate(this.flushRemainder);
        return;
      }
      sure = false;
      const from = this.head;
      const end = socket ? Math.min(from + FRAMES_PER_CALL, this.count) : this.count;
      // The chunk's own copies: a sender's callback may queue frames, which can move the arrays.
      const packets = this.packets.slice(from, end) as Buffer[];
      const senders = this.senders.slice(from, end) as FrameSender[];
      const flags = this.flags.slice(from, end);
      if (socket) socket.sendFrames(this.indexes.subarray(from), packets, end - from, this.mac, this.errnos.subarray(from));
      else this.errnos.fill(EBADF, from, end);
      const errnos = this.errnos.slice(from, end);
      this.packets.fill(undefined, from, end);
      this.senders.fill(undefined, from, end);
      this.head = end;
      for (let i = 0; i < senders.length; i++) {
        senders[i]!.frameSent(errnos[i]!, (flags[i]! & 1) !== 0, (flags[i]! & 2) !== 0, packets[i]!.length);
      }
    }
    this.head = 0;
    this.count = 0;
    this.flushing = false;
  }

  /**
   * The socket has closed (call it once `socket()` returns undefined): a remainder still
   * waiting fails EBADF now, and no immediate is left to keep the process alive.
   */
  close(): void {
    if (this.remainder) clearImmediate(this.remainder);
    this.remainder = undefined;
    this.send(true);
  }
}
