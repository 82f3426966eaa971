/**
 * `vmplumb demo`: the reference scenario of docs/ARCHITECTURE.md on this machine, in throwaway namespaces.
 * Host 1 makes network 100 with VxlanNetwork and boots the tiny test guest in it; host 2 runs
 * the reference shell commands unchanged; the guest configures its address from host 1's RAs
 * and host 2 pings it across VXLAN over IPv6 multicast. Everything is torn down at the end,
 * also on failure or Ctrl-C.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CliError, interrupted, messageOf, say } from '../../lib/cli/common.js';
import { DemoHosts, referenceScript, UNDERLAY } from './hosts.js';
import { preflight } from '../../lib/cli/preflight.js';

/** Options of the demo. */
export interface DemoOptions {
  /** Where the guest is cached (default: $VMPLUMB_CACHE or ~/.cache/vmplumb/guest). */
  cacheDir?: string;
  /** Seconds to wait for the guest's address (default 180: TCG on a busy machine is slow). */
  timeout: number;
  /** Namespace prefix (default vmplumb-demo-<pid>). */
  name?: string;
}

/** The reference network. */
export const DEMO_NETWORK = {
  id: 100,
  prefix: '2a0a:e5c1:111:888::/64',
  rdnss: ['2a0a:e5c0::3', '2a0a:e5c0::4'],
  dnssl: ['place7.ungleich.ch'],
} as const;

const STEPS = 7;

