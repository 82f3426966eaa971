/**
 * nf_tables over the addon: the numbers of include/uapi/linux/netfilter/nf_tables.h (and
 * netfilter.h) the guard uses, and one call that runs a transaction and turns a kernel
 * refusal into a {@link NetlinkError} naming the operation and the object.
 */
import { NetlinkError } from '../errors.js';
import { native, type NativeNfnlFailure, type NativeNftMessage, type NativeNftObject } from '../native.js';

/** NFPROTO_NETDEV: tables whose base chains hook one device (include/uapi/linux/netfilter.h). */
export const NFPROTO_NETDEV = 5;
/** enum nf_dev_hooks. */
export const NF_NETDEV_INGRESS = 0;
/** enum nf_dev_hooks: frames the device transmits (to the guest, for a tap). */
export const NF_NETDEV_EGRESS = 1;

/** enum nf_tables_msg_types. */
export const NFT_MSG = {
  NEWTABLE: 0,
  GETTABLE: 1,
  DELTABLE: 2,
  NEWCHAIN: 3,
  GETCHAIN: 4,
  DELCHAIN: 5,
  NEWRULE: 6,
  GETRULE: 7,
  DELRULE: 8,
  NEWSET: 9,
  DELSET: 11,
  NEWSETELEM: 12,
  DELSETELEM: 14,
  /** Linux 6.3: deletion where a missing object is not an error. */
  DESTROYTABLE: 26,
  DESTROYCHAIN: 27,
} as const;

/** include/uapi/linux/netlink.h request flags. */
export const NLM_F = { ROOT: 0x100, MATCH: 0x200, DUMP: 0x300, NONREC: 0x100, EXCL: 0x200, CREATE: 0x400, APPEND: 0x800 } as const;

/** Verdict codes (NF_DROP/NF_ACCEPT, enum nft_verdicts). */
export const VERDICT = { drop: 0, accept: 1, jump: -3, goto: -4, return: -5 } as const;

/** enum nft_registers: NFT_REG_1, the first 16-byte data register (fits an IPv6 address). */
export const NFT_REG_1 = 1;
/** enum nft_payload_bases. */
export const PAYLOAD_BASE = { link: 0, network: 1, transport: 2 } as const;
/** enum nft_meta_keys: NFT_META_L4PROTO. */
export const NFT_META_L4PROTO = 16;
/** enum nft_cmp_ops. */
export const CMP_OP = { eq: 0, ne: 1 } as const;
/** enum nft_exthdr_flags / nft_exthdr_op. */
export const NFT_EXTHDR_F_PRESENT = 1;
export const NFT_EXTHDR_OP_IPV6 = 0;
/** enum nft_limit_type / nft_limit_flags. */
export const NFT_LIMIT_PKT_BYTES = 1;
export const NFT_LIMIT_F_INV = 1;

/** nftnl's user data TLV type for comments (libnftnl include/libnftnl/udata.h): `nft` shows them. */
const NFTNL_UDATA_COMMENT = 0;

/** A rule or chain comment as `nft` stores it: TLV { type 0, length, NUL-terminated text }. */
export function commentUserdata(text: string): Buffer {
  const body = Buffer.from(`${text}\0`);
  return Buffer.concat([Buffer.from([NFTNL_UDATA_COMMENT, body.length]), body]);
}

/** The comment in nft user data, if any. */
export function userdataComment(data: Buffer | undefined): string | undefined {
  if (!data) return undefined;
  for (let off = 0; off + 2 <= data.length; off += 2 + (data[off + 1] ?? 0)) {
    const len = data[off + 1] ?? 0;
    if (data[off] === NFTNL_UDATA_COMMENT)
      return data
        .subarray(off + 2, off + 2 + len)
        .toString()
        .replace(/\0$/u, '');
  }
  return undefined;
}

/**
 * Runs `messages` as one atomic batch (`batch`), or one dump request, in `netns`, once every
 * interface of `links` is known to exist there.
 * @throws NetlinkError `operation object: CODE: text (extack)`.
 */
export async function nftTransact(
  netns: string | number | undefined,
  messages: NativeNftMessage[],
  batch: boolean,
  operation: string,
  object?: string,
  links?: string[],
): Promise<NativeNftObject[]> {
  const stack = new Error();
  try {
    return await native.nfnlTransact(netns, messages, batch, links);
  } catch (failure) {
    const f = failure as NativeNfnlFailure;
    if (typeof f?.errno !== 'number') throw failure;
    const error = new NetlinkError(operation, object, f, f.description);
    error.stack = `${error.name}: ${error.message}\n${stack.stack?.split('\n').slice(1).join('\n') ?? ''}`;
    throw error;
  }
}
