/**
 * Bulk link deletion shared by every network of a namespace (group commit): the links that
 * concurrent destroy() calls hand in while a deletion runs go out together in the next one,
 * as one link-group deletion (Netlink.deleteLinks: unregister_netdevice_many, so the RCU grace
 * periods of all devices are shared). A bridge still costs one grace period (~16 ms) under
 * RTNL (bench/FINDINGS.md), so N destroys cost about the kernel's floor for N pairs instead
 * of ~55 ms a pair for per-link deletes.
 *
 * A batch is capped at `maxLinks` links: one group deletion holds RTNL for all its bridges,
 * and every other rtnetlink user of the host (our own creations, `ip`, other processes) waits
 * meanwhile; 256 links (128 pairs, ~2 s) costs one extra grace period per batch (<1 %).
 */
import type { LinkRef } from '../netlink/types.js';
import { NextMacrotaskRunner } from '../next-macrotask.js';

/** What the deleter needs of a netlink connection. */
export interface LinkDeletePort {
  deleteLink(link: LinkRef): Promise<void>;
  /** Bulk deletion; without it every link is deleted on its own. */
  deleteLinks?(links: LinkRef[]): Promise<void>;
}

interface Request {
  links: LinkRef[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Links per group deletion (see the file comment). */
export const MAX_LINKS_PER_DELETION = 256;

const isGone = (error: unknown): boolean => (error as { code?: unknown } | undefined)?.code === 'ENODEV';

/** Deletes the links of many callers in shared bulk deletions, one batch at a time. */
export class LinkDeleter {
  private pending: Request[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  // The destroys whose final RAs left in the same timer run, and whatever their microtasks
  // queue, join the first batch.
  private readonly runner = new NextMacrotaskRunner(
    () => this.drain(),
    () => this.pending.length > 0,
    () => {
      for (const done of this.idleWaiters.splice(0)) done();
    },
  );

  constructor(
    private readonly port: LinkDeletePort,
    private readonly maxLinks = MAX_LINKS_PER_DELETION,
  ) {}

  /**
   * Deletes `links` (in this order when they go one by one: a vxlan before its bridge).
   * Links already gone count as deleted. Rejects with the first other failure.
   */
  delete(links: LinkRef[]): Promise<void> {
    if (links.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ links, resolve, reject });
      this.runner.kick();
    });
  }

  /** Whether nothing is waiting or being deleted. */
  get idle(): boolean {
    return !this.runner.busy && this.pending.length === 0;
  }

  /** Resolves once nothing is waiting or being deleted. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes whole requests up to maxLinks links (at least one request). */
  private take(): Request[] {
    const batch: Request[] = [];
    let count = 0;
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (batch.length > 0 && count + next.links.length > this.maxLinks) break;
      batch.push(next);
      count += next.links.length;
      this.pending.shift();
    }
    return batch;
  }

  private async drain(): Promise<void> {
    const batch = this.take();
    if (batch.length === 0) return;
    const bulk = this.port.deleteLinks;
    if (bulk && batch.reduce((n, r) => n + r.links.length, 0) > 1) {
      try {
        await bulk.call(
          this.port,
          batch.flatMap((r) => r.links),
        );
        for (const r of batch) r.resolve();
        return;
      } catch {
        // A link of the batch may be gone already (deleteLinks resolves every name before it
        // changes anything) or be refused: each caller's links then go one by one, so every
        // caller gets its own outcome.
      }
    }
    await Promise.all(batch.map((r) => this.deleteEach(r)));
  }

  private async deleteEach(request: Request): Promise<void> {
    let failure: unknown;
    for (const link of request.links) {
      await this.port.deleteLink(link).catch((error: unknown) => {
        if (!isGone(error)) failure ??= error;
      });
    }
    if (failure === undefined) request.resolve();
    else request.reject(failure);
  }
}
