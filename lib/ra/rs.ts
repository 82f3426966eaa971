/**
 * Validation of received router solicitations, RFC 4861 §6.1.1. Solicitations come from
 * guests and are untrusted: anything that fails a check is dropped silently (and counted).
 *
 * The checksum is not checked here: the kernel verifies it for raw ICMPv6 sockets and drops
 * bad ones before we see them (ipv6/raw.c, the checksum is mandatory for IPPROTO_ICMPV6).
 */
import { ND_OPT_SOURCE_LINKADDR, ND_ROUTER_SOLICIT } from './constants.js';

/** Why a solicitation was dropped. */
export type RsDropReason = 'truncated' | 'hop-limit' | 'type' | 'code' | 'length' | 'option-length' | 'option-overrun' | 'source-link-layer-from-unspecified';

/** The result of validating one solicitation. */
export type RsValidation = { valid: true; sourceLinkLayerAddress: string | undefined } | { valid: false; reason: RsDropReason };

/** RS header: type, code, checksum, 4 reserved bytes. */
const RS_HEADER_LENGTH = 8;

/**
 * Checks one RS. `hopLimit` is the IPv6 hop limit it arrived with; `sourceUnspecified` whether
 * its source address is `::`; `truncated` whether it was longer than the receive buffer.
 */
export function validateRouterSolicitation(message: Uint8Array, hopLimit: number, sourceUnspecified: boolean, truncated = false): RsValidation {
  if (truncated) return { valid: false, reason: 'truncated' };
  // Only a packet that was not forwarded still has 255 (§6.1.1: "The IP Hop Limit field has a value of 255").
  if (hopLimit !== 255) return { valid: false, reason: 'hop-limit' };
  if (message.length < RS_HEADER_LENGTH) return { valid: false, reason: 'length' };
  if (message[0] !== ND_ROUTER_SOLICIT) return { valid: false, reason: 'type' };
  if (message[1] !== 0) return { valid: false, reason: 'code' };
  let sourceLinkLayerAddress: string | undefined;
  for (let i = RS_HEADER_LENGTH; i < message.length;) {
    if (i + 2 > message.length) return { valid: false, reason: 'option-overrun' };
    const length = (message[i + 1] ?? 0) * 8;
    if (length === 0) return { valid: false, reason: 'option-length' };
    if (i + length > message.length) return { valid: false, reason: 'option-overrun' };
    if (message[i] === ND_OPT_SOURCE_LINKADDR) {
      if (sourceUnspecified) return { valid: false, reason: 'source-link-layer-from-unspecified' };
      if (length >= 8) {
        sourceLinkLayerAddress = Array.from(message.subarray(i + 2, i + 8), (b) => b.toString(16).padStart(2, '0')).join(':');
      }
    }
    i += length;
  }
  return { valid: true, sourceLinkLayerAddress };
}
