/**
 * How vmplumb's tests and demo boot the tiny guest: the same few qemu options in every one of
 * them, so a change (more memory, another accelerator) is made once.
 */
import type { Guest } from './build.js';

/** The options {@link guestBootOptions} returns (a subset of `startVm`'s and `Qemu.spawn`'s). */
export interface GuestBootOptions {
  /** 256 MiB: the kernel, busybox and the virtio-net modules need little. */
  memoryMiB: number;
  /** One CPU. */
  cpus: number;
  /** TCG: `/dev/kvm` opens on the CI machines but guests hang under it. */
  accel: 'tcg';
  /** The guest's kernel, initramfs and command line (direct kernel boot). */
  kernel: string;
  /** See `kernel`. */
  initrd: string;
  /** See `kernel`. */
  append: string;
  /** Where the serial console goes: what `waitForGuestConsole` reads. */
  serial: { file: string };
}

/**
 * The options that boot `guest` (from `ensureGuest()`) with its serial console in `serial`:
 * spread them into `VxlanNetwork#startVm` or `Qemu.spawn` beside the VM's own (id, name, NICs).
 */
export function guestBootOptions(guest: Pick<Guest, 'kernel' | 'initrd' | 'append'>, serial: string): GuestBootOptions {
  return { memoryMiB: 256, cpus: 1, accel: 'tcg', kernel: guest.kernel, initrd: guest.initrd, append: guest.append, serial: { file: serial } };
}
