/**
 * RFC 4861 timing of a sample of served bridges, as clients see it (bench:scale's check that
 * serving thousands of bridges keeps every bridge's timing): each sampled bridge gets a veth
 * port whose other end is in a client namespace, where dumpcap records the router
 * solicitations and advertisements on it. From the capture:
 *
 * - the intervals between a bridge's unsolicited RAs (to ff02::1), which must lie between
 *   MinRtrAdvInterval and MaxRtrAdvInterval (§6.2.4; the sender's 100 ms tick may add a little);
 * - every RA's hop limit (255, §4.2) and source (link-local, §6.1.2);
 * - solicited replies: rdisc6 solicits on each client interface in turn, and the time from
 *   its RS to the next RA on the same interface, both seen by the same capture, must stay
 *   under MAX_RA_DELAY_TIME (500 ms, §6.2.6).
 *
 * The clients do not solicit on their own (router_solicitations 0), so the unsolicited
 * intervals are the sender's schedule.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { until } from '../../test/helpers/poll.js';
import { parsePcap, type CapturedPacket } from '../../test/helpers/ra-pcap.js';
import { runCommand } from '../run.js';

const ND_ROUTER_SOLICIT = 133;
const ND_ROUTER_ADVERT = 134;
const ALL_NODES = 'ff02::1';

/** What the sample saw. */
export interface RaSampleReport {
  /** Bridges sampled. */
  bridges: string[];
  /** Intervals between consecutive unsolicited RAs of one bridge, all bridges, in ms. */
  intervals: { count: number; minMs: number; medianMs: number; maxMs: number; outside: number };
  /** RAs captured whose hop limit was not 255 or whose source was not link-local. */
  malformed: number;
  /** Solicited replies: rdisc6's RS to the next RA, in ms; `unanswered` RSs saw none within 1 s. */
  solicited: { count: number; medianMs: number; maxMs: number; over500: number; unanswered: number };
}

/** One dumpcap on one client interface, writing libpcap to a pipe. */
class Dumpcap {
  private data = Buffer.alloc(0);
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;
  readonly ready: Promise<void>;

  constructor(netns: string, dev: string) {
    this.child = spawn('ip', ['netns', 'exec', netns, 'dumpcap', '-q', '-i', dev, '-f', 'icmp6 and (ip6[40] == 133 or ip6[40] == 134)', '-P', '-w', '-'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
    });
    let stderr = '';
    this.ready = new Promise((resolve, reject) => {
      this.child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('Capturing on')) resolve();
      });
      this.child.on('close', (code, signal) => reject(new Error(`dumpcap on ${dev} exited (${signal ?? code}): ${stderr.trim()}`)));
    });
    // Awaited by start(), but a capture stopped before it was ready (start() failed on
    // another interface, close() stops them all) must not be an unhandled rejection, which
    // ends the process before the namespaces are removed.
    this.ready.catch(() => undefined);
    this.closed = new Promise((resolve) => this.child.on('close', () => resolve()));
  }

  packets(): CapturedPacket[] {
    return parsePcap(this.data).filter((p) => p.nextHeader === 58);
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.closed;
  }
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * A sample of bridges of `netns` with clients attached. `start()` adds the ports and starts
 * the captures; `finish()` solicits, stops the captures and reports; `close()` removes the
 * client namespace and the ports (idempotent, also after a failure).
 */
