/**
 * Builds the tiny test guest once and caches it: Debian's own kernel (the package that
 * linux-image-amd64 depends on, fetched with `apt-get download` and unpacked with
 * `dpkg-deb -x`) and an initramfs (cpio newc, gzip) holding busybox-static as the shell, the
 * /init script of ./init.ts, and the virtio-net modules from the same kernel package.
 *
 * The cache folder is versioned by content: a hash of the builder version, the init script
 * and the module list names the entry, so a changed recipe builds a new entry. Concurrent
 * builders cannot corrupt it: each builds in its own temporary folder next to the cache and
 * renames it into place; the loser of the race discards its copy.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { runCommand } from '../run.js';
import { GUEST_MODULES, INIT_SCRIPT } from './init.js';
import { abortable, checkSignal, throwIfAborted } from '../../lib/abort.js';

const execFileP = promisify(execFile);

/** Bump when the recipe changes in a way the hash of init script and modules does not see. */
const BUILDER_VERSION = 1;

/** The Debian packages the guest and its tests need. */
export const GUEST_PACKAGES = ['qemu-system-x86', 'busybox-static', 'cpio'] as const;

/** Options of {@link ensureGuest}. */
export interface EnsureGuestOptions {
  /** The cache folder; default `$VMPLUMB_CACHE`, else `~/.cache/vmplumb/guest`. */
  cacheDir?: string;
  /** Told about slow steps (installing packages, downloading the kernel, …). */
  onProgress?: (message: string) => void;
  /** Install missing Debian packages with apt-get (needs root); default true. */
  installPackages?: boolean;
  /**
   * Stops waiting: the call rejects with `signal.reason`. The build itself (shared by every
   * concurrent caller for the same cache) stops, and its temporary folder is removed, once
   * every caller waiting for it has aborted.
   */
  signal?: AbortSignal;
}

/** A built guest. */
export interface Guest {
  /** The kernel image (vmlinuz). */
  kernel: string;
  /** The initramfs (gzip'd cpio). */
  initrd: string;
  /** The kernel command line the guest expects (serial console on ttyS0). */
  append: string;
  /** The kernel release, e.g. 6.1.0-56-amd64. */
  kernelRelease: string;
  /** The cache entry folder. */
  dir: string;
}

/** The kernel command line for the guest: console on the first serial port, quiet boot. */
export const GUEST_APPEND = 'console=ttyS0 quiet panic=-1';

/** Where guests are cached. */
export function guestCacheDir(cacheDir?: string): string {
  return cacheDir ?? process.env.VMPLUMB_CACHE ?? join(homedir(), '.cache', 'vmplumb', 'guest');
}

/** The content key of the current recipe. */
export function guestRecipeKey(): string {
  return createHash('sha256').update(JSON.stringify({ BUILDER_VERSION, INIT_SCRIPT, GUEST_MODULES })).digest('hex').slice(0, 16);
}

/** A build in progress, shared by its callers; aborted when the last of them aborts. */
interface Build {
  promise: Promise<Guest>;
  controller: AbortController;
  waiting: number;
}

const inFlight = new Map<string, Build>();

/**
 * Returns the cached guest, building it first if needed (a few seconds: a 70 MB download
 * from the Debian mirror and an unpack). Installs qemu-system-x86, busybox-static and cpio
 * with apt-get when they are missing, and says so through `onProgress`.
 */
export async function ensureGuest(options: EnsureGuestOptions = {}): Promise<Guest> {
  const signal = checkSignal('options.signal', options.signal);
  throwIfAborted(signal);
  const dir = join(guestCacheDir(options.cacheDir), guestRecipeKey());
  let build = inFlight.get(dir);
  if (!build || build.controller.signal.aborted) {
    const controller = new AbortController();
    const started: Build = { promise: ensureGuestAt(dir, options, controller.signal), controller, waiting: 0 };
    void started.promise
      .finally(() => {
        if (inFlight.get(dir) === started) inFlight.delete(dir);
      })
      .catch(() => undefined);
    inFlight.set(dir, started);
    build = started;
  }
  const shared = build;
  shared.waiting += 1;
  return abortable(shared.promise, signal, () => {
    shared.waiting -= 1;
    if (shared.waiting === 0) shared.controller.abort(signal?.reason);
  });
}

