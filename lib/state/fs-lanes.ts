/**
 * At most {@link FS_LANES} run-directory operations in the libuv thread pool at once.
 *
 * The pool has 4 threads by default and rtnetlink sends run there too (lib/netlink/connection.ts).
 * Creating 1,024 networks at once queued thousands of lock opens, record reads and writes in
 * front of the netlink sends, which then waited seconds for a thread: vxlan creation took 3x
 * the kernel's time. File operations of the run directory go through these lanes, so two
 * threads stay free for the kernel's work.
 */

/** Pool threads the run directory may use at once. */
export const FS_LANES = 2;

let active = 0;
const waiting: (() => void)[] = [];

/** Runs `op` in a lane (waits for one to be free). */
export async function inLane<T>(op: () => Promise<T>): Promise<T> {
  if (active < FS_LANES) active += 1;
  else await new Promise<void>((resolve) => waiting.push(resolve)); // the releaser hands its lane over
  try {
    return await op();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  }
}
