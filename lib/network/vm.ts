/**
 * A VM attached to a network: its qemu process and the tap it owns. The tap is not persistent,
 * so the kernel removes it when the last fd closes; the handle closes it as soon as qemu has
 * exited, whether stop() asked for it or the guest powered off by itself.
 */
import { checkSignal, hurried } from '../abort.js';
import type { QmpClient } from '../qemu/index.js';
import { crashPoint } from '../state/crash-point.js';
import { checkInteger, checkObject } from '../validate.js';
import type { GuardPort, QemuPort, TapPort } from './deps.js';
import type { QemuExit } from '../qemu/qemu.js';

/**
 * `{ timeoutMs?, signal? }` of a stop or a destroy, checked (timeoutMs 0–3,600,000 ms, 30 s by
 * default); throws the signal's reason when it is already aborted.
 */
export function checkStopOptions(options: unknown): { timeoutMs: number; signal: AbortSignal | undefined } {
  const o = checkObject('options', options);
  const timeoutMs = o.timeoutMs === undefined ? 30_000 : checkInteger('options.timeoutMs', o.timeoutMs, 0, 3_600_000);
  const signal = checkSignal('options.signal', o.signal);
  signal?.throwIfAborted();
  return { timeoutMs, signal };
}

/** Stop options. */
export interface StopVmOptions {
  /** How long the guest gets to power off after ACPI shutdown before qemu is killed (ms, default 30000). */
  timeoutMs?: number;
  /** Stops waiting politely: qemu is killed at once, then stop() rejects with `signal.reason` once it has exited. */
  signal?: AbortSignal;
}

/** A running VM in a {@link VxlanNetwork}. */
export class NetworkVm {
  /** The VM id given to startVm. */
  readonly id: number;
  /** The qemu `-name` (vm<id>). */
  readonly name: string;
  /** The NIC's MAC. */
  readonly mac: string;
  /** The address the guest configures by SLAAC: the prefix + EUI-64 of `mac` (RFC 4291 App. A). */
  readonly address: string;
  /** The tap's name. */
  readonly tap: string;
  /** Resolves once qemu has exited and the tap (and its guard) are gone. */
  readonly exited: Promise<QemuExit>;
  /** The tap's port security (`counters()`), unless started with `portSecurity: false`. */
  readonly portSecurity: GuardPort | undefined;

  private readonly qemu: QemuPort;
  private stopping: Promise<QemuExit> | undefined;
  private done = false;

  /** @internal Made by VxlanNetwork.startVm. */
  constructor(
    init: { id: number; name: string; mac: string; address: string; tap: TapPort; qemu: QemuPort; tapGone: () => Promise<void>; guard?: GuardPort | undefined },
    onExit: (vm: NetworkVm, exit: QemuExit, expected: boolean) => void,
  ) {
    this.id = init.id;
    this.name = init.name;
    this.mac = init.mac;
    this.address = init.address;
    this.tap = init.tap.name;
    this.portSecurity = init.guard;
    this.qemu = init.qemu;
    const tap = init.tap;
    this.exited = init.qemu.exited
      .catch((error: unknown): QemuExit => ({ code: null, signal: null, reason: `error: ${String(error)}` }))
      .then(async (exit) => {
        try {
          // qemu held the only fds of the (non-persistent) tap; ours, if any, go now.
          await tap.close();
          await init.tapGone();
        } finally {
          this.done = true;
          onExit(this, exit, this.stopping !== undefined);
        }
        return exit;
      });
  }

  /** qemu's pid. */
  get pid(): number {
    return this.qemu.pid;
  }

  /** qemu's QMP client (`await vm.qmp.execute('query-status')`). */
  get qmp(): QmpClient {
    return this.qemu.qmp as QmpClient;
  }

  /** Whether qemu is still running. */
  get running(): boolean {
    return !this.done;
  }

  /**
   * Asks the guest to power off (ACPI), kills qemu after `timeoutMs`, and resolves when it has
   * exited and its tap is gone. Idempotent.
   */
  stop(options: StopVmOptions = {}): Promise<QemuExit> {
    let timeoutMs: number;
    let signal: AbortSignal | undefined;
    try {
      ({ timeoutMs, signal } = checkStopOptions(options));
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.stopping ??= this.stopNow(timeoutMs);
    // Aborted: qemu is killed at once; the rejection comes once it has exited and its tap is gone.
    return hurried(this.stopping, signal, () => this.kill());
  }

  private kill(): void {
    try {
      this.qemu.kill();
    } catch {
      /* already gone */
    }
  }

  private async stopNow(timeoutMs: number): Promise<QemuExit> {
    if (this.done) return this.exited;
    // Whatever shutdown() does on its own timeout, qemu is gone shortly after ours.
    const backstop = setTimeout(() => this.kill(), timeoutMs + 2000);
    try {
      await this.qemu.shutdown({ timeoutMs });
    } catch {
      // No QMP, or the guest ignored the power button: qemu must go anyway.
      this.kill();
    }
    crashPoint(`VM ${this.name} stop: shutdown returned`);
    try {
      return await this.exited;
    } finally {
      clearTimeout(backstop);
    }
  }

  /**
   * Lets go of the VM without stopping it (the network is being handed over): another
   * process can then attach it. `exited` still resolves if it ends while this process runs.
   */
  release(): void {
    this.qemu.close?.();
  }

  /** `await using vm = await net.startVm(…)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
