#!/usr/bin/env node
// `npm run test:mutants`: does the suite fail when the code is wrong? Each mutant below is a
// deliberate bug in lib/ (a wrong default, an off-by-one in a codec, a dropped option, a
// no-op, a swallowed error). For each: apply it to the source file, run the test files that
// should notice (vitest, only those), restore the file, and report "killed" (a test failed)
// or "SURVIVED" (every test passed: a hole in the suite). A mutant whose text is no longer in
// the file is reported "stale" (the code changed: update the mutant). Exits 1 if any
// survived or went stale. The original file is restored also on error and on Ctrl-C.
//
// Usage: npm run test:mutants [-- NAME-SUBSTRING…]   (privileged mutants need root, as the tests)
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** file: under lib/; find: exact text (must occur once); replace: the bug; tests: vitest args. */
const MUTANTS = [
  {
    name: "default VXLAN port is the kernel's 8472, not 4789",
    file: 'lib/netlink/link-options.ts',
    find: 'export const VXLAN_DEFAULT_PORT = 4789;',
    replace: 'export const VXLAN_DEFAULT_PORT = 8472;',
    tests: ['test/unit/netlink-validation.test.ts', 'test/unit/netlink-codec.test.ts', 'test/integration/netlink-options.test.ts'],
  },
  {
    name: 'network default port 8472',
    file: 'lib/network/options.ts',
    find: 'export const DEFAULT_PORT = 4789;',
    replace: 'export const DEFAULT_PORT = 8472;',
    tests: ['test/unit/network.test.ts'],
  },
  {
    name: 'multicast group: off by one in the digit grouping (1000s, not 10000s)',
    file: 'lib/netlink/vxlan-group.ts',
    find: 'const high = Math.floor(id / 10000);\n  const low = id % 10000;',
    replace: 'const high = Math.floor(id / 1000);\n  const low = id % 1000;',
    tests: ['test/unit/netlink-vxlan-group.test.ts'],
  },
  {
    name: 'DNSSL option length off by one (8-byte units)',
    file: 'lib/ra/options.ts',
    find: '  out[1] = length / 8;\n  out.writeUInt32BE(d.lifetime, 4);',
    replace: '  out[1] = length / 8 + 1;\n  out.writeUInt32BE(d.lifetime, 4);',
    tests: ['test/unit/ra-codec.test.ts'],
  },
  {
    name: 'RS validation accepts a forwarded solicitation (hop limit not checked)',
    file: 'lib/ra/rs.ts',
    find: "if (hopLimit !== 255) return { valid: false, reason: 'hop-limit' };",
    replace: '',
    tests: ['test/unit/ra-rs.test.ts'],
  },
  {
    name: 'addPeer is a no-op',
    file: 'lib/network/vxlan-network.ts',
    find: "await this.nl.addFdb({ link: this.vxlanName, mac: '00:00:00:00:00:00', dst: checkIPv6('address', address), append: true });",
    replace: "checkIPv6('address', address);",
    tests: ['test/integration/network.test.ts', '-t', 'addPeer'],
  },
  {
    name: 'destroy swallows teardown failures (no AggregateError)',
    file: 'lib/network/vxlan-network.ts',
    find: '    if (errors.length > 0) {\n      throw new AggregateError(',
    replace: '    if (errors.length < 0) {\n      throw new AggregateError(',
    tests: ['test/unit/network.test.ts'],
  },
  {
    name: 'the KVM probe ignores the device (no /dev/kvm check)',
    file: 'lib/qemu/accel.ts',
    find: '    accessSync(device, fsConstants.R_OK | fsConstants.W_OK);',
    replace: '',
    tests: ['test/unit/qemu-accel.test.ts'],
  },
  {
    name: 'link events report AF_BRIDGE port messages as links',
    file: 'lib/netlink/events.ts',
    find: 'accept: (m) => m.family === AF.UNSPEC || m.family === undefined,',
    replace: 'accept: () => true,',
    tests: ['test/integration/netlink-events.test.ts'],
  },
  {
    name: 'shutdown drops the timeoutMs option (30 s default)',
    file: 'lib/qemu/qemu.ts',
    find: 'const timeoutMs = o.timeoutMs === undefined ? 30_000 :',
    replace: 'const timeoutMs = true ? 30_000 :',
    tests: ['test/guest/qemu.test.ts', '-t', 'hung qemu'],
  },
  {
    name: 'run-dir records: a newer version is read as if understood',
    file: 'lib/state/record.ts',
    find: "if (typeof r.version !== 'number' || r.version > RECORD_VERSION) {",
    replace: "if (typeof r.version !== 'number') {",
    tests: ['test/unit/state-record.test.ts'],
  },
  {
    name: "identity: a pidfile's pid is taken as the VM without its cmdline proof",
    file: 'lib/state/identity.ts',
    find: 'if (pid !== undefined && isProcessOf(pid, pidfile)) return pid;',
    replace: 'if (pid !== undefined) return pid;',
    tests: ['test/integration/persist-crash.test.ts', '-t', 'belongs to another process'],
  },
  {
    name: 'port security lets router advertisements from the guest through',
    file: 'lib/guard/policy.ts',
    find: "{ name: 'router-advertisement', match: icmp6(ICMPV6.ra), verdict: 'drop' },",
    replace: '',
    tests: ['test/unit/guard-policy.test.ts'],
  },
  {
    name: 'three final RAs by default (radvd and the scale target: one)',
    file: 'lib/ra/constants.ts',
    find: 'export const DEFAULT_FINAL_RTR_ADVERTISEMENTS = 1;',
    replace: 'export const DEFAULT_FINAL_RTR_ADVERTISEMENTS = 3;',
    tests: ['test/unit/ra-config.test.ts'],
  },
  {
    name: 'a vxlan that cannot join its group is not explained (no KernelLimitError)',
    file: 'lib/network/kernel-limits.ts',
    find: "if (group === undefined || (error as { code?: unknown } | undefined)?.code !== 'ENOMEM') return error;",
    replace: 'return error;',
    tests: ['test/integration/network-scale.test.ts', '-t', 'optmem_max'],
  },
];

