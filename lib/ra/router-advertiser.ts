/**
 * RouterAdvertiser: IPv6 router advertisements (RFC 4861 §6.2) from inside the host agent's
 * process, replacing radvd. Every advertiser in a namespace shares one raw ICMPv6 socket, one
 * netlink monitor and one timer queue (./namespace.ts); each interface has its own state
 * machine (./interface-advertiser.ts).
 *
 *     const ra = new RouterAdvertiser({ interfaces: [{ name: 'br100', minInterval: 3, maxInterval: 5,
 *       defaultLifetime: 3600, prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }] }] });
 *     await ra.start();
 *     ...
 *     await ra.stop();   // final RAs with router lifetime 0
 */
import { EventEmitter } from 'node:events';

import { abortable, checkSignal, hurried } from '../abort.js';
import { ERROR_CODES, VmplumbError } from '../errors.js';
import { resolveNetns } from '../netns.js';
import { sliceHasTime, timeSlice } from '../time-slice.js';
import { bytesToIPv6, checkIfname, checkInteger, checkObject, invalidValue } from '../validate.js';
import { checkUniqueNames, resolveInterfaceConfig, resolveOptions, type ResolvedInterfaceConfig } from './config.js';
import { InterfaceAdvertiser, type AdvertiserHost } from './interface-advertiser.js';
import { formatMetrics } from './metrics.js';
import { RaNamespace } from './namespace.js';
import { RaError } from './ra-error.js';
import type { RsDropReason } from './rs.js';
import type { TimerQueue } from './timer-queue.js';
import type { RaInterfaceConfig, RaInterfaceStats, RaReceivedEvent, RaSentEvent, RouterAdvertiserOptions } from './types.js';

/** Events of a RouterAdvertiser. */
export interface RouterAdvertiserEvents {
  /** An RA message went out. */
  sent: [event: RaSentEvent];
  /** A router solicitation arrived on a served interface (valid or not). */
  received: [event: RaReceivedEvent];
  /**
   * A send, membership or monitor failure. Emitted only when there is a listener (failures
   * are also counted in stats()), so a long-running agent is not brought down by a send
   * error on one bridge.
   */
  error: [error: RaError];
}