/** Runs the demo; resolves when it succeeded, throws CliError (after the teardown) otherwise. */
export async function runDemo(options: DemoOptions): Promise<void> {
  const started = Date.now();
  let step = 0;
  const head = (text: string): void => {
    step += 1;
    say(`[${step}/${STEPS}] ${text}`);
  };
  const detail = (text: string): void => say(`      ${text}`);

  say('vmplumb demo: the reference scenario (docs/ARCHITECTURE.md) in throwaway network namespaces');
  head('checking the machine: root, /dev/net/tun, ip, ping');
  preflight(detail);

  // Loaded only now: the library needs the native addon, and the checks above explain more.
  await import('../../lib/native.js').catch((error: unknown) => {
    throw addonHint(error);
  });
  const [{ VxlanNetwork }, guestModule] = await Promise.all([import('../../lib/network.js'), import('../guest/index.js')]);

  head('the tiny test guest (Debian kernel + busybox initramfs)');
  const guest = await guestModule.ensureGuest({
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    onProgress: (message) => detail(message),
  });
  detail(`kernel ${guest.kernelRelease}, cached in ${guest.dir}`);

  const hosts = new DemoHosts(options.name);
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) process.exit(130);
    say(`${signal}: tearing down`);
    abort.abort(interrupted(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const workDir = mkdtempSync(join(tmpdir(), 'vmplumb-demo-'));
  let network: Awaited<ReturnType<typeof VxlanNetwork.create>> | undefined;
  let failure: unknown;
  try {
    head(`hosts: namespaces ${hosts.host1} and ${hosts.host2}, joined by veth eth0 ↔ eth0`);
    await hosts.create();
    detail(`underlay ${UNDERLAY.host1}/${UNDERLAY.length} (host 1) ↔ ${UNDERLAY.host2}/${UNDERLAY.length} (host 2)`);
    abort.signal.throwIfAborted();

    head(`host 1: VxlanNetwork.create({ id: ${DEMO_NETWORK.id}, underlay: 'eth0', prefix: '${DEMO_NETWORK.prefix}', rdnss, dnssl })`);
    network = await VxlanNetwork.create({
      id: DEMO_NETWORK.id,
      underlay: 'eth0',
      prefix: DEMO_NETWORK.prefix,
      rdnss: [...DEMO_NETWORK.rdnss],
      dnssl: [...DEMO_NETWORK.dnssl],
      netns: hosts.host1,
    });
    detail(`${network.vxlanName} (group ${String(network.group)}, dstport 4789, ttl 5) in ${network.bridgeName}, router ${network.routerAddress}`);
    detail(`router advertisements for ${network.prefix} every 3-5 s, RDNSS ${DEMO_NETWORK.rdnss.join(' ')}, DNSSL ${DEMO_NETWORK.dnssl.join(' ')}`);
    abort.signal.throwIfAborted();

    const host2Address = network.routerAddress.replace(/::1$/u, '::2');
    head('host 2: the reference commands, unchanged');
    const script = referenceScript({ id: DEMO_NETWORK.id, address: host2Address });
    for (const line of script) detail(`# ${line}`);
    await hosts.shell(hosts.host2, script);
    abort.signal.throwIfAborted();

    const serial = join(workDir, 'vm1.console');
    head('VM 1: booting the guest under TCG (emulation: this takes a while)');
    const vm = await network.startVm({ id: 1, ...guestModule.guestBootOptions(guest, serial) });
    detail(`qemu pid ${vm.pid}, tap ${vm.tap} in ${network.bridgeName}, MAC ${vm.mac}`);
    detail(`expected address (prefix + EUI-64 of the MAC): ${vm.address}`);
    const facts = await waitForGuest(guestModule, serial, vm.address, options.timeout * 1000, abort.signal, vm.exited);
    detail(`the guest configured ${vm.address}/64 from our RAs (${facts.seconds} s after start)`);
    if (facts.route) detail(`and its default route: via ${facts.route}`);
    say(`VM address: ${vm.address}`);

    head(`ping ${vm.address} from host 2, across VXLAN over IPv6 multicast`);
    const result = await pingUntil(hosts, hosts.host2, vm.address, abort.signal);
    detail(`${result.received}/${result.transmitted} replies${result.rtt ? `, rtt min/avg/max/mdev ${result.rtt}` : ''}`);
    const fromHost1 = await hosts.ping(hosts.host1, vm.address, 1);
    detail(`and from host 1 over ${network.bridgeName}: ${fromHost1.received}/${fromHost1.transmitted}`);
  } catch (error) {
    failure = error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    say('teardown: stopping the VM, final router advertisements (router lifetime 0), links, namespaces');
    if (network) {
      await network.destroy({ timeoutMs: 3000 }).catch((error: unknown) => {
        say(`      ${messageOf(error)}`);
        failure ??= error;
      });
    }
    hosts.cleanup();
    rmSync(workDir, { recursive: true, force: true });
    const left = [hosts.host1, hosts.host2].filter((ns) => existsSync(`/run/netns/${ns}`));
    if (left.length > 0) failure ??= new CliError(`namespaces left behind: ${left.join(', ')}`);
  }
  if (failure !== undefined) throw failure instanceof CliError ? failure : new CliError(`demo failed: ${messageOf(failure)}`, { cause: failure });
  say(`demo OK in ${Math.round((Date.now() - started) / 1000)} s: nothing left behind`);
}

// eslint-disable-next-line @typescript-eslint/consistent-type-imports -- the guest builder is loaded lazily (import()), only its type statically
type GuestModule = typeof import('../guest/index.js');

/**
 * Waits until the guest reports `address` (global) on its console, printing progress as it
 * goes; also returns the default route it reports, if any by then.
 */
async function waitForGuest(
  guest: GuestModule,
  serial: string,
  address: string,
  timeoutMs: number,
  signal: AbortSignal,
  exited: Promise<unknown>,
): Promise<{ seconds: number; route: string | undefined }> {
  const start = Date.now();
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  const tty = process.stdout.isTTY;
  let lastShown = 0;
  let lastFact = 'kernel booting, no report yet';
  const deadline = start + timeoutMs;
  const { readFile } = await import('node:fs/promises');
  for (;;) {
    signal.throwIfAborted();
    if (exitedEarly) throw new CliError('the guest exited before it configured its address (see its console above)');
    const text = await readFile(serial, 'utf8').catch(() => '');
    const lines = guest.parseGuestConsole(text);
    const addr = lines.find((l) => l.kind === 'addr' && l.address === address && l.scope === 'global');
    const route = [...lines].reverse().find((l) => l.kind === 'route');
    const last = lines.at(-1);
    if (last) lastFact = describeFact(last);
    const seconds = Math.round((Date.now() - start) / 1000);
    if (addr) {
      if (tty) process.stdout.write('\n');
      // The route usually comes with the address (same RA); give it a moment if not yet.
      if (!route && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const again = guest
          .parseGuestConsole(await readFile(serial, 'utf8').catch(() => ''))
          .reverse()
          .find((l) => l.kind === 'route');
        return { seconds, route: again?.kind === 'route' ? `${again.via} dev ${again.ifname}` : undefined };
      }
      return { seconds, route: route?.kind === 'route' ? `${route.via} dev ${route.ifname}` : undefined };
    }
    if (Date.now() > deadline) {
      if (tty) process.stdout.write('\n');
      throw new CliError(`the guest did not configure ${address} within ${timeoutMs / 1000} s (last console report: ${lastFact})`);
    }
    if (tty) process.stdout.write(`\r      waiting for the guest: ${seconds} s, console: ${lastFact}\u001b[K`);
    else if (Date.now() - lastShown >= 5000) {
      lastShown = Date.now();
      say(`      waiting for the guest: ${seconds} s, console: ${lastFact}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** A console report in words, for the progress line. */
function describeFact(line: ReturnType<GuestModule['parseGuestConsole']>[number]): string {
  switch (line.kind) {
    case 'boot':
      return `kernel ${line.kernel} up`;
    case 'link':
      return `${line.ifname} up with MAC ${line.mac}`;
    case 'addr':
      return `${line.scope} address ${line.address}`;
    case 'route':
      return `default route via ${line.via}`;
    case 'state':
      return 'waiting for a router advertisement';
    case 'error':
      return `error: ${line.text}`;
  }
}

/** Pings until a reply comes back (neighbour discovery across the VXLAN may cost the first), at most ~20 s. */
async function pingUntil(hosts: DemoHosts, ns: string, address: string, signal: AbortSignal): Promise<Awaited<ReturnType<DemoHosts['ping']>>> {
  let result = await hosts.ping(ns, address);
  for (let attempt = 1; result.received === 0 && attempt < 5; attempt++) {
    signal.throwIfAborted();
    result = await hosts.ping(ns, address);
  }
  if (result.received === 0) throw new CliError(`no reply from ${address} to ${result.transmitted} pings from host 2`);
  return result;
}

/** The library failed to load: most likely the addon is not built. */
function addonHint(error: unknown): Error {
  const text = messageOf(error);
  if (/No native build|Could not locate|cannot open shared object|\.node/iu.test(text)) {
    return new CliError(`the native addon is not built (${text}): run npm install, or npm run rebuild`);
  }
  return error instanceof Error ? error : new Error(text);
}
