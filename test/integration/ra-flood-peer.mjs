// A misbehaving guest for test/integration/ra-advertiser.test.ts and `npm run bench:ra-flood`:
// run inside the client namespace (`ip netns exec NS node ra-flood-peer.mjs IFNAME SECONDS`),
// it sends malformed router solicitations to ff02::2 as fast as it can, through vmplumb's own
// raw ICMPv6 socket (hop limit 255, so only the malformations below make them invalid), for
// SECONDS or until its stdin closes, whichever comes first. It prints `flooding` once the
// first burst is out, then, at the end, how many it sent as JSON.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const addon = require('node-gyp-build')(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
const [ifname, seconds = '3'] = process.argv.slice(2);
const index = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8'));
const ll = readFileSync('/proc/net/if_inet6', 'utf8')
  .split('\n')
  .map((l) => l.trim().split(/\s+/))
  .find((f) => f[5] === ifname && f[0]?.startsWith('fe80'));
if (!ll) throw new Error(`no link-local address on ${ifname}`);
const source = Buffer.from(ll[0], 'hex');
const allRouters = Buffer.from('ff020000000000000000000000000002', 'hex');
const malformed = [
  Buffer.from([133, 1, 0, 0, 0, 0, 0, 0]), // code 1
  Buffer.from([133, 0, 0, 0, 0, 0]), // shorter than 8 bytes
  Buffer.from([133, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 1]), // option length 0
  Buffer.from([133, 0, 0, 0, 0, 0, 0, 0, 1, 4, 2, 0, 0, 0, 0, 1]), // option beyond the end
  Buffer.from([133, 0, 0, 0, 0, 0, 0, 0, 3]), // a lone option byte
];
const socket = new addon.Icmp6Socket(
  undefined,
  () => {},
  () => {},
);
const started = Date.now();
let end = started + Number(seconds) * 1000;
let sent = 0;
let failed = 0;
// The caller ends the flood by closing our stdin (setImmediate lets the loop see it).
process.stdin
  .on('end', () => {
    end = 0;
  })
  .resume();
function burst() {
  for (let i = 0; i < 200; i++) {
    const errno = socket.send(index, source, allRouters, malformed[sent % malformed.length]);
    if (errno === 0) sent += 1;
    else failed += 1;
  }
  if (sent + failed === 200) console.log('flooding');
  if (Date.now() < end) setImmediate(burst);
  else {
    socket.close();
    process.stdin.destroy();
    console.log(JSON.stringify({ sent, failed, seconds: (Date.now() - started) / 1000 }));
  }
}
burst();
