/** The errors of qemu's own start-up, beside QmpError (./qmp.ts) and the codes of ERROR_CODES. */
import { ERROR_CODES, VmplumbError } from '../errors.js';
import type { QemuExit } from './qemu.js';

/**
 * qemu exited before its QMP monitor was ready (code 'ERR_QEMU_EXITED'): a bad argument, a
 * missing image, a machine type this qemu lacks. The message and `stderr` carry what qemu said.
 */
export class QemuExitedError extends VmplumbError<typeof ERROR_CODES.QEMU_EXITED> {
  /** How qemu ended. */
  readonly exit: QemuExit;
  /** The tail of qemu's stdout and stderr (its qemu.log). */
  readonly stderr: string;

  constructor(message: string, exit: QemuExit, stderr: string) {
    super(ERROR_CODES.QEMU_EXITED, message);
    this.name = 'QemuExitedError';
    this.exit = exit;
    this.stderr = stderr;
  }
}
