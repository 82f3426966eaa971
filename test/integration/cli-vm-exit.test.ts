/**
 * `vmplumb vm run` reports how qemu ended in its exit status: a qemu that fails after start-up
 * (exit 3 here) makes the command exit 1 with a line naming the code; a clean exit (the guest
 * powered off) exits 0 — the control. The "qemu" is a stand-in that speaks just enough QMP.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../helpers/cli.js';
import { TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

/** A qemu stand-in: greets on the QMP socket it inherits, answers qmp_capabilities, exits CODE. */
const FAKE_QEMU = `#!/usr/bin/env python3
import json, re, socket, sys, time
fd = next(int(m.group(1)) for a in sys.argv if (m := re.search(r'id=vmpqmp,fd=(\\d+)', a)))
listener = socket.socket(fileno=fd)
conn, _ = listener.accept()
conn.sendall(b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 8}, "package": ""}, "capabilities": []}}\\r\\n')
line = conn.makefile().readline()
conn.sendall((json.dumps({"return": {}, "id": json.loads(line).get("id")}) + "\\r\\n").encode())
time.sleep(0.5)
sys.exit(int(__import__('os').environ.get('FAKE_QEMU_EXIT', '0')))
`;

describe.skipIf(skipUnlessRoot('vm run exit status'))('vmplumb vm run: exit status from qemu', () => {
  let ns: TestNetns | undefined;
  let work = '';
  let fake = '';

  beforeAll(() => {
    ns = new TestNetns('vmpvmexit');
    ns.ip('link', 'add', 'br100', 'type', 'bridge');
    ns.ip('link', 'set', 'br100', 'up');
    ns.ip('-6', 'addr', 'add', '2001:db8:100::1/64', 'dev', 'br100', 'nodad');
    work = mkdtempSync(join(tmpdir(), 'vmpvmexit-'));
    fake = join(work, 'qemu-fake');
    writeFileSync(fake, FAKE_QEMU);
    chmodSync(fake, 0o755);
  });

  afterAll(() => {
    ns?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const run = (exitCode: number) =>
    runCli(['vm', 'run', '--net', '100', '--id', '1', '--kernel', fake, '--accel', 'tcg', '--qemu', fake, '--netns', ns!.name], {
      env: { ...process.env, FAKE_QEMU_EXIT: String(exitCode), VMPLUMB_RUN_DIR: work },
    });

  it('exits 1 naming the code when qemu fails', async () => {
    const r = await run(3);
    expect(r.err).toMatch(/^vmplumb vm run: vm1n100: qemu exited with code 3/mu);
    expect(r.code).toBe(1);
    // Nothing stays: the tap went with qemu.
    expect(
      ns!
        .ipJson<Array<{ ifname: string }>>('link', 'show')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['br100', 'lo']);
  }, 60_000);

  it('exits 0 when qemu exits cleanly (control)', async () => {
    const r = await run(0);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);
});