export class RaSample {
  readonly client = `vmpscale-client-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly captures: Dumpcap[] = [];
  private readonly ports: string[] = [];
  /** The link-local address of each client interface: its solicitations come from it. */
  private readonly clientAddresses: string[] = [];
  private madeClient = false;

  /**
   * @param netns the namespace of the bridges.
   * @param bridges the bridges to sample.
   * @param interval MinRtrAdvInterval and MaxRtrAdvInterval of the bridges, in seconds.
   */
  constructor(
    private readonly netns: string,
    readonly bridges: readonly string[],
    private readonly interval: { min: number; max: number },
  ) {}

  /** Attaches a client to every sampled bridge and starts capturing on it. */
  async start(): Promise<void> {
    await runCommand('ip', ['netns', 'add', this.client]);
    this.madeClient = true;
    const sysctl = (key: string): Promise<string> => runCommand('ip', ['netns', 'exec', this.client, 'sysctl', '-qw', key]);
    // rdisc6 sends from the link-local address at once: no DAD; and no RSs of the kernel's own.
    await sysctl('net.ipv6.conf.default.accept_dad=0');
    await sysctl('net.ipv6.conf.default.router_solicitations=0');
    const batch: string[] = [];
    for (const [i, bridge] of this.bridges.entries()) {
      batch.push(`link add vmpsp${i} type veth peer name vmpsc${i} netns ${this.client}`, `link set vmpsp${i} master ${bridge} up`);
      this.ports.push(`vmpsp${i}`);
    }
    await runBatch(this.netns, batch);
    await runBatch(
      this.client,
      this.bridges.map((_, i) => `link set vmpsc${i} up`),
    );
    // The kernel adds each link-local address after the link is up (no DAD here), later when
    // it is busy with thousands of new bridges.
    const locals = await until(
      "the client interfaces' link-local addresses",
      async () => {
        const addresses = JSON.parse(await runCommand('ip', ['-n', this.client, '-j', '-6', 'address', 'show', 'scope', 'link'])) as {
          ifname: string;
          addr_info: { local: string }[];
        }[];
        const found = this.bridges.map((_, i) => addresses.find((a) => a.ifname === `vmpsc${i}`)?.addr_info[0]?.local);
        return found.every((a) => a !== undefined) && (found as string[]);
      },
      30_000,
    );
    for (const [i, local] of locals.entries()) {
      this.clientAddresses.push(local);
      this.captures.push(new Dumpcap(this.client, `vmpsc${i}`));
    }
    await Promise.all(this.captures.map((c) => c.ready));
  }

  /** Solicits `rounds` times on every client interface, stops the captures and reports. */
  async finish(rounds: number): Promise<RaSampleReport> {
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < this.bridges.length; i++) {
        // One solicitation, wait up to 1 s; a missing answer shows in the capture.
        await runCommand('ip', ['netns', 'exec', this.client, 'rdisc6', '-1', '-r', '1', '-w', '1000', `vmpsc${i}`]).catch(() => undefined);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 600));
    await Promise.all(this.captures.map((c) => c.stop()));
    return this.analyse();
  }

  private analyse(): RaSampleReport {
    const intervals: number[] = [];
    const latencies: number[] = [];
    let malformed = 0;
    let unanswered = 0;
    const minMs = this.interval.min * 1000;
    // The sender's timer ticks every 100 ms and a busy loop can add a little more.
    const maxMs = this.interval.max * 1000 + 250;
    let outside = 0;
    for (const [i, capture] of this.captures.entries()) {
      const packets = capture.packets();
      const ras = packets.filter((p) => p.payload[0] === ND_ROUTER_ADVERT);
      // The client's own (rdisc6's); the bridge's own kernel solicits too, and its RSs are flooded here.
      const rss = packets.filter((p) => p.payload[0] === ND_ROUTER_SOLICIT && p.source === this.clientAddresses[i]);
      for (const ra of ras) if (ra.hopLimit !== 255 || !ra.source.startsWith('fe80:')) malformed += 1;
      // Unsolicited: multicast RAs before the first solicitation (a multicast reply to an RS
      // legitimately restarts the schedule, §6.2.6).
      const firstRs = rss[0]?.at ?? Infinity;
      const unsolicited = ras.filter((p) => p.destination === ALL_NODES && p.at < firstRs);
      for (let k = 1; k < unsolicited.length; k++) {
        const gap = unsolicited[k]!.at - unsolicited[k - 1]!.at;
        intervals.push(gap);
        if (gap < minMs - 1 || gap > maxMs) outside += 1;
      }
      for (const rs of rss) {
        const reply = ras.find((p) => p.at >= rs.at);
        if (reply === undefined || reply.at - rs.at > 1000) unanswered += 1;
        else latencies.push(reply.at - rs.at);
      }
    }
    return {
      bridges: [...this.bridges],
      intervals: {
        count: intervals.length,
        minMs: intervals.length ? Math.min(...intervals) : 0,
        medianMs: median(intervals),
        maxMs: intervals.length ? Math.max(...intervals) : 0,
        outside,
      },
      malformed,
      solicited: {
        count: latencies.length,
        medianMs: median(latencies),
        maxMs: latencies.length ? Math.max(...latencies) : 0,
        over500: latencies.filter((x) => x > 500).length,
        unanswered,
      },
    };
  }

  /** Stops the captures, deletes the ports and the client namespace. */
  async close(): Promise<void> {
    await Promise.all(this.captures.map((c) => c.stop().catch(() => undefined)));
    this.captures.length = 0;
    if (this.ports.length > 0) {
      await runBatch(
        this.netns,
        this.ports.map((p) => `link del ${p}`),
      ).catch(() => undefined);
      this.ports.length = 0;
    }
    if (this.madeClient) {
      this.madeClient = false;
      await runCommand('ip', ['netns', 'del', this.client]).catch(() => undefined);
    }
  }
}

/** `ip -n NS -batch` of `commands`, through a here-file (runCommand has no stdin). */
async function runBatch(netns: string, commands: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ip', ['-n', netns, '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ip -n ${netns} -batch failed: ${stderr.trim()}`))));
    child.stdin.end(`${commands.join('\n')}\n`);
  });
}
