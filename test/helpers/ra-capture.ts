/**
 * Router advertisements as a client namespace sees them: dumpcap writing libpcap to a pipe
 * (it flushes every packet there, not to a file), parsed as it arrives. The RA tests, the
 * restart test and the attach benchmark watch RAs with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestNetns } from './netns.js';
import { parsePcap, type CapturedPacket } from './ra-pcap.js';

export { until } from './poll.js';

/** An RA as a client saw it: when, and the router lifetime it announced (RFC 4861 §4.2). */
export interface SeenAdvertisement {
  /** Capture time, ms since the epoch. */
  at: number;
  /** Router Lifetime in seconds; 0 = "not a default router" (a final RA says this). */
  routerLifetime: number;
}

/** dumpcap on `dev` in `ns` (a TestNetns or a namespace name), RAs only (ICMPv6 type 134). Await `ready` before sending. */
export class Capture {
  private data = Buffer.alloc(0);
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;
  /** Resolves once dumpcap is capturing. */
  readonly ready: Promise<void>;

  constructor(ns: TestNetns | string, dev: string) {
    this.child = spawn(
      'ip',
      ['netns', 'exec', typeof ns === 'string' ? ns : ns.name, 'dumpcap', '-i', dev, '-f', 'icmp6 and ip6[40] == 134', '-P', '-w', '-'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
    });
    let stderr = '';
    this.ready = new Promise((resolve, reject) => {
      this.child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('Capturing on')) resolve();
      });
      this.child.on('close', () => reject(new Error(`dumpcap exited: ${stderr}`)));
    });
    this.closed = new Promise((resolve) => this.child.on('close', () => resolve()));
  }

  /** The RAs captured so far. */
  packets(): CapturedPacket[] {
    return parsePcap(this.data).filter((p) => p.nextHeader === 58 && p.payload[0] === 134);
  }

  /** The RAs captured so far, with their time and router lifetime. */
  advertisements(): SeenAdvertisement[] {
    return this.packets().map((p) => ({ at: p.at, routerLifetime: p.payload.readUInt16BE(6) }));
  }

  /** Stops dumpcap (idempotent). */
  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.closed;
  }
}
