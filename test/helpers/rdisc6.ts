/**
 * rdisc6(8) as a client: solicits on a link of a test namespace and reports what the router's
 * advertisement said.
 */
import { execFile } from 'node:child_process';

import type { TestNetns } from './netns.js';

/**
 * The router lifetime of the RA rdisc6 gets on `dev` in `ns` (undefined: no RA within its
 * wait). Asynchronous: the advertiser answering may live in the caller's event loop.
 */
export function routerLifetime(ns: TestNetns, dev: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns.name, 'rdisc6', '-1', '-r', '2', '-w', '1500', dev], { encoding: 'utf8', timeout: 20_000 }, (_error, stdout) => {
      const m = /Router lifetime\s*:\s*(\d+)/u.exec(stdout);
      resolve(m ? Number(m[1]) : undefined);
    });
  });
}