const only = process.argv.slice(2);
const chosen = MUTANTS.filter((m) => only.length === 0 || only.some((o) => m.name.includes(o)));
let restore;
const onSignal = () => {
  restore?.();
  process.exit(130);
};
process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

const results = [];
for (const m of chosen) {
  const path = join(ROOT, m.file);
  const original = readFileSync(path, 'utf8');
  const at = original.indexOf(m.find);
  if (at < 0 || original.indexOf(m.find, at + 1) >= 0) {
    results.push({ name: m.name, outcome: 'stale', detail: `${m.file}: the text to mutate is ${at < 0 ? 'gone' : 'not unique'}` });
    continue;
  }
  restore = () => writeFileSync(path, original);
  const started = Date.now();
  try {
    writeFileSync(path, original.slice(0, at) + m.replace + original.slice(at + m.find.length));
    const run = spawnSync('npx', ['vitest', 'run', '--reporter=dot', ...m.tests], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    const tail = `${run.stdout}${run.stderr}`
      .split('\n')
      .filter((l) => /Tests\s|FAIL|×/u.test(l))
      .slice(0, 3)
      .join(' | ');
    results.push({
      name: m.name,
      outcome: run.status === 0 ? 'SURVIVED' : 'killed',
      detail: `${((Date.now() - started) / 1000).toFixed(0)} s; ${tail.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'gu'), '')}`,
    });
  } finally {
    restore();
    restore = undefined;
  }
  const r = results.at(-1);
  console.log(`${r.outcome.padEnd(8)} ${r.name}\n         ${r.detail}`);
}
const count = (o) => results.filter((r) => r.outcome === o).length;
console.log(`\n${count('killed')} killed, ${count('SURVIVED')} survived, ${count('stale')} stale, of ${results.length} mutants`);
process.exit(count('SURVIVED') + count('stale') > 0 ? 1 : 0);
