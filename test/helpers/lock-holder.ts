/**
 * Another process holding a run-directory lock: a real flock(2) held by a process of its
 * own (python3's fcntl.flock), as `vmplumb serve` or a manager holds one, until it is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const HOLD = 'import fcntl,sys,time\nf=open(sys.argv[1],"w")\nfcntl.flock(f,fcntl.LOCK_EX)\nprint("held",flush=True)\ntime.sleep(600)';

/** Starts a process holding flock(LOCK_EX) on `path`; resolves once it holds it (kill it to let go). */
export async function holdLock(path: string): Promise<ChildProcess> {
  const child = spawn('python3', ['-c', HOLD, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout?.once('data', resolve);
    child.once('exit', (code, signal) => reject(new Error(`lock holder exited (${code ?? signal}) before holding ${path}`)));
  });
  return child;
}
