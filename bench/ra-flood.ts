/**
 * `npm run bench:ra-flood` (as root): a RouterAdvertiser serving br100 in a router namespace
 * while a client floods it with malformed router solicitations (test/integration/
 * ra-flood-peer.mjs) for BENCH_FLOOD_SECONDS (6). Reported: solicitations sent, received and
 * dropped by the advertiser, and rdisc6's answer times during the flood. Targets (formerly
 * asserted in test/integration/ra-advertiser.test.ts): over 10,000 sent and over 1,000
 * dropped in 6 s, and every rdisc6 answered within the RFC 4861 §6.2.6 bound (500 ms,
 * process start-up included).
 *
 * Options (environment): BENCH_FLOOD_SECONDS (6), BENCH_FLOOD_SOLICITS (3).
 */
import { RouterAdvertiser } from '../lib/ra/index.js';
import { joinWithVeth, runAsync, TestNetns } from '../test/helpers/netns.js';
import { delay, until } from '../test/helpers/poll.js';
import { startFlood } from '../test/helpers/ra-flood.js';
import { benchInteger } from './options.js';

const SECONDS = benchInteger('BENCH_FLOOD_SECONDS', 6, 600);
const SOLICITS = benchInteger('BENCH_FLOOD_SOLICITS', 3, 1000);

if (process.getuid?.() !== 0) throw new Error('bench:ra-flood needs root (network namespaces)');
const router = new TestNetns('vmpbench-ra');
const client = new TestNetns('vmpbench-ra');
try {
  router.ip('link', 'add', 'br100', 'type', 'bridge');
  joinWithVeth(router, 'r0', client, 'c0');
  router.ip('link', 'set', 'r0', 'master', 'br100');
  router.ip('link', 'set', 'br100', 'up');
  const ra = new RouterAdvertiser({
    netns: router.name,
    finalAdvertisements: 0,
    interfaces: [
      {
        name: 'br100',
        minInterval: 3,
        maxInterval: 5,
        defaultLifetime: 3600,
        prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }],
      },
    ],
  });
  await ra.start();
  try {
    await until('br100 served', () => ra.stats()[0]?.state === 'serving');
    await until("the client's link-local past DAD", () => client.linkLocal('c0'));
    const before = ra.stats()[0]!;
    const flood = startFlood(client.name, 'c0', SECONDS);
    await flood.flooding;
    const floodStarted = performance.now();
    const answers: number[] = [];
    for (let i = 0; i < SOLICITS; i++) {
      const t = performance.now();
      await runAsync('ip', ['netns', 'exec', client.name, 'rdisc6', '-1', '-r', '1', '-w', '1000', 'c0']).then(
        () => answers.push(performance.now() - t),
        () => answers.push(Infinity),
      );
    }
    // The flood runs its full time (the rates are per time), then its report is collected.
    await delay(Math.max(0, floodStarted + SECONDS * 1000 - performance.now()));
    const result = await flood.stop();
    const after = ra.stats()[0]!;
    const received = after.solicitationsReceived - before.solicitationsReceived;
    const dropped = after.solicitationsDropped - before.solicitationsDropped;
    console.log(
      `flood of ${result.seconds.toFixed(1)} s: ${result.sent} malformed solicitations sent (${result.failed} send failures), ` +
        `${received} received and ${dropped} dropped by the advertiser, ${after.sendErrors} send errors`,
    );
    console.log(`rdisc6 during the flood (${SOLICITS} runs): ${answers.map((a) => (Number.isFinite(a) ? `${a.toFixed(0)} ms` : 'no answer')).join(', ')}`);
    const met = result.sent > 10_000 * (SECONDS / 6) && dropped > 1000 * (SECONDS / 6) && answers.every((a) => a < 500);
    console.log(`  target (> 10,000 sent and > 1,000 dropped per 6 s; every answer < 500 ms): ${met ? 'met' : 'NOT met'}`);
  } finally {
    await ra.stop();
  }
} finally {
  router.cleanup();
  client.cleanup();
}
