/**
 * vmplumb's one error model. Every rejection carries a documented, stable `code`:
 *
 * - bad arguments: Node's own TypeError/RangeError codes (ERR_INVALID_ARG_TYPE,
 *   ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE), thrown before anything changes (validate.ts);
 * - the kernel refused over rtnetlink: {@link NetlinkError}, `code` the errno's name ('EEXIST'),
 *   with the kernel's extended-ack text;
 * - another system call failed: {@link SystemCallError}, shaped as Node's SystemError;
 * - vmplumb's own conditions: {@link VmplumbError} with a code from {@link ERROR_CODES}, or a
 *   subclass with more fields (QemuExitedError, QmpError, NetworkSetupError, StateRecordError,
 *   KernelLimitError); the router advertiser's RaError is a SystemCallError with its interface.
 *   RadvdConfError stays a SyntaxError (code 'ERR_RADVD_CONF').
 *
 * Errors keep what caused them as `cause`.
 */
import { getSystemErrorMap } from 'node:util';

/** What the addon reports for a failed request (the native half of a NetlinkError). */
export interface NetlinkErrorDetails {
  /** Negative errno, as Node reports it (-17). */
  errno: number;
  /** The errno's name ('EEXIST'). */
  code: string;
  /** The request type ('RTM_NEWLINK'). */
  syscall: string;
  /** NLMSGERR_ATTR_MSG: the kernel's extended-ack text, when it gave one. */
  extack?: string;
  /** The offending attribute (NLMSGERR_ATTR_OFFS resolved in the request), e.g. 'IFLA_VXLAN_TTL'. */
  attribute?: string;
  /** NLMSGERR_ATTR_MISS_TYPE: a required attribute that was missing, e.g. 'IFLA_VXLAN_ID'. */
  missingAttribute?: string;
}

/**
 * An error from the kernel over rtnetlink.
 *
 * The message names the operation and the object: `createVxlan vxlan100: EEXIST: File exists`,
 * followed by the extended-ack text when the kernel gave one.
 */
export class NetlinkError extends Error {
  /** Negative errno (-17), as Node's SystemError. */
  readonly errno: number;
  /** Errno name ('EEXIST'). */
  readonly code: string;
  /** The rtnetlink request type ('RTM_NEWLINK'). */
  readonly syscall: string;
  /** The API call that failed ('createVxlan'). */
  readonly operation: string;
  /** The object the call was about ('vxlan100'), when there is one. */
  readonly object: string | undefined;
  /** The kernel's extended-ack message. */
  readonly extack: string | undefined;
  /** The offending attribute the kernel pointed at. */
  readonly attribute: string | undefined;
  /** A required attribute the kernel said was missing. */
  readonly missingAttribute: string | undefined;

  constructor(operation: string, object: string | undefined, details: NetlinkErrorDetails, strerror: string) {
    const subject = object === undefined ? operation : `${operation} ${object}`;
    let message = `${subject}: ${details.code}: ${strerror}`;
    if (details.extack) message += ` (${details.extack})`;
    else if (details.attribute) message += ` (attribute ${details.attribute})`;
    super(message);
    this.name = 'NetlinkError';
    this.errno = details.errno;
    this.code = details.code;
    this.syscall = details.syscall;
    this.operation = operation;
    this.object = object;
    this.extack = details.extack;
    this.attribute = details.attribute;
    this.missingAttribute = details.missingAttribute;
  }
}

/**
 * The codes vmplumb's own errors carry (beside Node's ERR_INVALID_ARG_* for bad arguments and
 * errno names such as 'EEXIST' for what the kernel refused). Stable: programs switch on them.
 */
