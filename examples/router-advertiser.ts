/**
 * Router advertisements without radvd (README "Router advertisements"): the reference
 * radvd.conf as an options object, and the same advertiser from a radvd.conf file.
 *
 * Run as root where br100 exists: `npx tsx examples/router-advertiser.ts [/etc/radvd.conf]`.
 */
import { readFileSync } from 'node:fs';
import { parseRadvdConf, RouterAdvertiser } from 'vmplumb';

const ra = new RouterAdvertiser({
  interfaces: [
    {
      name: 'br100',
      minInterval: 3, // MinRtrAdvInterval, seconds
      maxInterval: 5, // MaxRtrAdvInterval, seconds
      defaultLifetime: 3600, // AdvDefaultLifetime, seconds
      prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }],
      rdnss: [{ servers: ['2a0a:e5c0::3', '2a0a:e5c0::4'], lifetime: 6000 }],
      dnssl: [{ domains: ['place7.ungleich.ch'], lifetime: 6000 }],
    },
  ],
});
ra.on('sent', (event) => console.log('RA on', event.interface, event.solicited ? 'solicited' : 'unsolicited'));
await ra.start(); // waits for br100 (link and address events) if it is not ready yet
console.log(ra.stats()); // per interface: RAs sent, solicitations received / dropped, send errors
await ra.stop(); // final RAs with router lifetime 0

const path = process.argv[2];
if (path !== undefined) {
  const same = new RouterAdvertiser(parseRadvdConf(readFileSync(path, 'utf8')));
  await same.start();
  await same.stop();
}
