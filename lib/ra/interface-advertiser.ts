/**
 * One interface's router advertisement state: RFC 4861 §6.2.4 (unsolicited RAs at random
 * intervals in [MinRtrAdvInterval, MaxRtrAdvInterval], the first MAX_INITIAL_RTR_ADVERTISEMENTS
 * at most MAX_INITIAL_RTR_ADVERT_INTERVAL apart), §6.2.5 (final RAs with router lifetime 0),
 * §6.2.6 (solicited replies after a random 0–MAX_RA_DELAY_TIME, multicast RAs never closer
 * than MIN_DELAY_BETWEEN_RAS), with the encoded RA cached until the config or link changes.
 *
 * It knows nothing of sockets or netlink: the host gives it a timer queue and a transmit
 * function, and tells it when its link is ready (setLink) or gone (setLink(undefined)).
 */
import { bytesToIPv6, ipv6ToBytes } from '../validate.js';
import { buildAdvertisements, ipv6Packet, type Withdrawn } from './codec.js';
import type { ResolvedInterfaceConfig, ResolvedPrefix } from './config.js';
import { ALL_NODES, INFINITE_LIFETIME, MAX_INITIAL_RTR_ADVERT_INTERVAL, MAX_INITIAL_RTR_ADVERTISEMENTS, MAX_RA_DELAY_TIME } from './constants.js';
import { validateRouterSolicitation, type RsDropReason } from './rs.js';
import type { FrameSender } from './frame-batch.js';
import { TimerEntry, type TimerQueue } from './timer-queue.js';
import type { RaInterfaceStats } from './types.js';

/** An interface ready to advertise on: it exists, is up with carrier, and has a usable link-local address. */
export interface LinkInfo {
  index: number;
  name: string;
  mac: string | undefined;
  mtu: number;
  /** A non-tentative fe80::/10 address of the interface, the RAs' source (RFC 4861 §4.2). */
  linkLocal: string;
  /**
   * The interface's other IPv6 addresses' prefixes (`2001:db8::/64`, host bits cleared), with
   * their lifetimes: what radvd's `prefix ::/64` advertises. Absent when there are none.
   */
  prefixes?: OwnPrefix[];
  /**
   * The namespace does not forward IPv6 and the config follows forwarding: RAs carry router
   * lifetime 0 (RFC 4861 §6.2.5), the rest as configured.
   */
  notForwarding?: boolean;
}

/** A prefix of one of the interface's own addresses. */
export interface OwnPrefix {
  address: string;
  length: number;
  /** Seconds; undefined = forever. */
  validLifetime?: number | undefined;
  preferredLifetime?: number | undefined;
}

