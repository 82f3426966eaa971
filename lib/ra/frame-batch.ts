/**
 * The multicast RAs of one timer tick, sent together: queued as they are built, then handed
 * to the packet socket in one call (sendmmsg, native/icmp6.cc) once the tick's callbacks are
 * done, and each sender told its frame's outcome. At 4,096 bridges a tick carries ~100 RAs:
 * one N-API crossing and a system call or two instead of one each per RA.
 *
 * The flush is a microtask queued by the first frame: it runs before anything the same tick
 * resolved (a stop() waiting for its final RA), so a final RA has left when its waiter wakes.
 */
import type { NativeIcmp6Socket } from '../native.js';

const EBADF = 9;

/** Who is told the outcome of a queued frame. */
export interface FrameSender {
  /** The frame was sent (errno 0) or refused (a positive errno). */
  frameSent(errno: number, final: boolean, solicited: boolean, packetBytes: number): void;
}

/** A reusable batch of frames for one packet socket and one destination MAC. */
export class FrameBatch {
  private count = 0;
  private indexes = new Int32Array(64);
  private errnos = new Int32Array(64);
  private readonly packets: (Buffer | undefined)[] = [];
  private readonly senders: (FrameSender | undefined)[] = [];
  /** Bit 0: final, bit 1: solicited. */
  private flags = new Uint8Array(64);
  private flushing = false;

  /**
   * @param socket the namespace's socket, or undefined once it closed (frames then fail EBADF)
   * @param mac the link-layer destination of every frame (33:33:00:00:00:01 for ff02::1)
   */
  constructor(
    private readonly socket: () => NativeIcmp6Socket | undefined,
    private readonly mac: Buffer,
  ) {}

  /** Frames waiting for the flush. */
  get size(): number {
    return this.count;
  }

  /** Queues `packet` for interface `index`; `sender` hears the outcome after the flush. */
  queue(sender: FrameSender, index: number, packet: Buffer, final: boolean, solicited: boolean): void {
    if (this.count === this.indexes.length) this.grow();
    const i = this.count++;
    this.indexes[i] = index;
    this.packets[i] = packet;
    this.senders[i] = sender;
    this.flags[i] = (final ? 1 : 0) | (solicited ? 2 : 0);
    if (!this.flushing) {
      this.flushing = true;
      queueMicrotask(this.flush);
    }
  }

  private grow(): void {
    const size = this.indexes.length * 2;
    const grown = <T extends Int32Array | Uint8Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.indexes = grown(this.indexes, new Int32Array(size));
    this.errnos = new Int32Array(size);
    this.flags = grown(this.flags, new Uint8Array(size));
  }

  /** Sends what is queued and reports each outcome. */
  readonly flush = (): void => {
    this.flushing = false;
    const count = this.count;
    if (count === 0) return;
    const socket = this.socket();
    if (socket) socket.sendFrames(this.indexes, this.packets as Buffer[], count, this.mac, this.errnos);
    else this.errnos.fill(EBADF, 0, count);
    for (let i = 0; i < count; i++) {
      const sender = this.senders[i]!;
      const bytes = this.packets[i]!.length;
      this.senders[i] = undefined;
      this.packets[i] = undefined;
      sender.frameSent(this.errnos[i]!, (this.flags[i]! & 1) !== 0, (this.flags[i]! & 2) !== 0, bytes);
    }
    // Frames a callback queued meanwhile (none of ours does) move to the front for their own flush.
    const extra = this.count - count;
    this.indexes.copyWithin(0, count, this.count);
    this.flags.copyWithin(0, count, this.count);
    for (let i = 0; i < extra; i++) {
      this.packets[i] = this.packets[count + i];
      this.senders[i] = this.senders[count + i];
      this.packets[count + i] = undefined;
      this.senders[count + i] = undefined;
    }
    this.count = extra;
  };
}