/** Interface configs by name (names are unique: resolveOptions checks). */
function byName(configs: ResolvedInterfaceConfig[]): Map<string, ResolvedInterfaceConfig> {
  return new Map(configs.map((c) => [c.name, c]));
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * Sends router advertisements on the configured interfaces of one namespace. Interfaces that
 * do not exist yet, have no carrier, or whose link-local address is still tentative are
 * waited for (netlink events) and served as soon as they are ready.
 */
export class RouterAdvertiser extends EventEmitter<RouterAdvertiserEvents> {
  private readonly netns: string | number | undefined;
  private readonly finalAdvertisements: number;
  /**
   * The configured interfaces by name, in the order configured. A Map, not an array copied on
   * each addInterface: a namespace's shared advertiser gets its bridges one by one, and 4,096
   * copies of a growing array were ~64 MB of garbage during a create burst.
   */
  private configs: Map<string, ResolvedInterfaceConfig>;
  private readonly interfaces = new Map<string, InterfaceAdvertiser>();
  /** Interfaces of farewell() calls in progress (abandoned when the advertiser stops). */
  private readonly farewells = new Set<InterfaceAdvertiser>();
  private namespace: RaNamespace | undefined;
  private unsubscribe: (() => void) | undefined;
  private state: State = 'new';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly host: AdvertiserHost;

  /** Validates everything (throws ERR_INVALID_ARG_* / ERR_OUT_OF_RANGE naming the field); sends nothing until start(). */
  constructor(options: RouterAdvertiserOptions) {
    super();
    const resolved = resolveOptions(options);
    this.netns = resolveNetns('options.netns', (options as { netns?: unknown }).netns);
    this.finalAdvertisements = resolved.finalAdvertisements;
    this.configs = byName(resolved.interfaces);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the host's getters read this advertiser's live state
    const self = this;
    this.host = {
      get queue(): TimerQueue {
        return self.namespace!.queue;
      },
      transmit: (index, source, destination, message) => self.namespace?.transmit(index, source, destination, message) ?? 9,
      queueFrame: (sender, index, packet, final, solicited) => {
        if (self.namespace) self.namespace.queueFrame(sender, index, packet, final, solicited);
        else sender.frameSent(9, final, solicited, packet.length); // EBADF: released
      },
      // Raw sends share the macrotask's budget with the frame batches and bulk creations.
      rawSendTurn: () => (sliceHasTime() ? undefined : timeSlice()),
      get onSent() {
        return self.listenerCount('sent') > 0 ? self.emitSent : undefined;
      },
      get onReceived() {
        return self.listenerCount('received') > 0 ? self.emitReceived : undefined;
      },
      onSendError: (iface, errno) => {
        if (self.listenerCount('error') > 0) self.emit('error', new RaError(errno, 'sendmsg', iface.name));
      },
      onSourceUnusable: (iface) => self.namespace?.suspend(iface),
    };
  }

  private readonly emitSent = (iface: InterfaceAdvertiser, destination: Buffer, solicited: boolean, final: boolean, bytes: number): void => {
    this.emit('sent', { interface: iface.name, index: iface.link?.index ?? 0, destination: bytesToIPv6(destination), solicited, final, bytes });
  };

  private readonly emitReceived = (iface: InterfaceAdvertiser, source: Buffer, hopLimit: number, reason: RsDropReason | undefined): void => {
    const event: RaReceivedEvent = { interface: iface.name, index: iface.link?.index ?? 0, source: bytesToIPv6(source), hopLimit, valid: reason === undefined };
    if (reason !== undefined) event.reason = reason;
    this.emit('received', event);
  };

  private report(error: RaError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /**
   * Opens (or shares) the namespace's ICMPv6 socket and netlink monitor and starts serving.
   * Resolves once listening, not once every interface is ready. Idempotent while running.
   * `{ signal }`: an already-aborted signal rejects and opens nothing; an abort while starting
   * stops the advertiser (no final RA) and rejects with `signal.reason` once it is released.
   */
  start(options: { signal?: AbortSignal } = {}): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = checkSignal('options.signal', checkObject('options', options).signal);
      signal?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.state === 'stopping' || this.state === 'stopped') {
      return Promise.reject(new VmplumbError(ERROR_CODES.INVALID_STATE, 'RouterAdvertiser: start() after stop()'));
    }
    this.starting ??= this.open();
    // Cancelled: nothing was advertised yet that a client relies on: release without final
    // RAs, and reject once released (the advertiser is then stopped).
    return abortable(this.starting, signal, () => {
      void this.stop({ final: false });
    }).catch(async (error: unknown) => {
      if (signal?.aborted) await this.stopping?.catch(() => undefined);
      throw error;
    });
  }

  private async open(): Promise<void> {
    this.state = 'starting';
    let ns: RaNamespace;
    try {
      ns = await RaNamespace.acquire(this.netns);
    } catch (error) {
      this.state = 'new';
      this.starting = undefined;
      throw error;
    }
    if (this.state !== 'starting') {
      // stopped while opening
      await ns.release();
      return;
    }
    // Refuse interfaces another advertiser in this namespace already serves, before serving any.
    const taken = [...this.configs.values()].find((c) => ns.serves(c.name));
    if (taken) {
      await ns.release();
      this.state = 'new';
      this.starting = undefined;
      throw invalidValue('options.interfaces[].name', 'an interface no other RouterAdvertiser in the namespace serves', taken.name);
    }
    this.namespace = ns;
    this.unsubscribe = ns.onError((error) => this.report(RaError.from(error)));
    for (const config of this.configs.values()) this.serve(config);
    this.state = 'running';
  }

  private serve(config: ResolvedInterfaceConfig): void {
    const iface = new InterfaceAdvertiser(config, this.host);
    this.interfaces.set(config.name, iface);
    this.namespace!.attach(iface, (errno, index) => this.report(new RaError(errno, 'setsockopt', config.name, `IPV6_ADD_MEMBERSHIP ff02::2 ifindex ${index}`)));
  }

  /** Final RAs (`finals` of them), then detach; `forget` drops its counters too (removal, not stop). */
  private async retire(iface: InterfaceAdvertiser, forget = true, finals = this.finalAdvertisements): Promise<void> {
    try {
      await iface.stop(finals);
    } finally {
      this.namespace?.detach(iface);
      if (forget && this.interfaces.get(iface.name) === iface) this.interfaces.delete(iface.name);
    }
  }

  /** Adds an interface (validated like the constructor's; the name must not be configured yet). */
  async addInterface(config: RaInterfaceConfig): Promise<void> {
    const resolved = resolveInterfaceConfig('config', config);
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new VmplumbError(ERROR_CODES.INVALID_STATE, 'RouterAdvertiser: addInterface() after stop()');
    }
    if (this.configs.has(resolved.name)) {
      throw invalidValue('config.name', 'an interface this advertiser does not serve yet', resolved.name);
    }
    if (this.starting) await this.starting;
    if (this.namespace?.serves(resolved.name)) {
      throw invalidValue('config.name', 'an interface no other RouterAdvertiser in the namespace serves', resolved.name);
    }
    if (this.configs.has(resolved.name)) {
      throw invalidValue('config.name', 'an interface this advertiser does not serve yet', resolved.name);
    }
    this.configs.set(resolved.name, resolved);
    if (this.state === 'running') this.serve(resolved);
  }

  /**
   * Removes an interface: its final RAs (router lifetime 0, RFC 4861 §6.2.5) go out, then it
   * is forgotten. Resolves when they are sent. An unknown name is a no-op. With
   * `{ final: false }` no final RA goes out: a handover to another sender (an agent restart),
   * where clients must keep their default route (lifetime 0 is for a router that goes away).
   */
  async removeInterface(name: string, options: { final?: boolean } = {}): Promise<void> {
    checkIfname('name', name);
    this.configs.delete(name);
    const iface = this.interfaces.get(name);
    if (iface) await this.retire(iface, true, options.final === false ? 0 : this.finalAdvertisements);
  }

  /**
   * Applies a new configuration without a restart: new interfaces are served, missing ones
   * removed (final RAs), changed ones re-advertised at once (removed prefixes, routes, DNS
   * servers and domains go out with lifetime 0 first). `netns` cannot change. Validates
   * everything before changing anything; resolves when removed interfaces are done.
   */
  async update(options: RouterAdvertiserOptions): Promise<void> {
    const resolved = resolveOptions(options);
    if ((options as { netns?: unknown }).netns !== undefined && resolveNetns('options.netns', options.netns) !== this.netns) {
      throw invalidValue('options.netns', 'the namespace the advertiser was created for', options.netns);
    }
    checkUniqueNames('options.interfaces', resolved.interfaces);
    if (this.starting) await this.starting;
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new VmplumbError(ERROR_CODES.INVALID_STATE, 'RouterAdvertiser: update() after stop()');
    }
    const names = new Set(resolved.interfaces.map((c) => c.name));
    const added = resolved.interfaces.filter((c) => !this.configs.has(c.name));
    const taken = added.find((c) => this.namespace?.serves(c.name));
    if (taken) throw invalidValue('options.interfaces[].name', 'an interface no other RouterAdvertiser in the namespace serves', taken.name);
    const removed = [...this.configs.values()].filter((c) => !names.has(c.name));
    this.configs = byName(resolved.interfaces);
    for (const config of resolved.interfaces) {
      const iface = this.interfaces.get(config.name);
      if (iface) {
        iface.update(config);
        this.namespace?.refresh(iface);
      } else if (this.state === 'running') this.serve(config);
    }
    await Promise.all(
      removed
        .map((c) => this.interfaces.get(c.name))
        .filter((i) => i !== undefined)
        .map((i) => this.retire(i)),
    );
  }

  /**
   * Sends the final RAs (router lifetime 0, RFC 4861 §6.2.5; `finalAdvertisements` of them)
   * for an interface this advertiser does not serve, because another process advertised it
   * and this one takes the router down: as soon as the interface is ready, with no RA
   * before them. Resolves true once they went out, false when the interface was not ready
   * within `timeoutMs` (default 2000; nothing was sent). Needs a started advertiser.
   */
  async farewell(config: RaInterfaceConfig, options: { timeoutMs?: number } = {}): Promise<boolean> {
    const resolved = resolveInterfaceConfig('config', config);
    const o = checkObject('options', options);
    const timeoutMs = o.timeoutMs === undefined ? 2000 : checkInteger('options.timeoutMs', o.timeoutMs, 0, 600_000);
    if (this.starting) await this.starting;
    const ns = this.namespace;
    if (this.state !== 'running' || !ns) throw new VmplumbError(ERROR_CODES.INVALID_STATE, 'RouterAdvertiser: farewell() needs a started advertiser');
    if (this.configs.has(resolved.name) || ns.serves(resolved.name)) {
      throw invalidValue('config.name', 'an interface no RouterAdvertiser in the namespace serves (remove it instead)', resolved.name);
    }
    const iface = new InterfaceAdvertiser(resolved, this.host);
    this.farewells.add(iface);
    let timer: NodeJS.Timeout | undefined;
    try {
      const done = iface.farewell(this.finalAdvertisements);
      ns.attach(iface, () => undefined); // its ff02::2 join does not matter: it answers no solicitation
      await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    } finally {
      clearTimeout(timer);
      iface.abandon();
      ns.detach(iface);
      this.farewells.delete(iface);
    }
    return iface.stats().finalAdvertisementsSent > 0;
  }

  /** Counters per configured interface. */
  stats(): RaInterfaceStats[] {
    return Array.from(
      this.configs.values(),
      (c) =>
        this.interfaces.get(c.name)?.stats() ?? {
          name: c.name,
          index: undefined,
          state: this.state === 'stopped' ? 'stopped' : 'waiting',
          advertisementsSent: 0,
          multicastAdvertisementsSent: 0,
          unicastAdvertisementsSent: 0,
          finalAdvertisementsSent: 0,
          solicitationsReceived: 0,
          solicitationsDropped: 0,
          sendErrors: 0,
        },
    );
  }

  /**
   * The counters of stats() in the Prometheus text format (METRICS_CONTENT_TYPE): RAs by
   * interface and destination (multicast, unicast), final RAs, solicitations received and
   * dropped, send errors, and whether each interface is served.
   */
  metrics(): string {
    return formatMetrics(this.stats());
  }

  /**
   * Stops: final RAs with router lifetime 0 and RDNSS/DNSSL lifetime 0 on every served
   * interface (`finalAdvertisements` of them, 3 s apart), then releases the socket.
   * Idempotent; resolves when done. `{ final: false }`: no final RA (a handover, see removeInterface).
   * `{ signal }`: an already-aborted signal rejects and changes nothing; an abort while final
   * RAs are due skips the rest, releases the socket and rejects with `signal.reason`.
   */
  stop(options: { final?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = checkSignal('options.signal', checkObject('options', options).signal);
      signal?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.stopping ??= this.close(options.final === false ? 0 : this.finalAdvertisements);
    // Cancelled: the final RAs still due are skipped and the socket released at once; the
    // rejection comes once that is done, so the advertiser is stopped when the caller hears.
    return hurried(this.stopping, signal, () => {
      for (const iface of this.interfaces.values()) iface.abandon();
    });
  }

  private async close(finals: number): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    this.state = 'stopping';
    for (const iface of this.farewells) iface.abandon();
    try {
      await Promise.all([...this.interfaces.values()].map((i) => this.retire(i, false, finals)));
    } finally {
      this.unsubscribe?.();
      const ns = this.namespace;
      this.namespace = undefined;
      this.state = 'stopped';
      await ns?.release();
    }
  }

  /** `await using ra = new RouterAdvertiser(…)` stops it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
