/**
 * A running qemu, detached from the process that started it: qemu runs in its own session
 * (setsid) with stdout/stderr in its folder's qemu.log, inherits only its tap fds and two
 * listening monitor sockets the library made (qmp.sock for the owner, status.sock for short
 * status queries), and writes its pidfile. Killing the Node process changes nothing for the
 * guest; any later process takes the VM over with {@link Qemu.attach}.
 *
 * Driven over QMP: lifecycle (shutdown escalation, kill) and NIC hot-plug (getfd with
 * SCM_RIGHTS, netdev_add, device_add). The parent's copies of the tap fds are closed as soon
 * as qemu has them, so a tap lives exactly as long as its qemu.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';

import type { GuardRecord } from '../guard/identity.js';
import { releaseGuards } from '../guard/secure-port.js';
import { macForVm } from '../mac.js';
import { native, type NativePidFd } from '../native.js';
import { crashPoint } from '../state/crash-point.js';
import { livePidOf, openProvenProcess, readPidFile } from '../state/identity.js';
import { tryLock, type FileLock } from '../state/lock.js';
import { resolveRunDir } from '../state/run-dir.js';
import { claimVmFolder, readVmRecord, removeVmFolder, vmFolder, vmFolderExists, writeVmRecord, type VmFolder, type VmRecord } from '../state/vm-folder.js';
import type { Tap } from '../tap.js';
import { checkInteger, checkObject, checkString, invalidValue } from '../validate.js';
import { resolveAccel, type ResolvedAccel } from './accel.js';
import { buildQemuArgs, hotplugPortId, nicDeviceProps, type ArgvNic } from './argv.js';
import { listVms, type ListVmsOptions, type VmListEntry } from './list.js';
import { QmpClient, type QmpEvent } from './qmp.js';
import { isPcieMachine, resolveNic, resolveQemuBinary, resolveSpec, type QemuNic, type QemuSpec } from './spec.js';
import { abortable, checkSignal, hurried } from '../abort.js';
import { debug } from '../diagnostics.js';
import { ERROR_CODES, VmplumbError, type VmplumbErrorCode } from '../errors.js';
import { QemuExitedError } from './errors.js';

/** How qemu ended. */
export interface QemuExit {
  /** Exit status, or null when killed by a signal. */
  code: number | null;
  /** The signal that killed qemu, or null. */
  signal: NodeJS.Signals | null;
  /**
   * Why: the reason of qemu's SHUTDOWN event ('guest-shutdown', 'host-qmp-quit',
   * 'host-signal', 'guest-panic', …), 'killed' after vm.kill() or the SIGKILL step of
   * shutdown(), or 'exited' when qemu ended without saying why (e.g. a start-up error).
   */
  reason: string;
}

/** A NIC of a running VM. */
export interface QemuNicInfo {
  /** The netdev id (the device id is `${id}.dev`). */
  id: string;
  /** The NIC's MAC address, lower case. */
  mac: string;
  /** The qemu device model ('virtio-net-pci'). */
  model: string;
  /** The tap's name (qemu holds the tap). */
  tapName: string;
  /** Queues of the tap (one fd each; > 1 enables virtio-net multiqueue). */
  queues: number;
  /** Whether it was hot-plugged. */
  hotplugged: boolean;
  /** The pcie-root-port it sits on (q35 hot-plug). */
  port?: string;
  /** The port security of its tap (QemuNic.guard), removed when qemu ends or the NIC is unplugged. */
  guard?: GuardRecord;
}

