/**
 * Group commit's scheduler: work handed in during one turn of the event loop (the caller's
 * macrotask and the microtasks it queues) runs together at the next macrotask, one run at a
 * time; what arrives while a run is on goes in the next run, started as soon as it settles.
 * lib/state/record-journal.ts (record files) and lib/network/link-deleter.ts (bulk link
 * deletions) batch with it.
 */
export class NextMacrotaskRunner {
  #running = false;
  #scheduled = false;

  /**
   * @param run - one run (takes what is pending; never rejects).
   * @param pending - whether work is waiting, asked when a run settles.
   * @param idle - called when a run settles with nothing waiting.
   */
  constructor(
    private readonly run: () => Promise<void>,
    private readonly pending: () => boolean,
    private readonly idle?: () => void,
  ) {}

  /** Whether a run is scheduled or on. */
  get busy(): boolean {
    return this.#running || this.#scheduled;
  }

  /** Asks for a run: at the next macrotask, or after the current run. */
  kick(): void {
    if (this.busy) return;
    this.#scheduled = true;
    // One macrotask of grace: what the rest of this turn hands in joins the run.
    setImmediate(() => {
      this.#scheduled = false;
      this.#running = true;
      void this.run().finally(() => {
        this.#running = false;
        if (this.pending()) this.kick();
        else this.idle?.();
      });
    });
  }
}
