/**
 * The kernel floor (bench/floor.c): compiled once with the system's C compiler into a cache
 * directory keyed by the source's hash, then run inside the benchmark namespace. It prints one
 * JSON object: createUs, deleteUs (microseconds), maxSendUs. See bench/FINDINGS.md for what its
 * deletion strategies measure.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { packageRoot } from '../../lib/package-root.js';
import { UNDERLAY } from './namespace.js';

const execFileAsync = promisify(execFile);

/** The /64 of pair K, whose bridge --address gives fd00:HI:LO::1/64 (K = HI:LO). */
export const floorPrefix = (k: number): string => `fd00:${(k >>> 16).toString(16)}:${(k & 0xffff).toString(16)}::/64`;

/** How the floor deletes: `group` is the fastest the kernel allows (bench/FINDINGS.md). */
export type FloorDelete = 'group' | 'group-preset' | 'vx-br' | 'br-vx' | 'pairwise' | 'threads' | 'group-threads';

/** Every deletion strategy the floor knows. */
export const FLOOR_DELETES: readonly FloorDelete[] = ['group', 'group-preset', 'vx-br', 'br-vx', 'pairwise', 'threads', 'group-threads'];

/** One floor run as printed by the program. */
export interface FloorResult {
  pairs: number;
  delete: FloorDelete;
  threads: number;
  createUs: number;
  deleteUs: number;
  /** The longest single sendmsg: how long the kernel kept the sender busy in one call. */
  maxSendUs: number;
  /** When the bridges' batch of the create phase was acked. */
  bridgesUs: number;
}

/** bench/floor.c of the git tree (the npm package does not ship it: the floor is for the repository's benchmarks). */
export function defaultFloorSource(): string {
  return join(packageRoot(import.meta.url), 'bench', 'floor.c');
}

/**
 * Compiles `source` (gcc -O2 -pthread) unless a binary of the same source is cached, and
 * returns the binary's path. Throws when the source or the compiler is missing.
 */
export async function buildFloor(source = defaultFloorSource(), cc = process.env.CC || 'gcc'): Promise<string> {
  if (!existsSync(source)) throw new Error(`the floor's source ${source} is not there (it ships with the git tree, not the npm package)`);
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `vmpbench-floor-${hash}`);
  const binary = join(dir, 'floor');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Compile to a private name and rename: concurrent benchmarks never run a half-written file.
  const partial = `${binary}.${process.pid}`;
  try {
    await execFileAsync(cc, ['-O2', '-Wall', '-pthread', '-o', partial, source], { encoding: 'utf8' });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`compiling ${source} with ${cc} failed: ${(e.stderr ?? '').trim() || e.message}`, { cause: error });
  }
  renameSync(partial, binary);
  return binary;
}

/** Options of {@link runFloor}. */
export interface RunFloorOptions {
  binary: string;
  netns: string;
  pairs: number;
  /** How the floor deletes; `none` creates only and leaves the links to the caller (bench/radvd.ts). */
  delete: FloorDelete | 'none';
  threads?: number;
  /** Also add each bridge's router address (fd00:HI:LO::1/64 nodad) in the create phase. */
  address?: boolean;
  signal?: AbortSignal;
}

/** Runs the floor once in `netns` (`ip netns exec`) and returns what it measured. */
export async function runFloor(options: RunFloorOptions): Promise<FloorResult> {
  const args = ['netns', 'exec', options.netns, options.binary, '--pairs', String(options.pairs), '--dev', UNDERLAY, '--delete', options.delete];
  if (options.threads !== undefined) args.push('--threads', String(options.threads));
  if (options.address) args.push('--address');
  try {
    const { stdout } = await execFileAsync('ip', args, { encoding: 'utf8', signal: options.signal });
    return JSON.parse(stdout) as FloorResult;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`the floor failed: ${(e.stderr ?? '').trim() || e.message}`, { cause: error });
  }
}
