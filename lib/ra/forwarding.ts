/**
 * Whether a namespace forwards IPv6 (`net.ipv6.conf.all.forwarding`), kept current from the
 * kernel's netconf notifications (RTNLGRP_IPV6_NETCONF), not by polling. RFC 4861 §6.2.5 has a
 * system that does not forward advertise router lifetime 0, and radvd does so.
 *
 * A notification only says that something changed: the value is taken from a get issued after
 * it (RTM_GETNETCONF for NETCONFA_IFINDEX_ALL), the last one issued winning, so a reply and a
 * notification read in either order never leave a stale value. Opened only for advertisers
 * that follow forwarding: the kernel also announces every link created or deleted on that
 * group (one message each), a cost nobody else should pay.
 */
import { Connection } from '../netlink/connection.js';
import { AF, NETCONFA_IFINDEX, RTM, RTNLGRP } from '../netlink/constants.js';
import type { NativeNetns, NativeRtnlMessage } from '../native.js';

/** Hears the new value each time it changes. */
export type ForwardingListener = (forwarding: boolean) => void;

const isAll = (m: NativeRtnlMessage): boolean => m.msgType === RTM.NEWNETCONF && m.family === AF.INET6 && m.index === NETCONFA_IFINDEX.ALL;

/** The IPv6 forwarding setting of one namespace, as the kernel reports it. */
export class ForwardingWatch {
  private value: boolean | undefined;
  private readonly listeners = new Set<ForwardingListener>();
  private readonly connection: Connection;
  /** The last get issued: only its answer is taken. */
  private asked = 0;
  private closed = false;
  private readonly known: Promise<void>;
  private resolveKnown!: () => void;

  /**
   * @param netns the namespace (already resolved: path, fd or undefined for ours)
   * @param onError a get failed (the value stays what it was)
   */
  constructor(
    netns: NativeNetns,
    private readonly onError: (error: Error) => void,
  ) {
    this.known = new Promise((resolve) => {
      this.resolveKnown = resolve;
    });
    this.connection = new Connection(netns, [RTNLGRP.IPV6_NETCONF], (messages) => {
      // null: the queue overflowed and notifications were lost, so ask as after a change.
      if (messages === null || messages.some(isAll)) this.ask();
    });
    this.ask();
  }

  /** Whether the namespace forwards; undefined until the first answer. */
  get forwarding(): boolean | undefined {
    return this.value;
  }

  /** Resolves once the value is known (at once if it is). */
  ready(): Promise<void> {
    return this.known;
  }

  /** Hears each change (returns the unsubscribe function). */
  onChange(listener: ForwardingListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private ask(): void {
    if (this.closed) return;
    const turn = ++this.asked;
    this.connection.request(RTM.GETNETCONF, 0, { family: AF.INET6, index: NETCONFA_IFINDEX.ALL }, { operation: 'netconf' }).then(
      (messages) => {
        const all = messages?.find(isAll);
        if (this.closed || turn !== this.asked || typeof all?.forwarding !== 'number') return;
        this.set(all.forwarding !== 0);
      },
      (error: unknown) => {
        if (!this.closed) this.onError(error as Error);
      },
    );
  }

  private set(forwarding: boolean): void {
    const changed = this.value !== undefined && this.value !== forwarding;
    this.value = forwarding;
    this.resolveKnown();
    if (changed) for (const listener of [...this.listeners]) listener(forwarding);
  }

  /** Stops watching (idempotent); `ready()` never resolves after a close that came first. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.connection.close();
  }
}