/** Options of {@link Qemu.shutdown}. */
export interface ShutdownOptions {
  /**
   * Total time: system_powerdown gets 60 %, then `quit` 25 %, then SIGKILL the rest.
   * Default 30000 ms.
   */
  timeoutMs?: number;
  /** Stops waiting politely: qemu is killed at once (SIGKILL), then shutdown() rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of {@link Qemu.addNic}. */
export interface AddNicOptions {
  /** How long qemu may take to answer each QMP command; default 10000 ms. */
  timeoutMs?: number;
  /** Cancels the hot-plug until `device_add` is sent: what was made is undone, then addNic rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of {@link Qemu.removeNic}. */
export interface RemoveNicOptions {
  /** How long the guest may take to release the device; default 30000 ms. */
  timeoutMs?: number;
  /** Stops waiting for the guest: removeNic rejects with `signal.reason`, the removal finishes in the background. */
  signal?: AbortSignal;
}

/** Keep at most this much of qemu's stdout/stderr for error messages. */
const OUTPUT_LIMIT = 64 * 1024;

/** Options of {@link Qemu.attach}. */
export interface AttachOptions {
  /** The run directory; default $VMPLUMB_RUN_DIR or /run/vmplumb. */
  runDir?: string;
  /** How long qemu may take to greet on QMP; default 10000 ms. */
  timeoutMs?: number;
}

/** How a VM is managed: by its parent (spawn) or through a pidfd (attach). */
interface ProcessHandle {
  pid: number;
  signal(signal: NodeJS.Signals): void;
  /** Stops keeping the event loop alive for the process (its exit is still reported). */
  unref(): void;
}

/**
 * A qemu process. Events: 'event' (every QMP event), 'exit' (QemuExit).
 */
export class Qemu extends EventEmitter {
  /** The VM's name (its folder in the run directory). */
  readonly name: string;
  /** qemu's process id. */
  readonly pid: number;
  /** The QMP connection (already negotiated). */
  readonly qmp: QmpClient;
  /** Resolves once qemu has exited (and has been reaped, when this process is its parent). Never rejects. */
  readonly exited: Promise<QemuExit>;
  /** The machine type qemu runs. */
  readonly machine: string;
  /** The accelerator in use. */
  readonly accel: ResolvedAccel;
  /** The argv qemu was started with (without the binary). */
  readonly argv: readonly string[];
  /** The VM's folder in the run directory. */
  readonly folder: string;
  /** The metadata given to spawn (kept in spec.json). */
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
  /** Whether this process spawned qemu (false: attached to a VM another process started). */
  readonly spawned: boolean;
  #process: ProcessHandle;
  #paths: VmFolder;
  #record: VmRecord;
  #lock: FileLock | undefined;
  #exit: QemuExit | undefined;
  #why: { killed: boolean; shutdownReason: string | undefined };
  #nics: QemuNicInfo[];
  #freePorts: string[];
  #shutdownPromise: Promise<QemuExit> | undefined;
  #lastOutput: string | undefined;
  /** NIC removals under way (by NIC id), which an aborted removeNic leaves running. */
  #removing = new Map<string, Promise<void>>();

  private constructor(init: {
    process: ProcessHandle;
    qmp: QmpClient;
    paths: VmFolder;
    record: VmRecord;
    lock: FileLock;
    exited: Promise<QemuExit>;
    why: { killed: boolean; shutdownReason: string | undefined };
    spawned: boolean;
  }) {
    super();
    this.#why = init.why;
    this.name = init.record.name;
    this.#process = init.process;
    this.pid = init.process.pid;
    this.qmp = init.qmp;
    this.machine = init.record.machine;
    this.accel = init.record.accel;
    this.argv = init.record.argv;
    this.folder = init.paths.dir;
    this.metadata = init.record.metadata;
    this.spawned = init.spawned;
    this.#paths = init.paths;
    this.#record = init.record;
    this.#lock = init.lock;
    this.#nics = init.record.nics.map((n) => ({ ...n }));
    this.#freePorts = [...init.record.freePorts];
    this.exited = init.exited;
  }