export const ERROR_CODES = {
  /** An object used after close()/stop()/destroy(), or a VM after it exited. */
  INVALID_STATE: 'ERR_INVALID_STATE',
  /** qemu exited before its QMP monitor was ready (QemuExitedError). */
  QEMU_EXITED: 'ERR_QEMU_EXITED',
  /** qemu answered a QMP command with an error (QmpError). */
  QMP: 'ERR_QMP',
  /** Something did not happen within the time the caller gave (e.g. a NIC not released). */
  TIMEOUT: 'ETIMEDOUT',
  /** A resource the caller named is not there (a bridge to join, a VM to attach). */
  NOT_FOUND: 'ENOENT',
  /** A resource the caller wants to make is already there or held by another process. */
  EXISTS: 'EEXIST',
  /** The host cannot do what was asked (a missing binary, a kernel limit). */
  UNSUPPORTED: 'ENOTSUP',
  /** A fixed pool is used up (e.g. a VM's hot-plug slots). */
  NO_SPACE: 'ENOSPC',
  /** Another process manages the network (its management lock is held). */
  BUSY: 'EBUSY',
  /** The QMP connection closed while a command waited for its reply (QmpError). */
  CONNECTION_RESET: 'ECONNRESET',
  /** Another process manages the VM (it holds the VM's QMP monitor): Qemu.attach. */
  VM_BUSY: 'ERR_VM_BUSY',
  /** The VM's process is gone (or its pid is another process's now): Qemu.attach. */
  VM_GONE: 'ERR_VM_GONE',
  /** The kernel disagrees with a network's record (VxlanNetwork.open). */
  NETWORK_STATE: 'ERR_NETWORK_STATE',
  /** A network's record says a create or destroy did not finish (VxlanNetwork.open: cleanup() removes it). */
  NETWORK_INCOMPLETE: 'ERR_NETWORK_INCOMPLETE',
  /** A network set-up step failed for a reason without a code of its own (NetworkSetupError). */
  NETWORK_SETUP: 'ERR_NETWORK_SETUP',
  /** A record in the run directory is not usable: not JSON, another kind, a newer version (StateRecordError). */
  STATE_RECORD: 'ERR_VMPLUMB_STATE',
} as const;

/** One of {@link ERROR_CODES}' values. */
export type VmplumbErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/**
 * An error of vmplumb's own (not the kernel's): a message that names the object, a stable
 * `code` from {@link ERROR_CODES}, and the error that caused it when there is one.
 *
 * Subclasses with more fields narrow or widen `code` through `C`: a NetworkSetupError carries
 * the code of the step's own error ('EEXIST' from the kernel), so its `C` is `string`.
 */
export class VmplumbError<C extends string = VmplumbErrorCode> extends Error {
  /** A stable code from {@link ERROR_CODES} (or, for a subclass, as it documents). */
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VmplumbError';
    this.code = code;
  }
}

/**
 * A failed system call, shaped as Node's own SystemError (`code` 'ENOENT', negative `errno`,
 * `syscall`, `path`), from an errno the addon returned. Named from os.constants, never literals.
 */
export class SystemCallError extends Error {
  /** The errno's name ('ENXIO'). */
  readonly code: string;
  /** Negative errno (-6), as Node reports it. */
  readonly errno: number;
  /** The call that failed ('sendmsg'). */
  readonly syscall: string;
  /** What it was about (an interface, a path), when known. */
  readonly path: string | undefined;

  constructor(errno: number, syscall: string, path?: string, detail?: string, options?: { cause?: unknown }) {
    const positive = Math.abs(errno);
    const [code, text] = systemErrorMap().get(-positive) ?? [`E${positive}`, 'unknown error'];
    const where = [path, detail].filter(Boolean).join(' ');
    super(`${syscall} ${code}: ${text}${where ? ` (${where})` : ''}`, options);
    this.name = 'SystemCallError';
    this.code = code;
    this.errno = -positive;
    this.syscall = syscall;
    this.path = path;
  }
}

let errorMap: Map<number, [string, string]> | undefined;

function systemErrorMap(): Map<number, [string, string]> {
  errorMap ??= getSystemErrorMap();
  return errorMap;
}
