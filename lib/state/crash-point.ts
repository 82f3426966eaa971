/**
 * Fault injection for the crash-consistency tests: with VMPLUMB_CRASH_AT=N in the
 * environment, the N-th crash point this process passes kills it with SIGKILL (after
 * appending the point's label to $VMPLUMB_CRASH_LOG, if set). Without the variable a crash
 * point costs one comparison. Points sit between the steps of create, startVm, stop and
 * destroy, where a real agent can be OOM-killed or `systemctl restart`ed.
 */
import { appendFileSync } from 'node:fs';

let passed = 0;

/**
 * VMPLUMB_CRASH_AT as the process started with it, read once: a lookup in process.env is a
 * call into the C++ environment (~1 µs), and creating a thousand networks passes ten thousand
 * points. The tests set it in the environment of the process they kill.
 */
const at = process.env.VMPLUMB_CRASH_AT;

/** Marks a point where a SIGKILL must leave a state that open/list/cleanup can handle. */
export function crashPoint(label: string): void {
  if (at === undefined) return;
  passed += 1;
  if (passed !== Number(at)) return;
  const log = process.env.VMPLUMB_CRASH_LOG;
  if (log) appendFileSync(log, `${label}\n`);
  process.kill(process.pid, 'SIGKILL');
}