  /**
   * Wires QMP events and the exit: the owner removes the guards of the VM's taps (the kernel
   * keeps a guard whose tap is gone), then the folder of a VM that has ended. `exited`
   * resolves after that.
   */
  #wire(onExit: { set(fn: (exit: QemuExit) => Promise<void>): void }): void {
    onExit.set(async (exit) => {
      this.#exit = exit;
      this.qmp.close();
      if (this.#lock) {
        // The log goes with the folder: keep its tail for `output` and start-up errors.
        this.#lastOutput = readTail(this.#paths.log);
        await releaseGuards(this.#nics.flatMap((n) => (n.guard ? [n.guard] : [])));
        removeVmFolder(this.#paths);
        this.#lock?.release();
        this.#lock = undefined;
      }
      this.emit('exit', exit);
    });
    this.qmp.on('event', (event: QmpEvent) => {
      if (event.event === 'SHUTDOWN' && typeof event.data?.reason === 'string') this.#why.shutdownReason = event.data.reason;
      this.emit('event', event);
    });
  }

  /**
   * Validates the spec, makes the VM's folder in the run directory, spawns qemu detached with
   * the taps' fds and its listening monitor sockets, and resolves once QMP is negotiated. The
   * taps are handed over: their `fds` are closed in this process. This process manages the VM
   * until {@link Qemu.close} (or its own end): then any process may {@link Qemu.attach}.
   *
   * @throws ERR_INVALID_ARG_* for a bad spec and ENOENT for a missing binary, before anything
   *   is spawned; EEXIST when a VM of that name runs; a QemuExitedError (ERR_QEMU_EXITED) with qemu's own stderr text
   *   when qemu exits before QMP is ready.
   */
  static async spawn(spec: QemuSpec): Promise<Qemu> {
    const s = resolveSpec(spec);
    const signal = checkSignal('spec.signal', (spec as { signal?: unknown }).signal);
    signal?.throwIfAborted();
    const binary = resolveQemuBinary(s.qemuBinary);
    const accel = await resolveAccel(s.accel, binary);
    const paths = vmFolder(s.runDir, s.name);
    const lock = claimVmFolder(paths);
    writeOwner(paths);
    crashPoint(`Qemu.spawn ${s.name}: folder claimed`);
    let child: ChildProcess | undefined;
    let qmp: QmpClient | undefined;
    try {
      // Child fds: 0-2 stdio, then every tap queue in order, then the two monitor sockets.
      const stdioFds: number[] = [];
      const nics: ArgvNic[] = s.nics.map((nic, i) => {
        const fds = nic.tap.fds.map((fd) => {
          stdioFds.push(fd);
          return 2 + stdioFds.length;
        });
        return { id: `net${i}`, fds, mac: nic.mac, model: nic.model };
      });
      const qmpFd = 3 + stdioFds.length;
      const argv = buildQemuArgs({
        name: s.name,
        uuid: s.uuid,
        machine: s.machine,
        accel,
        memoryMiB: s.memoryMiB,
        cpus: s.cpus,
        cdrom: s.cdrom,
        disks: s.disks,
        kernel: s.kernel,
        initrd: s.initrd,
        append: s.append,
        nics,
        serialFile: s.serialFile,
        qmpFd,
        monitorFd: qmpFd + 1,
        pidfile: paths.pid,
        hotplugSlots: s.hotplugSlots,
        extraArgs: s.extraArgs,
      });
      const record: VmRecord = {
        name: s.name,
        createdAt: new Date().toISOString(),
        qemuBinary: binary,
        argv,
        machine: s.machine,
        accel,
        nics: s.nics.map((nic, i) => ({
          id: `net${i}`,
          mac: nic.mac,
          model: nic.model,
          tapName: nic.tap.name,
          queues: nics[i]?.fds.length ?? 1,
          hotplugged: false,
          ...(nic.guard === undefined ? {} : { guard: nic.guard }),
        })),
        freePorts: isPcieMachine(s.machine) ? Array.from({ length: s.hotplugSlots }, (_, i) => hotplugPortId(i)) : [],
        nextNic: s.nics.length,
        ...(s.serialFile === undefined ? {} : { serialFile: s.serialFile }),
        ...(s.metadata === undefined ? {} : { metadata: s.metadata }),
      };
      writeVmRecord(paths, record);
      crashPoint(`Qemu.spawn ${s.name}: spec.json written`);

      const listening: number[] = [];
      let logFd = -1;
      try {
        listening.push(native.unixListen(paths.qmp, 8), native.unixListen(paths.status, 64));
        logFd = openSync(paths.log, 'a', 0o600);
        // detached: setsid(2), so a signal to our process group or session never reaches qemu.
        child = spawn(binary, argv, { detached: true, stdio: ['ignore', logFd, logFd, ...stdioFds, ...listening] });
      } finally {
        for (const fd of listening) closeSync(fd);
        if (logFd >= 0) closeSync(logFd);
      }
      const spawnedChild = child;
      if (spawnedChild.pid === undefined) {
        // exec failed (the 'error' event follows): the taps stay the caller's.
        throw await new Promise<Error>((resolve) => spawnedChild.once('error', resolve));
      }
      crashPoint(`Qemu.spawn ${s.name}: qemu spawned`);
      // qemu has its copies now; ours go, so the tap's life is qemu's.
      for (const nic of s.nics) nic.tap.close();
      spawnedChild.on('error', () => {
        /* reported through 'exit' */
      });

      const why = { killed: false, shutdownReason: undefined as string | undefined };
      let onExit: ((exit: QemuExit) => Promise<void>) | undefined;
      const exited = new Promise<QemuExit>((resolve) => {
        spawnedChild.once('close', (code, signal) => {
          const reason = why.killed ? 'killed' : (why.shutdownReason ?? (signal ? 'host-signal' : 'exited'));
          const exit: QemuExit = { code, signal, reason };
          void Promise.resolve(onExit?.(exit)).then(() => resolve(exit));
        });
      });
      // The socket exists and listens already: connect completes now, the greeting comes
      // once qemu accepts.
      qmp = connectQmp(paths.qmp);
      const handle: ProcessHandle = {
        pid: spawnedChild.pid,
        signal: (signal) => {
          spawnedChild.kill(signal);
        },
        unref: () => spawnedChild.unref(),
      };
      const vm = new Qemu({ process: handle, qmp, paths, record, lock, exited, why, spawned: true });
      vm.#wire({
        set: (fn) => {
          onExit = fn;
        },
      });

      const early = exited.then(async (exit) => {
        const text = vm.output.trim();
        const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
        throw new QemuExitedError(`qemu exited with ${how} before QMP was ready${text ? `: ${text}` : ''}`, exit, text);
      });
      early.catch(() => {
        /* after start-up an exit is reported through vm.exited */
      });
      try {
        await abortable(Promise.race([qmp.negotiate(s.startTimeoutMs), early]), signal);
      } catch (error) {
        vm.kill();
        await exited;
        if (signal?.aborted) throw signal.reason;
        const died = await early.catch((e: unknown) => e);
        throw died instanceof Error && (error as { code?: string }).code !== 'ETIMEDOUT' ? died : error;
      }
      crashPoint(`Qemu.spawn ${s.name}: QMP ready`);
      return vm;
    } catch (error) {
      qmp?.close();
      // Nothing of a VM that never came up stays: its folder goes (the process is gone or was never there).
      if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) removeVmFolder(paths);
      lock.release();
      throw error;
    }
  }