async function ensureGuestAt(dir: string, options: EnsureGuestOptions, signal: AbortSignal): Promise<Guest> {
  const cached = await readManifest(dir);
  if (cached) return cached;
  const progress = options.onProgress ?? (() => undefined);
  await ensurePackages(progress, options.installPackages ?? true, signal);
  const parent = join(dir, '..');
  await mkdir(parent, { recursive: true });
  const work = await mkdtemp(join(parent, '.build-'));
  try {
    const out = join(work, 'out');
    await mkdir(out);
    const release = await buildInto(work, out, progress, signal);
    await writeFile(
      join(out, 'manifest.json'),
      `${JSON.stringify({ kernelRelease: release, recipe: guestRecipeKey(), builtAt: new Date().toISOString() }, null, 2)}\n`,
    );
    try {
      await rename(out, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      // Another builder finished first; its copy is as good as ours.
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const built = await readManifest(dir);
  if (!built) throw new Error(`guest build produced no manifest in ${dir}`);
  progress(`guest ready in ${dir}`);
  return built;
}

async function readManifest(dir: string): Promise<Guest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { kernelRelease: string };
    const kernel = join(dir, 'vmlinuz');
    const initrd = join(dir, 'initrd.img');
    if (!existsSync(kernel) || !existsSync(initrd)) return undefined;
    return { kernel, initrd, append: GUEST_APPEND, kernelRelease: manifest.kernelRelease, dir };
  } catch {
    return undefined;
  }
}

/** `runCommand` with the build's signal (and a folder to run in). */
function run(cmd: string, args: string[], signal: AbortSignal, cwd?: string): Promise<string> {
  return runCommand(cmd, args, cwd === undefined ? { signal } : { signal, cwd });
}

async function installed(pkg: string, signal: AbortSignal): Promise<boolean> {
  try {
    const status = await run('dpkg-query', ['-W', '-f=${Status}', pkg], signal);
    return status.trim() === 'install ok installed';
  } catch {
    return false;
  }
}

async function ensurePackages(progress: (m: string) => void, install: boolean, signal: AbortSignal): Promise<void> {
  const missing: string[] = [];
  for (const pkg of GUEST_PACKAGES) if (!(await installed(pkg, signal))) missing.push(pkg);
  if (missing.length === 0) return;
  if (!install || process.getuid?.() !== 0) {
    throw new Error(`the test guest needs these Debian packages: ${missing.join(' ')} (apt-get install ${missing.join(' ')})`);
  }
  progress(`installing ${missing.join(' ')} with apt-get`);
  const args = ['install', '-y', '--no-install-recommends', ...missing];
  try {
    await run('apt-get', args, signal);
  } catch {
    signal.throwIfAborted();
    progress('apt-get update');
    await run('apt-get', ['update'], signal);
    await run('apt-get', args, signal);
  }
}

/** Downloads and unpacks the kernel, assembles the initramfs in `out`; returns the release. */
async function buildInto(work: string, out: string, progress: (m: string) => void, signal: AbortSignal): Promise<string> {
  const depends = await run('apt-cache', ['depends', 'linux-image-amd64'], signal);
  const pkg = /Depends:\s*(linux-image-[0-9][^\s]*-amd64)\b/u.exec(depends)?.[1];
  if (!pkg) throw new Error(`cannot find the kernel package linux-image-amd64 depends on:\n${depends}`);
  progress(`downloading ${pkg}`);
  await run('apt-get', ['download', '-o', 'APT::Sandbox::User=root', pkg], signal, work);
  const deb = (await readdir(work)).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb in ${work}`);
  progress(`unpacking ${deb}`);
  const unpacked = join(work, 'pkg');
  await run('dpkg-deb', ['-x', join(work, deb), unpacked], signal);
  const release = pkg.slice('linux-image-'.length);
  await copyFile(join(unpacked, 'boot', `vmlinuz-${release}`), join(out, 'vmlinuz'));

  progress('assembling the initramfs');
  const root = join(work, 'root');
  for (const d of ['bin', 'dev', 'proc', 'sys', 'lib/modules']) await mkdir(join(root, d), { recursive: true });
  await copyFile('/bin/busybox', join(root, 'bin', 'busybox'));
  await chmod(join(root, 'bin', 'busybox'), 0o755);
  const applets = (await run('/bin/busybox', ['--list'], signal)).split('\n').filter((a) => /^[a-z0-9_.[-]+$/u.test(a) && a !== 'busybox');
  // /bin/sh and every applet the init script uses are links to the one static binary.
  for (const applet of applets) await symlink('busybox', join(root, 'bin', applet)).catch(() => undefined);
  await writeFile(join(root, 'init'), INIT_SCRIPT, { mode: 0o755 });

  const moduleFiles = await findModules(join(unpacked, 'lib', 'modules', release, 'kernel'));
  for (const name of GUEST_MODULES) {
    const file = moduleFiles.get(name);
    if (!file) throw new Error(`module ${name} not found in ${pkg}`);
    const target = join(root, 'lib', 'modules', `${name}.ko`);
    if (file.endsWith('.ko')) await copyFile(file, target);
    else if (file.endsWith('.ko.xz')) await writeFile(target, await decompress('xz', file, signal));
    else if (file.endsWith('.ko.zst')) await writeFile(target, await decompress('zstd', file, signal));
    else throw new Error(`unsupported module compression: ${file}`);
  }
  const files = (await run('find', ['.'], signal, root)).split('\n').filter(Boolean).sort().join('\n');
  const archive = await new Promise<Buffer>((resolve, reject) => {
    const cpio = spawn('cpio', ['--quiet', '-o', '-H', 'newc', '-R', '0:0'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], signal });
    const chunks: Buffer[] = [];
    let stderr = '';
    cpio.stdout.on('data', (c: Buffer) => chunks.push(c));
    cpio.stderr.on('data', (c: Buffer) => {
      stderr += String(c);
    });
    cpio.on('error', reject);
    cpio.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`cpio failed: ${stderr}`))));
    cpio.stdin.end(`${files}\n`);
  });
  await writeFile(join(out, 'initrd.img'), gzipSync(archive));
  return release;
}

/** Module name (file name without .ko[.xz|.zst], with '-' as '_') → path. */
async function findModules(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const m = /^(.*)\.ko(\.xz|\.zst)?$/u.exec(entry.name);
    if (m?.[1]) found.set(m[1].replaceAll('-', '_'), join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
  }
  return found;
}

async function decompress(tool: 'xz' | 'zstd', file: string, signal: AbortSignal): Promise<Buffer> {
  const { stdout } = await execFileP(tool, ['-dc', file], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, signal });
  return stdout;
}
