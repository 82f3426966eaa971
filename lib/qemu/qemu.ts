/**
 * A running qemu: spawned with its tap fds inherited (child fds 3, 4, …) and QMP on an
 * inherited socket pair, then driven over QMP: lifecycle (shutdown escalation, kill) and NIC
 * hot-plug (getfd with SCM_RIGHTS, netdev_add, device_add).
 *
 * The parent's copies of the tap fds are closed as soon as qemu has them (uv_spawn returns
 * after the child exec'd), so a tap lives exactly as long as its qemu. Every other fd the
 * library holds is O_CLOEXEC, so no other child can inherit a tap.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';

import { macForVm } from '../mac.js';
import { native } from '../native.js';
import type { Tap } from '../tap.js';
import { checkInteger, checkObject, checkString, invalidValue } from '../validate.js';
import { resolveAccel } from './accel.js';
import { buildQemuArgs, hotplugPortId, nicDeviceProps, type ArgvNic } from './argv.js';
import { QmpClient, type QmpEvent } from './qmp.js';
import { isPcieMachine, resolveNic, resolveQemuBinary, resolveSpec, type QemuNic, type QemuSpec } from './spec.js';

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
}

/** Options of {@link Qemu.shutdown}. */
export interface ShutdownOptions {
  /**
   * Total time: system_powerdown gets 60 %, then `quit` 25 %, then SIGKILL the rest.
   * Default 30000 ms.
   */
  timeoutMs?: number;
}

/** Keep at most this much of qemu's stdout/stderr for error messages. */
const OUTPUT_LIMIT = 64 * 1024;

/**
 * A qemu process. Events: 'event' (every QMP event), 'exit' (QemuExit).
 */
export class Qemu extends EventEmitter {
  /** The VM's name. */
  readonly name: string;
  /** qemu's process id. */
  readonly pid: number;
  /** The QMP connection (already negotiated). */
  readonly qmp: QmpClient;
  /** Resolves once qemu has exited (and has been reaped). Never rejects. */
  readonly exited: Promise<QemuExit>;
  /** The machine type qemu runs. */
  readonly machine: string;
  /** The accelerator in use. */
  readonly accel: 'kvm' | 'tcg';
  /** The argv qemu was started with (without the binary). */
  readonly argv: readonly string[];
  #child: ChildProcess;
  #qmpFd: number;
  #output: { text: string };
  #exit: QemuExit | undefined;
  #why: { killed: boolean; shutdownReason: string | undefined };
  #nics: QemuNicInfo[];
  #freePorts: string[];
  #nextNic: number;
  #shutdownPromise: Promise<QemuExit> | undefined;

  private constructor(init: {
    name: string; child: ChildProcess; qmp: QmpClient; qmpFd: number; machine: string; accel: 'kvm' | 'tcg'; argv: string[];
    nics: QemuNicInfo[]; ports: string[]; output: { text: string }; exited: Promise<QemuExit>;
    why: { killed: boolean; shutdownReason: string | undefined };
  }) {
    super();
    this.#why = init.why;
    this.name = init.name;
    this.#child = init.child;
    this.pid = init.child.pid as number;
    this.qmp = init.qmp;
    this.#qmpFd = init.qmpFd;
    this.machine = init.machine;
    this.accel = init.accel;
    this.argv = init.argv;
    this.#nics = init.nics;
    this.#freePorts = init.ports;
    this.#nextNic = init.nics.length;
    this.#output = init.output;
    this.exited = init.exited;
  }

