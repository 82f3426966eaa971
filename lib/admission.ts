/**
 * A bound on how many bulk operations of one kind are under way at once, the rest waiting in
 * line (first come, first served). Thousands of concurrent VxlanNetwork.create() calls each
 * hold a few kilobytes of promises, closures and buffers while they wait for the kernel; with
 * all of them in flight, every young-generation collection copies megabytes of that state and
 * stops the event loop for tens of milliseconds (bench:scale, --trace-gc: scavenges of
 * 10–27 ms at 1,024 creations, 30–77 ms at 4,096). The kernel takes the links one at a time
 * under RTNL anyway, so a deep enough line keeps it busy with a fraction of the state alive.
 *
 * The line moves in waves: places freed one by one are handed out only once those under way
 * are down to the low-water mark, then all at once. Entrants that start together share the
 * run directory's record batches and the netlink request batches; let in one at a time as
 * others finish, 1,024 creations took 2.2 s instead of 1.5 s (bench/FINDINGS.md).
 */

/** Ends an admitted operation's turn. Idempotent. */
export type Leave = () => void;

/** At most `limit` holders at once; {@link Admission.enter} waits for a place. */
export class Admission {
  private active = 0;
  private readonly line: (() => void)[] = [];

  /**
   * @param limit How many operations may be under way at once (≥ 1).
   * @param lowWater Those waiting go on, up to `limit`, when the operations under way are
   *   down to this many (0 ≤ lowWater < limit).
   */
  constructor(
    readonly limit: number,
    readonly lowWater: number,
  ) {}

  /** Operations under way now. */
  get size(): number {
    return this.active;
  }

  /** Operations waiting for a place. */
  get waiting(): number {
    return this.line.length;
  }

  /**
   * Resolves with this operation's {@link Leave} once it may go on: at once while fewer than
   * `limit` are under way and nobody waits. With `signal`: rejects with its reason when it
   * fires first, leaving the line.
   */
  enter(signal?: AbortSignal): Promise<Leave> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.active < this.limit && this.line.length === 0) {
      this.active += 1;
      return Promise.resolve(this.leaver());
    }
    return new Promise<Leave>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.line.indexOf(admit);
        if (at >= 0) this.line.splice(at, 1);
        reject(signal?.reason as Error);
      };
      const admit = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.leaver());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(admit);
    });
  }

  private leaver(): Leave {
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.active -= 1;
      if (this.active > this.lowWater) return;
      while (this.active < this.limit && this.line.length > 0) {
        this.active += 1;
        this.line.shift()!();
      }
    };
  }
}
