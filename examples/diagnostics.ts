/**
 * Observability (lib/diagnostics.ts): every rtnetlink request on the `vmplumb:netlink`
 * tracing channel, with its duration and, when the kernel refused it, the error. Run with
 * NODE_DEBUG=vmplumb as well to see the decisions the library takes on its own.
 *
 * Run as root: `NODE_DEBUG=vmplumb npx tsx examples/diagnostics.ts`.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { Netlink, NETLINK_TRACING_CHANNEL, type NetlinkRequestMessage } from 'vmplumb';

diagnostics_channel.tracingChannel<unknown, NetlinkRequestMessage>(NETLINK_TRACING_CHANNEL).subscribe({
  start() {},
  end() {},
  asyncStart() {},
  error() {},
  asyncEnd: (m) => console.log(m.operation, m.object ?? '', `${m.durationMs?.toFixed(2)} ms`, m.code ?? 'ok'),
});

await using nl = await Netlink.open();
await nl.listLinks(); // listLinks  0.12 ms ok
await nl.getLink('lo'); // getLink lo 0.05 ms ok
