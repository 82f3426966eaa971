/**
 * Errors the kernel reports. `NetlinkError` carries what an rtnetlink NLMSG_ERROR says (the
 * errno, and with NETLINK_EXT_ACK the kernel's own message and the offending attribute) in
 * the shape of Node's SystemError: `code` ('EEXIST'), negative `errno`, `syscall`.
 */

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