  /**
   * Takes over VM `name`, started by any process (this one included, after close()): proves
   * that the pid in its folder is its qemu (lib/state/identity.ts), then connects to its QMP
   * socket. Returns the same API as spawn; `exited` is observed through a pidfd (the exit
   * status of a process that is not our child cannot be known: `code` and `signal` are null
   * unless this process killed it).
   *
   * One process manages a VM at a time (QMP serves one client per socket): while another
   * process holds it, attach fails at once with code 'ERR_VM_BUSY' naming that process;
   * `Qemu.list()` and status queries use the VM's second monitor and always work.
   *
   * @throws ENOENT when there is no such VM, ERR_VM_BUSY, ERR_VM_GONE when its process is
   *   gone (or its pid now belongs to another process, which is never signalled).
   */
  static async attach(name: string, options: AttachOptions = {}): Promise<Qemu> {
    if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/u.test(name) || name === '.' || name === '..') {
      throw invalidValue('name', 'the name of a VM', name);
    }
    const o = checkObject('options', options);
    const runDir = resolveRunDir(o.runDir);
    const timeoutMs = o.timeoutMs === undefined ? 10_000 : checkInteger('options.timeoutMs', o.timeoutMs, 1, 600_000);
    const paths = vmFolder(runDir, name);
    if (!vmFolderExists(paths)) {
      throw vmError(name, ERROR_CODES.NOT_FOUND, `no such VM in ${runDir}`);
    }
    const lock = tryLock(paths.lock);
    if (!lock)
      throw vmError(
        name,
        ERROR_CODES.VM_BUSY,
        `managed by another process${ownerText(paths)}; only one process may hold its QMP monitor (use Qemu.list() for its state)`,
      );
    let pidfd: NativePidFd | undefined;
    let qmp: QmpClient | undefined;
    try {
      writeOwner(paths);
      const record = await readVmRecord(paths);
      const pid = livePidOf(paths.pid);
      const why = { killed: false, shutdownReason: undefined as string | undefined };
      let onExit: ((exit: QemuExit) => Promise<void>) | undefined;
      let resolveExit: (exit: QemuExit) => void = () => undefined;
      const exited = new Promise<QemuExit>((resolve) => {
        resolveExit = resolve;
      });
      const report = (): void => {
        pidfd?.close();
        const exit: QemuExit = { code: null, signal: why.killed ? 'SIGKILL' : null, reason: why.killed ? 'killed' : (why.shutdownReason ?? 'exited') };
        void Promise.resolve(onExit?.(exit)).then(() => resolveExit(exit));
      };
      pidfd = pid === undefined ? undefined : openProvenProcess(pid, paths.pid, report);
      if (!pidfd) {
        throw vmError(
          name,
          ERROR_CODES.VM_GONE,
          pid === undefined
            ? `not running (no process carries its pidfile${readPidFile(paths.pid) === undefined ? '' : `; pid ${readPidFile(paths.pid)} is another process`}): remove it with VxlanNetwork.cleanup() or \`vmplumb gc\``
            : `not running: remove it with VxlanNetwork.cleanup() or \`vmplumb gc\``,
        );
      }
      const proven = pidfd;
      qmp = connectQmp(paths.qmp);
      const handle: ProcessHandle = {
        pid: pid as number,
        signal: (signal) => {
          proven.sendSignal(osConstants.signals[signal]);
        },
        unref: () => proven.unref(),
      };
      const vm = new Qemu({ process: handle, qmp, paths, record, lock, exited, why, spawned: false });
      vm.#wire({
        set: (fn) => {
          onExit = fn;
        },
      });
      await Promise.race([
        qmp.negotiate(timeoutMs),
        exited.then(() => {
          throw vmError(name, ERROR_CODES.VM_GONE, 'exited while attaching');
        }),
      ]);
      return vm;
    } catch (error) {
      qmp?.close();
      pidfd?.close();
      lock.release();
      throw error;
    }
  }

  /** Every VM of the run directory with its state (running, paused, starting, shutoff, unknown) and pid. */
  static list(options: ListVmsOptions = {}): Promise<VmListEntry[]> {
    return listVms(options);
  }

  /**
   * Lets go of the VM without stopping it: closes QMP and releases the VM for another process
   * to attach. The event loop is no longer kept alive for qemu, but `exited` still resolves if
   * it ends while this process runs. Idempotent.
   */
  close(): void {
    if (!this.#lock) return;
    this.#lock.release();
    this.#lock = undefined;
    this.qmp.close();
    this.#process.unref();
  }

  /** Whether this process manages the VM (until close() or its exit). */
  get managed(): boolean {
    return this.#lock !== undefined;
  }

  /** qemu's recent stdout and stderr (the last 64 KiB of its qemu.log). */
  get output(): string {
    return this.#lastOutput ?? readTail(this.#paths.log);
  }

  /** How qemu ended, once it has. */
  get exitStatus(): QemuExit | undefined {
    return this.#exit;
  }

  /** True until qemu has exited. */
  get running(): boolean {
    return this.#exit === undefined;
  }

  /** The VM's NICs (cold- and hot-plugged). */
  get nics(): readonly QemuNicInfo[] {
    return this.#nics;
  }

  /** Sends a signal to qemu (default SIGKILL; idempotent once it exited). exited's reason becomes 'killed'. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#exit) return;
    if (signal === 'SIGKILL') this.#why.killed = true;
    this.#process.signal(signal);
  }

  /**
   * Stops the VM, politely first: ACPI system_powerdown, then QMP `quit` after 60 % of the
   * timeout, then SIGKILL after another 25 %. Resolves with the exit (idempotent).
   */
  async shutdown(options: ShutdownOptions = {}): Promise<QemuExit> {
    // async: a bad option or an aborted signal is a rejection, like every other failure.
    const o = checkObject('options', options);
    const timeoutMs = o.timeoutMs === undefined ? 30_000 : checkInteger('timeoutMs', o.timeoutMs, 1, 3_600_000);
    const signal = checkSignal('options.signal', o.signal);
    signal?.throwIfAborted();
    this.#shutdownPromise ??= this.#shutdown(timeoutMs);
    // Aborted: killed at once, and the rejection comes once the kill has landed (no qemu left).
    return hurried(this.#shutdownPromise, signal, () => this.kill());
  }

  async #shutdown(timeoutMs: number): Promise<QemuExit> {
    if (this.#exit) return this.#exit;
    const powerdownMs = Math.floor(timeoutMs * 0.6);
    const quitMs = Math.floor(timeoutMs * 0.25);
    const exitedWithin = (ms: number): Promise<boolean> =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        void this.exited.then(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    const step = async (command: string, ms: number): Promise<boolean> => {
      const start = Date.now();
      try {
        await this.qmp.execute(command, undefined, { timeoutMs: Math.max(1, ms) });
      } catch {
        // A hung or vanished QMP: fall through to waiting, then the next step.
      }
      crashPoint(`Qemu ${this.name} shutdown: ${command} sent`);
      return exitedWithin(Math.max(0, ms - (Date.now() - start)));
    };
    if (await step('system_powerdown', powerdownMs)) return this.exited;
    if (await step('quit', quitMs)) return this.exited;
    this.kill('SIGKILL');
    return this.exited;
  }

  /**
   * Hot-plugs a NIC: each tap fd goes to qemu with SCM_RIGHTS (`getfd`), then `netdev_add`
   * and `device_add` (on q35 into a free pre-created pcie-root-port). The tap is handed over
   * (its fds are closed here) once qemu holds it. On failure what was added is removed and the
   * tap stays the caller's.
   *
   * With `signal`: an abort before `device_add` is sent rolls back like a failure (qemu's
   * copies of the tap fds closed with `closefd`/`netdev_del`, in order on the one monitor) and
   * rejects with `signal.reason`. `device_add` is the last step and is not taken back: an abort
   * after it was sent is too late, and addNic resolves with the NIC.
   */
  async addNic(nic: QemuNic, options: AddNicOptions = {}): Promise<QemuNicInfo> {
    const o = checkObject('options', options);
    const timeoutMs = o.timeoutMs === undefined ? 10_000 : checkInteger('options.timeoutMs', o.timeoutMs, 1, 600_000);
    const signal = checkSignal('options.signal', o.signal);
    const index = this.#record.nextNic;
    const resolved = resolveNic('nic', checkObject('nic', nic), macForVm(`${this.name}/${index}`));
    if (this.#nics.some((n) => n.mac === resolved.mac)) throw invalidValue('nic.mac', 'a MAC not used by another NIC', resolved.mac);
    signal?.throwIfAborted();
    if (this.#exit) throw new VmplumbError(ERROR_CODES.INVALID_STATE, `qemu ${this.name} has exited`);
    const pcie = isPcieMachine(this.machine);
    const port = pcie ? this.#freePorts[0] : undefined;
    if (pcie && port === undefined) throw new VmplumbError(ERROR_CODES.NO_SPACE, `qemu ${this.name}: no free hot-plug slot (raise spec.hotplugSlots)`);
    this.#record.nextNic += 1;
    const id = `net${index}`;
    const tap: Tap = resolved.tap;
    const fdnames = tap.fds.map((_, q) => `${id}q${q}`);
    // What was sent, not what was answered: an aborted command may still run, and the undo
    // commands queue behind it on the monitor (QMP runs one client's commands in order).
    const sent: string[] = [];
    let netdevSent = false;
    const step = { timeoutMs, ...(signal === undefined ? {} : { signal }) };
    try {
      for (const [q, fd] of tap.fds.entries()) {
        signal?.throwIfAborted();
        sent.push(fdnames[q] as string);
        await this.qmp.execute('getfd', { fdname: fdnames[q] }, { ...step, fds: [fd] });
      }
      const netdev: Record<string, unknown> = { type: 'tap', id };
      if (fdnames.length === 1) netdev.fd = fdnames[0];
      else netdev.fds = fdnames.join(':');
      signal?.throwIfAborted();
      netdevSent = true;
      await this.qmp.execute('netdev_add', netdev, step);
      sent.length = 0; // netdev_add took the fds out of the monitor's table
      const props: Record<string, unknown> = nicDeviceProps({ id, mac: resolved.mac, model: resolved.model, queues: fdnames.length });
      if (port) props.bus = port;
      signal?.throwIfAborted();
      await this.qmp.execute('device_add', props, { timeoutMs });
    } catch (error) {
      if (netdevSent) await this.qmp.execute('netdev_del', { id }, { timeoutMs }).catch(() => undefined);
      for (const name of sent) await this.qmp.execute('closefd', { fdname: name }, { timeoutMs }).catch(() => undefined);
      debug('addNic %s on %s undone: %s', id, this.name, (error as Error).message);
      throw error;
    }
    tap.close();
    if (port) this.#freePorts.shift();
    const info: QemuNicInfo = {
      id,
      mac: resolved.mac,
      model: resolved.model,
      tapName: tap.name,
      queues: fdnames.length,
      hotplugged: true,
      ...(port ? { port } : {}),
      ...(resolved.guard === undefined ? {} : { guard: resolved.guard }),
    };
    this.#nics.push(info);
    this.#persist();
    return info;
  }

  /**
   * Unplugs a NIC: `device_del`, waits for DEVICE_DELETED (the guest must release the device;
   * under TCG that can take seconds), then `netdev_del`, which closes qemu's tap fds.
   *
   * With `signal`: an abort before `device_del` is sent changes nothing. `device_del` cannot
   * be taken back (the guest is asked to eject the device): an abort while the guest is waited
   * for rejects with `signal.reason` at once, and the removal goes on in the background — the
   * NIC stays in {@link Qemu.nics} (and spec.json) until the guest releases it, then
   * `netdev_del` runs and it is gone. A later removeNic(id) waits for that same removal.
   */
  async removeNic(id: string, options: RemoveNicOptions = {}): Promise<void> {
    checkString('id', id);
    const o = checkObject('options', options);
    const timeoutMs = o.timeoutMs === undefined ? 30_000 : checkInteger('options.timeoutMs', o.timeoutMs, 1, 3_600_000);
    const signal = checkSignal('options.signal', o.signal);
    const nic = this.#nics.find((n) => n.id === id);
    if (!nic) throw invalidValue('id', `one of this VM's NIC ids (${this.#nics.map((n) => n.id).join(', ')})`, id);
    signal?.throwIfAborted();
    let removal = this.#removing.get(id);
    if (!removal) {
      removal = this.#unplug(nic, timeoutMs);
      const started = removal;
      this.#removing.set(id, started);
      void started.then(
        () => this.#removing.delete(id),
        () => this.#removing.delete(id),
      );
    }
    return abortable(removal, signal);
  }

  async #unplug(nic: QemuNicInfo, timeoutMs: number): Promise<void> {
    const device = `${nic.id}.dev`;
    const deleted = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', onEvent);
        reject(new VmplumbError(ERROR_CODES.TIMEOUT, `qemu ${this.name}: the guest did not release ${device} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onEvent = (event: QmpEvent): void => {
        if (event.event === 'DEVICE_DELETED' && event.data?.device === device) {
          clearTimeout(timer);
          this.off('event', onEvent);
          resolve();
        }
      };
      this.on('event', onEvent);
    });
    try {
      await this.qmp.execute('device_del', { id: device }, { timeoutMs });
    } catch (error) {
      deleted.catch(() => undefined);
      throw error;
    }
    await deleted;
    await this.qmp.execute('netdev_del', { id: nic.id }, { timeoutMs });
    // qemu closed the tap: its guard goes too.
    if (nic.guard) await releaseGuards([nic.guard]);
    this.#nics = this.#nics.filter((n) => n !== nic);
    if (nic.port) this.#freePorts.push(nic.port);
    this.#persist();
  }

  /** Keeps spec.json in step with hot-plug, for whoever attaches next. */
  #persist(): void {
    this.#record = { ...this.#record, nics: this.#nics.map((n) => ({ ...n })), freePorts: [...this.#freePorts] };
    if (this.#lock) writeVmRecord(this.#paths, this.#record);
  }

  /** `await using vm = await Qemu.spawn(…)`: shutdown with a 10 s budget. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ timeoutMs: 10_000 });
  }
}

/** A QMP client on a fresh connection to a VM's listening monitor socket. */
function connectQmp(path: string): QmpClient {
  const fd = native.unixConnect(path);
  const socket = new Socket({ fd, readable: true, writable: true });
  return new QmpClient(socket, { sendWithFds: (data, fds) => native.sendWithFds(fd, data, fds) });
}

/** The tail of qemu.log, for error messages. */
function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-OUTPUT_LIMIT);
  } catch {
    return '';
  }
}

function vmError(name: string, code: VmplumbErrorCode, why: string): VmplumbError {
  return new VmplumbError(code, `VM ${name}: ${why}`);
}

/** Notes which process manages the VM, in its lock file (for the ERR_VM_BUSY message). */
function writeOwner(paths: VmFolder): void {
  try {
    writeFileSync(paths.lock, `${process.pid}\n`);
  } catch {
    // only a diagnostic
  }
}

function ownerText(paths: VmFolder): string {
  const pid = readPidFile(paths.lock);
  return pid === undefined ? '' : ` (pid ${pid})`;
}
