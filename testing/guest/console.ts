/**
 * Reading what the test guest reports on its serial console (format in ./init.ts): a parser
 * for the `VMPLUMB …` lines and a watcher that polls the serial file qemu writes.
 */
import { open } from 'node:fs/promises';

import { CONSOLE_PREFIX } from './init.js';

/** One fact the guest reported. */
export type GuestConsoleLine =
  | {
      /** `VMPLUMB boot <release>`: the guest's /init started. */
      kind: 'boot';
      /** The kernel release (`uname -r`). */
      kernel: string;
    }
  | {
      /** `VMPLUMB link <ifname> <mac>`: an interface appeared. */
      kind: 'link';
      /** The interface name in the guest ('eth0'). */
      ifname: string;
      /** Its MAC address. */
      mac: string;
    }
  | {
      /** `VMPLUMB addr <ifname> <address>/<len> <scope>`: a configured (non-tentative) address. */
      kind: 'addr';
      /** The interface it is on. */
      ifname: string;
      /** The address without prefix length. */
      address: string;
      /** Prefix length in bits (64 for a SLAAC address). */
      prefixLength: number;
      /** Its scope as `ip addr` prints it ('global', 'link'). */
      scope: string;
    }
  | {
      /** `VMPLUMB route default via <router> dev <ifname>`: the default route learned from RAs. */
      kind: 'route';
      /** The router's (link-local) address. */
      via: string;
      /** The interface it is reached through. */
      ifname: string;
    }
  | {
      /** `VMPLUMB state`: ends one report of addr and route lines. */
      kind: 'state';
    }
  | {
      /** `VMPLUMB error <text>`: the guest's /init failed. */
      kind: 'error';
      /** What it said. */
      text: string;
    };

/** Parses one console line; undefined for anything that is not a `VMPLUMB` report. */
export function parseGuestConsoleLine(line: string): GuestConsoleLine | undefined {
  const words = line.trim().split(/\s+/u);
  if (words[0] !== CONSOLE_PREFIX) return undefined;
  switch (words[1]) {
    case 'boot':
      return { kind: 'boot', kernel: words[2] ?? '' };
    case 'link':
      return words[2] && words[3] ? { kind: 'link', ifname: words[2], mac: words[3] } : undefined;
    case 'addr': {
      const [address, len] = (words[3] ?? '').split('/');
      if (!words[2] || !address || len === undefined) return undefined;
      return { kind: 'addr', ifname: words[2], address, prefixLength: Number(len), scope: words[4] ?? '' };
    }
    case 'route':
      return words[2] === 'default' && words[4] && words[6] ? { kind: 'route', via: words[4], ifname: words[6] } : undefined;
    case 'state':
      return { kind: 'state' };
    case 'error':
      return { kind: 'error', text: words.slice(2).join(' ') };
    default:
      return undefined;
  }
}

/** Parses a whole console log into its reports, in order. */
export function parseGuestConsole(text: string): GuestConsoleLine[] {
  return text
    .split('\n')
    .map(parseGuestConsoleLine)
    .filter((l): l is GuestConsoleLine => l !== undefined);
}

/**
 * Polls a serial console file until `predicate` accepts one of the reported lines, and resolves
 * with that line; rejects after `timeoutMs` with the console's tail in the message.
 */
export async function waitForGuestConsole<T extends GuestConsoleLine>(
  file: string,
  predicate: (line: GuestConsoleLine) => line is T,
  options?: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal },
): Promise<T>;
export async function waitForGuestConsole(
  file: string,
  predicate: (line: GuestConsoleLine) => boolean,
  options?: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal },
): Promise<GuestConsoleLine>;
export async function waitForGuestConsole(
  file: string,
  predicate: (line: GuestConsoleLine) => boolean,
  options: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<GuestConsoleLine> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const interval = options.intervalMs ?? 250;
  for (;;) {
    const text = await readAll(file);
    const hit = parseGuestConsole(text).find(predicate);
    if (hit) return hit;
    if (options.signal?.aborted) throw new Error('waitForGuestConsole aborted');
    if (Date.now() >= deadline) {
      throw new Error(`the guest did not report the expected line on ${file} within ${options.timeoutMs ?? 60_000} ms; console tail:\n${text.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

async function readAll(file: string): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