  /**
   * Validates the spec, spawns qemu with the taps' fds and a QMP socket, and resolves once
   * QMP is negotiated. The taps are handed over: their `fds` are closed in this process.
   *
   * @throws ERR_INVALID_ARG_* for a bad spec and ENOENT for a missing binary, before anything
   *   is spawned; an Error with qemu's own stderr text when qemu exits before QMP is ready.
   */
  static async spawn(spec: QemuSpec): Promise<Qemu> {
    const s = resolveSpec(spec);
    const binary = resolveQemuBinary(s.qemuBinary);
    const accel = await resolveAccel(s.accel, binary);

    // Child fds: 0-2 stdio, then every tap queue in order, then QMP.
    const stdioFds: number[] = [];
    const nics: ArgvNic[] = s.nics.map((nic, i) => {
      const fds = nic.tap.fds.map((fd) => {
        stdioFds.push(fd);
        return 2 + stdioFds.length;
      });
      return { id: `net${i}`, fds, mac: nic.mac, model: nic.model };
    });
    const [parentEnd, childEnd] = native.socketPair();
    const qmpFd = 3 + stdioFds.length;
    const argv = buildQemuArgs({
      name: s.name, uuid: s.uuid, machine: s.machine, accel, memoryMiB: s.memoryMiB, cpus: s.cpus, cdrom: s.cdrom,
      disks: s.disks, kernel: s.kernel, initrd: s.initrd, append: s.append, nics, serialFile: s.serialFile, qmpFd,
      hotplugSlots: s.hotplugSlots, extraArgs: s.extraArgs,
    });

    let child: ChildProcess;
    try {
      child = spawn(binary, argv, { stdio: ['ignore', 'pipe', 'pipe', ...stdioFds, childEnd] });
    } catch (error) {
      closeSync(parentEnd);
      closeSync(childEnd);
      throw error;
    }
    closeSync(childEnd);
    if (child.pid === undefined) {
      // exec failed (the 'error' event follows): the taps stay the caller's.
      closeSync(parentEnd);
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw error;
    }
    // qemu has its copies now; ours go, so the tap's life is qemu's.
    for (const nic of s.nics) nic.tap.close();

    const output = { text: '' };
    const drain = (chunk: string): void => {
      output.text = (output.text + chunk).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.setEncoding('utf8').on('data', drain);
    child.stderr?.setEncoding('utf8').on('data', drain);
    child.on('error', () => { /* reported through 'exit' */ });
    // Why qemu stopped, as far as we know when it exits: filled in by vm.kill() and events.
    const why = { killed: false, shutdownReason: undefined as string | undefined };
    let onExit: ((exit: QemuExit) => void) | undefined;
    const exited = new Promise<QemuExit>((resolve) => {
      // 'close', not 'exit': by then qemu's stdout and stderr are drained (its error text is
      // complete) and the process has been reaped.
      child.once('close', (code, signal) => {
        const reason = why.killed ? 'killed' : why.shutdownReason ?? (signal ? 'host-signal' : 'exited');
        const exit: QemuExit = { code, signal, reason };
        onExit?.(exit);
        resolve(exit);
      });
    });

    const socket = new Socket({ fd: parentEnd, readable: true, writable: true });
    const qmp = new QmpClient(socket, { sendWithFds: (data, fds) => native.sendWithFds(parentEnd, data, fds) });
    const ports = isPcieMachine(s.machine) ? Array.from({ length: s.hotplugSlots }, (_, i) => hotplugPortId(i)) : [];
    const nicInfo = s.nics.map((nic, i): QemuNicInfo => ({
      id: `net${i}`, mac: nic.mac, model: nic.model, tapName: nic.tap.name, queues: nics[i]?.fds.length ?? 1, hotplugged: false,
    }));
    const vm = new Qemu({ name: s.name, child, qmp, qmpFd: parentEnd, machine: s.machine, accel, argv, nics: nicInfo, ports, output, exited, why });
    onExit = (exit) => {
      vm.#exit = exit;
      vm.qmp.close();
      vm.emit('exit', exit);
    };
    qmp.on('event', (event: QmpEvent) => {
      if (event.event === 'SHUTDOWN' && typeof event.data?.reason === 'string') why.shutdownReason = event.data.reason;
      vm.emit('event', event);
    });

    const early = exited.then((exit) => {
      const text = output.text.trim();
      const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
      const error = new Error(`qemu exited with ${how} before QMP was ready${text ? `: ${text}` : ''}`) as NodeJS.ErrnoException & { stderr?: string };
      error.code = 'ERR_QEMU_EXITED';
      error.stderr = text;
      throw error;
    });
    early.catch(() => { /* after start-up an exit is reported through vm.exited */ });
    try {
      await Promise.race([qmp.negotiate(s.startTimeoutMs), early]);
    } catch (error) {
      vm.kill();
      await exited;
      qmp.close();
      // Prefer qemu's own words when it died while we were negotiating.
      const died = await early.catch((e: unknown) => e);
      throw died instanceof Error && (error as { code?: string }).code !== 'ETIMEDOUT' ? died : error;
    }
    return vm;
  }

  /** qemu's recent stdout and stderr (the last 64 KiB). */
  get output(): string {
    return this.#output.text;
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
    this.#child.kill(signal);
  }

  /**
   * Stops the VM, politely first: ACPI system_powerdown, then QMP `quit` after 60 % of the
   * timeout, then SIGKILL after another 25 %. Resolves with the exit (idempotent).
   */
  shutdown(options: ShutdownOptions = {}): Promise<QemuExit> {
    const o = checkObject('options', options);
    const timeoutMs = o.timeoutMs === undefined ? 30_000 : checkInteger('timeoutMs', o.timeoutMs, 1, 3_600_000);
    this.#shutdownPromise ??= this.#shutdown(timeoutMs);
    return this.#shutdownPromise;
  }

  async #shutdown(timeoutMs: number): Promise<QemuExit> {
    if (this.#exit) return this.#exit;
    const powerdownMs = Math.floor(timeoutMs * 0.6);
    const quitMs = Math.floor(timeoutMs * 0.25);
    const exitedWithin = (ms: number): Promise<boolean> =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        void this.exited.then(() => { clearTimeout(timer); resolve(true); });
      });
    const step = async (command: string, ms: number): Promise<boolean> => {
      const start = Date.now();
      try {
        await this.qmp.execute(command, undefined, { timeoutMs: Math.max(1, ms) });
      } catch {
        // A hung or vanished QMP: fall through to waiting, then the next step.
      }
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
   * (its fds are closed here) once qemu holds it. On failure what was added is removed.
   */
  async addNic(nic: QemuNic, options: { timeoutMs?: number } = {}): Promise<QemuNicInfo> {
    const index = this.#nextNic;
    const resolved = resolveNic('nic', checkObject('nic', nic), macForVm(`${this.name}/${index}`));
    if (this.#nics.some((n) => n.mac === resolved.mac)) throw invalidValue('nic.mac', 'a MAC not used by another NIC', resolved.mac);
    if (this.#exit) throw new Error(`qemu ${this.name} has exited`);
    const pcie = isPcieMachine(this.machine);
    const port = pcie ? this.#freePorts[0] : undefined;
    if (pcie && port === undefined) throw new Error(`qemu ${this.name}: no free hot-plug slot (raise spec.hotplugSlots)`);
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.#nextNic += 1;
    const id = `net${index}`;
    const tap: Tap = resolved.tap;
    const fdnames = tap.fds.map((_, q) => `${id}q${q}`);
    const sent: string[] = [];
    let netdevAdded = false;
    try {
      for (const [q, fd] of tap.fds.entries()) {
        await this.qmp.execute('getfd', { fdname: fdnames[q] }, { fds: [fd], timeoutMs });
        sent.push(fdnames[q] as string);
      }
      const netdev: Record<string, unknown> = { type: 'tap', id };
      if (fdnames.length === 1) netdev.fd = fdnames[0];
      else netdev.fds = fdnames.join(':');
      await this.qmp.execute('netdev_add', netdev, { timeoutMs });
      netdevAdded = true;
      sent.length = 0; // netdev_add took the fds out of the monitor's table
      const props: Record<string, unknown> = nicDeviceProps({ id, mac: resolved.mac, model: resolved.model, queues: fdnames.length });
      if (port) props.bus = port;
      await this.qmp.execute('device_add', props, { timeoutMs });
    } catch (error) {
      if (netdevAdded) await this.qmp.execute('netdev_del', { id }, { timeoutMs }).catch(() => undefined);
      for (const name of sent) await this.qmp.execute('closefd', { fdname: name }, { timeoutMs }).catch(() => undefined);
      throw error;
    }
    tap.close();
    if (port) this.#freePorts.shift();
    const info: QemuNicInfo = { id, mac: resolved.mac, model: resolved.model, tapName: tap.name, queues: fdnames.length, hotplugged: true, ...(port ? { port } : {}) };
    this.#nics.push(info);
    return info;
  }

  /**
   * Unplugs a NIC: `device_del`, waits for DEVICE_DELETED (the guest must release the device;
   * under TCG that can take seconds), then `netdev_del`, which closes qemu's tap fds.
   */
  async removeNic(id: string, options: { timeoutMs?: number } = {}): Promise<void> {
    checkString('id', id);
    const nic = this.#nics.find((n) => n.id === id);
    if (!nic) throw invalidValue('id', `one of this VM's NIC ids (${this.#nics.map((n) => n.id).join(', ')})`, id);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const device = `${id}.dev`;
    const deleted = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', onEvent);
        reject(new Error(`qemu ${this.name}: the guest did not release ${device} within ${timeoutMs} ms`));
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
    await this.qmp.execute('netdev_del', { id }, { timeoutMs });
    this.#nics = this.#nics.filter((n) => n !== nic);
    if (nic.port) this.#freePorts.push(nic.port);
  }

  /** `await using vm = await Qemu.spawn(…)`: shutdown with a 10 s budget. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ timeoutMs: 10_000 });
  }

  /** The parent's end of the QMP socket pair (for diagnostics). */
  get qmpFd(): number {
    return this.#qmpFd;
  }
}
