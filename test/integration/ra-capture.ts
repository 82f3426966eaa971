/**
 * Router advertisements as a client namespace sees them: dumpcap writing libpcap to a pipe
 * (it flushes every packet there, not to a file), parsed as it arrives; and waiting for a
 * condition with a deadline instead of sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestNetns } from '../helpers/netns.js';
import { parsePcap, type CapturedPacket } from '../unit/ra-pcap.js';

/** dumpcap on `dev` in `ns`, RAs only (ICMPv6 type 134). Await `ready` before sending. */
export class Capture {
  private data = Buffer.alloc(0);
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;
  /** Resolves once dumpcap is capturing. */
  readonly ready: Promise<void>;

  constructor(ns: TestNetns, dev: string) {
    this.child = spawn('ip', ['netns', 'exec', ns.name, 'dumpcap', '-i', dev, '-f', 'icmp6 and ip6[40] == 134', '-P', '-w', '-'], {
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
      this.child.on('close', () => reject(new Error(`dumpcap exited: ${stderr}`)));
    });
    this.closed = new Promise((resolve) => this.child.on('close', () => resolve()));
  }

  /** The RAs captured so far. */
  packets(): CapturedPacket[] {
    return parsePcap(this.data).filter((p) => p.nextHeader === 58 && p.payload[0] === 134);
  }

  /** Stops dumpcap (idempotent). */
  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.closed;
  }
}

/** Polls `fn` every 100 ms until it returns something truthy; throws after `timeoutMs`. */
export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