/** Whether two lists of own prefixes are the same. */
export function samePrefixes(a: OwnPrefix[] | undefined, b: OwnPrefix[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return (
    x.length === y.length &&
    x.every((p, i) => {
      const q = y[i]!;
      return p.address === q.address && p.length === q.length && p.validLifetime === q.validLifetime && p.preferredLifetime === q.preferredLifetime;
    })
  );
}

/** What an interface advertiser needs from its owner. */
export interface AdvertiserHost {
  /** The shared scheduler (and its clock). */
  readonly queue: TimerQueue;
  /** Sends one ICMPv6 message; 0 or a positive errno. */
  transmit(index: number, source: Buffer, destination: Buffer, message: Buffer): number;
  /** Called after each RA message sent, when someone listens. */
  readonly onSent: ((iface: InterfaceAdvertiser, destination: Buffer, solicited: boolean, final: boolean, bytes: number) => void) | undefined;
  /** Called for each solicitation, when someone listens. */
  readonly onReceived: ((iface: InterfaceAdvertiser, source: Buffer, hopLimit: number, reason: RsDropReason | undefined) => void) | undefined;
  /**
   * Queues a whole IPv6 packet to ff02::1's MAC for the tick's batch, bypassing the route
   * lookup (see ./frame-batch.ts, native/icmp6.cc); used for multicast RAs on interfaces with
   * a MAC. The outcome comes back through `sender.frameSent`.
   */
  readonly queueFrame?: ((sender: FrameSender, index: number, packet: Buffer, final: boolean, solicited: boolean) => void) | undefined;
  /**
   * Asked before an unsolicited RA that goes through the raw socket (`transmit`): undefined
   * to send it now, or, once this macrotask's send budget is spent (lib/time-slice.ts), a
   * promise that resolves at its turn in a later macrotask. Absent: always now.
   */
  readonly rawSendTurn?: (() => Promise<void> | undefined) | undefined;
  /** A send failed. */
  onSendError(iface: InterfaceAdvertiser, errno: number): void;
  /**
   * The kernel refused the source address (EINVAL/EADDRNOTAVAIL): it went tentative again
   * without a notification (DAD restarts when a link regains carrier). The owner should treat
   * the interface as not ready until its next address event.
   */
  onSourceUnusable(iface: InterfaceAdvertiser): void;
}

const EINVAL = 22;
const EADDRNOTAVAIL = 99;

const ALL_NODES_BYTES = ipv6ToBytes(ALL_NODES);
/** Unicast replies waiting at once per interface; more solicitations are answered by one multicast RA. */
const MAX_PENDING_UNICAST = 16;
const S = 1000;
/**
 * The client keys of an interface without a clients (or ignored clients) list, shared: a
 * process serving thousands of bridges would otherwise hold two empty Sets per interface
 * (~300 bytes; heap snapshot at 1,024 networks).
 */
const NO_KEYS: ReadonlySet<string> = new Set<string>();
/** The clients of an interface without a clients list, shared likewise (frozen). */
const NO_CLIENTS: readonly Buffer[] = Object.freeze([]);

function isUnspecified(address: Buffer): boolean {
  for (let i = 0; i < 16; i++) if (address[i] !== 0) return false;
  return true;
}

/** radvd's `prefix ::/64`: the prefix field all zero stands for the interface's own prefixes. */
function isAutomatic(p: ResolvedPrefix): boolean {
  return p.address === '::';
}

function emptyWithdrawn(): Withdrawn {
  return { prefixes: [], routes: [], rdnss: [], dnssl: [], pref64: [] };
}

/** What `next` no longer has of `previous` (and what was already being withdrawn and was not re-added). */
export function withdrawnItems(previous: ResolvedInterfaceConfig, next: ResolvedInterfaceConfig, already?: Withdrawn): Withdrawn {
  const key = (p: { address: string; length: number }): string => `${p.address}/${p.length}`;
  const out = emptyWithdrawn();
  const keep = <T extends { address: string; length: number }>(old: T[], now: T[], was: T[] = []): T[] => {
    const present = new Set(now.map(key));
    const seen = new Set<string>();
    return [...old, ...was].filter((p) => !present.has(key(p)) && !seen.has(key(p)) && seen.add(key(p)));
  };
  out.prefixes = keep(previous.prefixes, next.prefixes, already?.prefixes);
  out.routes = keep(previous.routes, next.routes, already?.routes);
  out.pref64 = keep(previous.pref64, next.pref64, already?.pref64);
  const servers = new Set(next.rdnss.flatMap((r) => r.servers));
  const goneServers = [...new Set([...previous.rdnss, ...(already?.rdnss ?? [])].flatMap((r) => r.servers))].filter((s) => !servers.has(s));
  if (goneServers.length > 0) out.rdnss = [{ servers: goneServers, lifetime: 0 }];
  const domains = new Set(next.dnssl.flatMap((d) => d.domains));
  const goneDomains = [...new Set([...previous.dnssl, ...(already?.dnssl ?? [])].flatMap((d) => d.domains))].filter((d) => !domains.has(d));
  if (goneDomains.length > 0) out.dnssl = [{ domains: goneDomains, lifetime: 0 }];
  return out;
}

function isEmpty(w: Withdrawn): boolean {
  return w.prefixes.length + w.routes.length + w.rdnss.length + w.dnssl.length + w.pref64.length === 0;
}

/** The RA state machine of one interface. */
export class InterfaceAdvertiser implements FrameSender {
  /** The interface while it is ready. */
  link: LinkInfo | undefined;
  private state: 'waiting' | 'serving' | 'stopped' = 'waiting';
  private readonly counters = {
    advertisementsSent: 0,
    multicastAdvertisementsSent: 0,
    unicastAdvertisementsSent: 0,
    finalAdvertisementsSent: 0,
    solicitationsReceived: 0,
    solicitationsDropped: 0,
    sendErrors: 0,
  };
  /** DecrementLifetimes: when each counting-down prefix was first advertised (ms, queue clock). */
  private prefixSince: Map<string, number> | undefined; // made by the first DecrementLifetimes prefix
  /** `clients` as 16-byte addresses (hex keys for the solicitation check). */
  private clients: readonly Buffer[] = NO_CLIENTS;
  private clientKeys: ReadonlySet<string> = NO_KEYS;
  private ignoredKeys: ReadonlySet<string> = NO_KEYS;
  private source: Buffer | undefined;
  private packets: Buffer[] | undefined;
  private finalPackets: Buffer[] | undefined;
  /** The same as whole IPv6 packets to ff02::1, for the packet-socket path. */
  private frames: Buffer[] | undefined;
  private finalFrames: Buffer[] | undefined;
  /** Unsolicited RAs sent since the interface became ready or the config changed. */
  private initialSent = 0;
  private lastMulticast = -Infinity;
  private solicitedPending = false;
  /** Made on the first unicast reply: most interfaces never need one. */
  private pendingUnicast: Map<string, Buffer> | undefined;
  private withdrawn: Withdrawn | undefined;
  private withdrawnLeft = 0;
  private finalLeft = 0;
  /** Final RAs queued for the packet socket whose outcome has not come back yet. */
  private finalFramesOut = 0;
  private stopping: Promise<void> | undefined;
  private finishStop: (() => void) | undefined;
  /** farewell(): the final RAs to send once ready, and who waits for them. */
  private farewellCount = 0;
  private farewellDone: (() => void) | undefined;
  /** Whether any prefix counts down (then RAs are built afresh each time); asked on every RA, so kept, not computed. */
  private decrementing = false;
  private readonly periodic = new TimerEntry(() => this.onPeriodic());
  /** Made when first scheduled: most interfaces never send a unicast or final RA (~110 B each). */
  private unicastEntry: TimerEntry | undefined;
  private finalEntry: TimerEntry | undefined;

  private get unicast(): TimerEntry {
    return (this.unicastEntry ??= new TimerEntry(() => this.onUnicast()));
  }

  private get finalTimer(): TimerEntry {
    return (this.finalEntry ??= new TimerEntry(() => this.onFinal()));
  }

  constructor(
    private configValue: ResolvedInterfaceConfig,
    private readonly host: AdvertiserHost,
  ) {
    this.indexConfig();
  }

  /** What the config implies that each RA asks: its clients as bytes and keys, DecrementLifetimes. */
  private indexConfig(): void {
    this.decrementing = this.configValue.prefixes.some((p) => p.decrementLifetimes === true);
    const clients = this.configValue.clients;
    this.clients = clients.length === 0 ? NO_CLIENTS : clients.map((a) => Buffer.from(ipv6ToBytes(a)));
    const ignored = this.configValue.ignoredClients;
    this.clientKeys = this.clients.length === 0 ? NO_KEYS : new Set(this.clients.map((b) => b.toString('hex')));
    this.ignoredKeys = ignored.length === 0 ? NO_KEYS : new Set(ignored.map((a) => Buffer.from(ipv6ToBytes(a)).toString('hex')));
  }

  /** MinDelayBetweenRAs in ms. */
  private get minDelay(): number {
    return this.configValue.minDelayBetweenRAs * S;
  }

  /** UnicastOnly without a clients list: nothing is ever sent unsolicited. */
  private get silent(): boolean {
    return this.configValue.unicastOnly && this.clients.length === 0;
  }

  /** Whether a `prefix ::/64` asks for the interface's own prefixes. */
  private get automatic(): boolean {
    return this.configValue.prefixes.some(isAutomatic);
  }

  /**
   * radvd's `prefix ::/64 { … }`: one prefix option per prefix of the interface's own
   * addresses (except the ignored ones), with the block's flags and lifetimes no longer than
   * the address's own.
   */
  private expand(prefixes: ResolvedPrefix[]): ResolvedPrefix[] {
    if (!prefixes.some(isAutomatic)) return prefixes;
    const ignored = new Set(this.configValue.autoIgnorePrefixes);
    const own = (this.link?.prefixes ?? []).filter((p) => !ignored.has(`${p.address}/${p.length}`));
    return prefixes.flatMap((p) =>
      !isAutomatic(p)
        ? [p]
        : own.map((o) => ({
            ...p,
            address: o.address,
            length: o.length,
            autonomous: p.autonomous && o.length === 64, // SLAAC needs a /64 (RFC 4862 §5.5.3 d)
            validLifetime: Math.min(p.validLifetime, o.validLifetime ?? INFINITE_LIFETIME),
            preferredLifetime: Math.min(p.preferredLifetime, o.preferredLifetime ?? INFINITE_LIFETIME, o.validLifetime ?? INFINITE_LIFETIME),
          })),
    );
  }

  /**
   * DecrementLifetimes (radvd): each counting-down prefix with its lifetimes reduced by the
   * whole seconds since it was first advertised; dropped once its preferred lifetime is 0.
   */
  private currentPrefixes(): ResolvedPrefix[] | undefined {
    if (!this.decrementing) return this.automatic ? this.expand(this.configValue.prefixes) : undefined;
    const now = this.now();
    const out: ResolvedPrefix[] = [];
    for (const p of this.expand(this.configValue.prefixes)) {
      if (p.decrementLifetimes !== true) {
        out.push(p);
        continue;
      }
      const key = `${p.address}/${p.length}`;
      this.prefixSince ??= new Map();
      const since = this.prefixSince.get(key) ?? now;
      this.prefixSince.set(key, since);
      const elapsed = Math.floor((now - since) / S);
      const down = (v: number): number => (v === INFINITE_LIFETIME ? v : Math.max(0, v - elapsed));
      const preferredLifetime = down(p.preferredLifetime);
      if (preferredLifetime === 0 && p.preferredLifetime !== 0) continue;
      out.push({ ...p, validLifetime: down(p.validLifetime), preferredLifetime });
    }
    return out;
  }

  /** The interface name. */
  get name(): string {
    return this.configValue.name;
  }

  /** The current configuration. */
  get config(): ResolvedInterfaceConfig {
    return this.configValue;
  }

  /** Counters and state. */
  stats(): RaInterfaceStats {
    return { name: this.name, index: this.link?.index, state: this.state, ...this.counters };
  }

  private get queue(): TimerQueue {
    return this.host.queue;
  }

  private now(): number {
    return this.queue.clock.now();
  }

  /** Uniform in [lo, hi] ms, shortened by the queue's rounding tick so the RA is not later than hi. */
  private uniform(lo: number, hi: number): number {
    const top = Math.max(lo, hi - this.queue.tick);
    return lo + this.queue.clock.random() * (top - lo);
  }

  /** The link became ready, changed, or went away (undefined). */
  setLink(link: LinkInfo | undefined): void {
    if (this.state === 'stopped') return;
    if (this.stopping && (!link || !this.link || link.index !== this.link.index)) {
      // Gone while sending final RAs: nothing more can be sent on it.
      this.goWaiting();
      this.finishStopping();
      return;
    }
    if (!link) {
      if (this.state === 'serving') this.goWaiting();
      this.finishStopping();
      return;
    }
    const previous = this.link;
    if (this.state === 'serving' && previous && previous.index !== link.index) this.goWaiting(); // recreated
    this.link = link;
    if (
      !previous ||
      previous.mac !== link.mac ||
      previous.mtu !== link.mtu ||
      previous.linkLocal !== link.linkLocal ||
      previous.notForwarding !== link.notForwarding ||
      !samePrefixes(previous.prefixes, link.prefixes)
    ) {
      this.invalidate();
      // A copy from the shared Buffer pool: kept while serving, one per interface (see ipv6Packet).
      this.source = Buffer.from(ipv6ToBytes(link.linkLocal));
    }
    if (this.state === 'waiting' && !this.stopping) {
      this.state = 'serving';
      if (this.farewellCount > 0) void this.stop(this.farewellCount).then(this.farewellDone);
      else this.restartInitial();
    }
  }

  /**
   * Final RAs only, for an interface another sender advertised (a router this process takes
   * down for it): as soon as the interface is ready, `count` final RAs (RFC 4861 §6.2.5, the
   * first at once), with no RA before them. Resolves when they are sent, or when abandon()
   * gives up waiting (stats().finalAdvertisementsSent tells which).
   */
  farewell(count: number): Promise<void> {
    if (this.state === 'serving') return this.stop(count);
    this.farewellCount = count;
    return new Promise<void>((resolve) => {
      this.farewellDone = resolve;
    });
  }

  private goWaiting(): void {
    this.state = 'waiting';
    this.link = undefined;
    this.queue.cancel(this.periodic);
    if (this.unicastEntry) this.queue.cancel(this.unicastEntry);
    if (this.finalEntry) this.queue.cancel(this.finalEntry);
    this.pendingUnicast?.clear();
    this.solicitedPending = false;
  }

  /** RFC 4861 §6.2.4: a fresh initial burst, the first RA after a random 0–500 ms. */
  private restartInitial(): void {
    this.initialSent = 0;
    if (this.silent) return;
    this.schedulePeriodicAt(this.now() + this.uniform(0, MAX_RA_DELAY_TIME * S), true);
  }

  /** Schedules the next multicast RA, never within MIN_DELAY_BETWEEN_RAS of the last one. */
  private schedulePeriodicAt(at: number, onlyIfSooner: boolean): void {
    const due = Math.max(at, this.lastMulticast + this.minDelay);
    if (onlyIfSooner && this.periodic.scheduled && this.periodic.due <= due) return;
    this.queue.scheduleAt(this.periodic, due);
  }

  private nextInterval(): number {
    const min = this.configValue.minInterval * S;
    const max = this.configValue.maxInterval * S;
    if (this.initialSent < MAX_INITIAL_RTR_ADVERTISEMENTS && max > MAX_INITIAL_RTR_ADVERT_INTERVAL * S) {
      // RFC 4861 §6.2.4: the first few RAs go out at most 16 s apart.
      const cap = MAX_INITIAL_RTR_ADVERT_INTERVAL * S;
      return this.uniform(Math.min(min, cap), cap);
    }
    return this.uniform(min, max);
  }

  private invalidate(): void {
    this.packets = undefined;
    this.finalPackets = undefined;
    this.frames = undefined;
    this.finalFrames = undefined;
  }

  private multicastFrames(final: boolean, source: Buffer): Buffer[] {
    const make = (): Buffer[] => this.build(final).map((m) => ipv6Packet(source, ALL_NODES_BYTES, m));
    if (this.decrementing) return make();
    if (final) return (this.finalFrames ??= make());
    return (this.frames ??= make());
  }

  private build(final: boolean): Buffer[] {
    const linkMtu = Math.min(this.link?.mtu ?? 1500, this.configValue.raMtu ?? Infinity);
    const config = this.link?.notForwarding === true ? { ...this.configValue, defaultLifetime: 0 } : this.configValue;
    const input = { config, mac: this.link?.mac, linkMtu, withdrawn: this.withdrawn, prefixes: this.currentPrefixes() };
    if (input.prefixes && this.decrementing) return buildAdvertisements(final ? { ...input, final: true, withdrawn: undefined } : input);
    if (final) return (this.finalPackets ??= buildAdvertisements({ ...input, final: true, withdrawn: undefined }));
    return (this.packets ??= buildAdvertisements(input));
  }

  private sendTo(destination: Buffer, solicited: boolean, final: boolean): void {
    const link = this.link;
    const source = this.source;
    if (!link || !source) return;
    const queueFrame = this.host.queueFrame;
    if (queueFrame !== undefined && this.viaPacketSocket(destination, final)) {
      for (const frame of this.multicastFrames(final, source)) {
        if (final) this.finalFramesOut += 1; // before: the outcome may come back at once
        queueFrame(this, link.index, frame, final, solicited);
      }
      return;
    }
    for (const message of this.build(final)) {
      if (!this.sent(this.host.transmit(link.index, source, destination, message), destination, solicited, final, message.length)) return;
    }
  }

  /**
   * Whether an RA to `destination` goes as a prebuilt frame through the packet socket (else
   * the raw socket). The first RA after the interface became ready takes the raw socket, whose
   * source check (EINVAL for a tentative address) catches a DAD the kernel restarted silently
   * when the link regained carrier; later multicast RAs take the packet socket, which checks
   * nothing.
   */
  private viaPacketSocket(destination: Buffer, final: boolean): boolean {
    return destination === ALL_NODES_BYTES && this.link?.mac !== undefined && this.host.queueFrame !== undefined && (final || this.initialSent > 0);
  }

  /** A queued frame's outcome (see FrameSender). */
  frameSent(errno: number, final: boolean, solicited: boolean, packetBytes: number): void {
    this.sent(errno, ALL_NODES_BYTES, solicited, final, packetBytes - 40);
    if (!final) {
      this.departed();
      return;
    }
    this.finalFramesOut -= 1;
    // The last final RA has left (or failed): stop() may resolve (see onFinal).
    if (this.finalFramesOut === 0 && this.finalLeft === 0) this.finishStopping();
  }

  /**
   * A multicast RA queued for the packet socket may leave macrotasks after its tick (the
   * batch slices its sends, ./frame-batch.ts), and RFC 4861's spacing (MinRtrAdvInterval,
   * §6.2.4; MIN_DELAY_BETWEEN_RAS, §6.2.6) is between RAs on the wire: the next one, scheduled
   * when this one was queued, moves by as much as this one was late (a backlog of a second
   * made 1.9 s intervals at 4,096 bridges). Only ever delays.
   */
  private departed(): void {
    const late = this.now() - this.lastMulticast;
    if (late < 1) return; // left within its tick's flush
    this.lastMulticast += late;
    if (this.periodic.scheduled) this.queue.scheduleAt(this.periodic, this.periodic.due + late);
  }

  /** Counts one message's outcome; false when the source address turned out unusable (stop sending). */
  private sent(errno: number, destination: Buffer, solicited: boolean, final: boolean, bytes: number): boolean {
    if (errno !== 0) {
      this.counters.sendErrors += 1;
      this.host.onSendError(this, errno);
      if (errno === EINVAL || errno === EADDRNOTAVAIL) {
        this.host.onSourceUnusable(this);
        return false;
      }
      return true;
    }
    this.counters.advertisementsSent += 1;
    if (destination === ALL_NODES_BYTES) this.counters.multicastAdvertisementsSent += 1;
    else this.counters.unicastAdvertisementsSent += 1;
    if (final) this.counters.finalAdvertisementsSent += 1;
    this.host.onSent?.(this, destination, solicited, final, bytes);
    return true;
  }

  /**
   * An unsolicited (or final) RA: to ff02::1, or by unicast to each of `clients` (radvd's
   * send_ra_forall), or to nobody with UnicastOnly and no clients.
   */
  private sendMulticast(solicited: boolean, final: boolean): void {
    this.lastMulticast = this.now();
    if (this.clients.length > 0) {
      for (const client of this.clients) {
        if (this.ignoredKeys.has(client.toString('hex'))) continue;
        this.sendTo(client, solicited, final);
        if (this.state !== 'serving') break;
      }
    } else if (!this.configValue.unicastOnly) {
      this.sendTo(ALL_NODES_BYTES, solicited, final);
    }
    if (!final && this.withdrawnLeft > 0) {
      this.withdrawnLeft -= 1;
      if (this.withdrawnLeft === 0) {
        this.withdrawn = undefined;
        this.packets = undefined;
        this.frames = undefined;
      }
    }
  }

  /** Whether the next unsolicited RA goes through the raw socket: to a clients list, or to ff02::1 not as a frame. */
  private get nextViaRawSocket(): boolean {
    if (this.clients.length > 0) return true; // unicast to each
    if (this.configValue.unicastOnly) return false; // sends nothing unsolicited
    return !this.viaPacketSocket(ALL_NODES_BYTES, false);
  }

  private onPeriodic(): void {
    if (this.state !== 'serving') return;
    // A raw send runs the kernel's route lookup right here (~1 ms at 4,096 interfaces while
    // links come and go): once the macrotask's budget is spent, an unsolicited RA waits for a
    // later one. A solicited one does not: its 500 ms deadline (RFC 4861 §6.2.6) matters more.
    if (!this.solicitedPending && this.nextViaRawSocket) {
      const turn = this.host.rawSendTurn?.();
      if (turn) {
        this.postpone(turn);
        return;
      }
    }
    this.sendPeriodic();
  }

  /**
   * Sends the due RA at `turn` instead, not counted as sent until then. The entry stays
   * scheduled a tick ahead, so whatever reschedules or cancels it meanwhile (a solicitation,
   * stop(), the link going) wins, and the tick sends it if it comes first; either way the
   * delay is a tick or so, far below the 16 s allowed between initial RAs (RFC 4861 §6.2.4).
   */
  private postpone(turn: Promise<void>): void {
    this.queue.scheduleAt(this.periodic, this.now() + Math.max(1, this.queue.tick));
    const seq = this.periodic.seq;
    void turn.then(() => {
      if (this.state !== 'serving' || !this.periodic.scheduled || this.periodic.seq !== seq) return;
      this.queue.cancel(this.periodic);
      this.sendPeriodic();
    });
  }

  private sendPeriodic(): void {
    const solicited = this.solicitedPending;
    this.solicitedPending = false;
    this.sendMulticast(solicited, false);
    if (this.state !== 'serving') return; // the send found the interface unusable
    if (this.initialSent < MAX_INITIAL_RTR_ADVERTISEMENTS) this.initialSent += 1;
    this.queue.scheduleAt(this.periodic, this.now() + this.nextInterval());
  }

  private onUnicast(): void {
    if (this.state !== 'serving' || !this.pendingUnicast) return;
    const destinations = [...this.pendingUnicast.values()];
    this.pendingUnicast.clear();
    for (const destination of destinations) {
      if (this.state !== 'serving') return;
      this.sendTo(destination, true, false);
    }
  }

  /**
   * A router solicitation arrived on this interface (RFC 4861 §6.2.6). Invalid ones are
   * counted and dropped; valid ones get a unicast reply after 0–500 ms, or a multicast RA
   * (when the source is ::, unicast replies are off, or too many are pending) no sooner than
   * 3 s after the previous multicast one.
   */
  solicit(source: Buffer, hopLimit: number, message: Uint8Array, truncated = false): void {
    this.counters.solicitationsReceived += 1;
    const unspecified = isUnspecified(source);
    const result = validateRouterSolicitation(message, hopLimit, unspecified, truncated);
    if (!result.valid) this.counters.solicitationsDropped += 1;
    this.host.onReceived?.(this, source, hopLimit, result.valid ? undefined : result.reason);
    if (!result.valid || this.state !== 'serving' || this.stopping) return;
    const delay = this.uniform(0, MAX_RA_DELAY_TIME * S);
    const key = source.toString('hex');
    // radvd's clients list: only listed hosts (or, with UnrestrictedUnicast, any but the
    // ignored ones) get an answer, always by unicast; UnicastOnly answers by unicast only.
    const restricted = this.clients.length > 0;
    if (restricted && (this.ignoredKeys.has(key) || (!this.clientKeys.has(key) && !this.configValue.unrestrictedUnicast))) return;
    const unicastOnly = restricted || this.configValue.unicastOnly;
    if (unicastOnly && unspecified) return; // no address to answer to, and no multicast allowed
    if (!unspecified && (unicastOnly || this.configValue.solicitedUnicast) && (this.pendingUnicast?.size ?? 0) < MAX_PENDING_UNICAST) {
      const pending = (this.pendingUnicast ??= new Map());
      if (!pending.has(key)) pending.set(key, Buffer.from(source));
      if (!this.unicast.scheduled) this.queue.schedule(this.unicast, delay);
      return;
    }
    if (unicastOnly) return; // too many pending replies: this one is dropped
    const now = this.now();
    let at = now + delay;
    if (this.lastMulticast + this.minDelay > at) at = this.lastMulticast + this.minDelay + delay;
    // A multicast RA already due by then answers this solicitation too.
    if (this.periodic.scheduled && this.periodic.due <= at) return;
    this.queue.scheduleAt(this.periodic, at);
    this.solicitedPending = true;
  }

  /**
   * A new configuration for the same interface. Removed prefixes, routes, RDNSS servers, DNSSL
   * domains and PREF64 prefixes are advertised with lifetime 0 in the next three RAs, which
   * follow the initial-burst rules (RFC 4861 §6.2.4 allows it when the config changes).
   */
  update(config: ResolvedInterfaceConfig): void {
    const withdrawn = withdrawnItems(this.configValue, config, this.withdrawn);
    this.withdrawn = isEmpty(withdrawn) ? undefined : withdrawn;
    this.withdrawnLeft = this.withdrawn ? MAX_INITIAL_RTR_ADVERTISEMENTS : 0;
    this.configValue = config;
    this.indexConfig();
    this.invalidate();
    if (this.state === 'serving' && !this.stopping) this.restartInitial();
  }

  /**
   * Stops advertising: up to `count` final RAs with router lifetime 0 (RFC 4861 §6.2.5), the
   * first at once, the others MIN_DELAY_BETWEEN_RAS apart, then nothing. Resolves when the last one is sent (at once
   * when the interface is not being served). Idempotent.
   */
  stop(count: number): Promise<void> {
    if (this.stopping) return this.stopping;
    this.queue.cancel(this.periodic);
    if (this.unicastEntry) this.queue.cancel(this.unicastEntry);
    this.pendingUnicast?.clear();
    if (this.state !== 'serving' || count <= 0 || !this.configValue.removeOnStop || this.silent) {
      this.state = 'stopped';
      this.stopping = Promise.resolve();
      return this.stopping;
    }
    this.finalLeft = count;
    this.stopping = new Promise<void>((resolve) => {
      this.finishStop = resolve;
    });
    // The first final RA at once (as radvd): the interface is about to go, and waiting out
    // MinDelayBetweenRAs after the last RA would make every removal take up to 3 s.
    this.queue.scheduleAt(this.finalTimer, this.now());
    return this.stopping;
  }

  /**
   * Sends one final RA; after the last, stop() resolves once it has left, since its callers
   * delete the bridge right after. A final RA queued for the packet socket may leave in a
   * later macrotask (./frame-batch.ts slices its sends), so the last one's outcome
   * (frameSent) resolves it, not this tick. Sending final RAs first and never deferring them
   * would be simpler but would keep the stall slicing removes: at destroy, thousands of final
   * RAs come due together (3.4 s of sends in 10 s at 4,096 networks).
   */
  private onFinal(): void {
    if (this.state !== 'serving') {
      this.finishStopping();
      return;
    }
    this.sendMulticast(false, true);
    if (this.state !== 'serving') return; // gone or unusable: finishStopping already ran
    this.finalLeft -= 1;
    if (this.finalLeft > 0) this.queue.schedule(this.finalTimer, this.minDelay);
    else if (this.finalFramesOut === 0) this.finishStopping(); // else frameSent does
  }

  private finishStopping(): void {
    if (!this.finishStop) return;
    const done = this.finishStop;
    this.finishStop = undefined;
    if (this.finalEntry) this.queue.cancel(this.finalEntry);
    this.state = 'stopped';
    this.link = undefined;
    done();
  }

  /** Drops every timer at once (the namespace is closing); no final RAs. */
  abandon(): void {
    this.goWaiting();
    this.state = 'stopped';
    this.finishStopping();
    this.farewellCount = 0;
    this.farewellDone?.();
  }

  /** The source address text of the RAs (for events). */
  sourceText(): string | undefined {
    return this.source ? bytesToIPv6(this.source) : undefined;
  }
}
