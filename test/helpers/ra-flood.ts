/**
 * A flood of malformed router solicitations from a client namespace (the peer process is
 * test/integration/ra-flood-peer.mjs), for the RouterAdvertiser test and `npm run bench:ra-flood`.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PEER = join(dirname(fileURLToPath(import.meta.url)), '..', 'integration', 'ra-flood-peer.mjs');

/** What the flooding peer reports when it ends. */
export interface FloodResult {
  sent: number;
  failed: number;
  seconds: number;
}

/** A running flood. */
export interface Flood {
  /** Resolves once the first burst is out (the peer printed `flooding`). */
  flooding: Promise<void>;
  /** Ends the flood (closes the peer's stdin) and resolves with its report. */
  stop(): Promise<FloodResult>;
}

/** Starts flooding `dev` in namespace `netns` for at most `maxSeconds`. */
export function startFlood(netns: string, dev: string, maxSeconds = 120): Flood {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, PEER, dev, String(maxSeconds)], { stdio: ['pipe', 'pipe', 'pipe'] });
  // The peer may have ended by itself (its time is up) when stop() closes its stdin.
  child.stdin.on('error', () => undefined);
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const flooding = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.startsWith('flooding\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`the flood peer exited (${code}) before flooding: ${err.trim()}`)));
  });
  flooding.catch(() => undefined);
  return {
    flooding,
    async stop() {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`the flood peer exited with ${code}: ${err.trim()}`);
      return JSON.parse(out.trim().split('\n').at(-1) ?? '') as FloodResult;
    },
  };
}
