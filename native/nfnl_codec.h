// The nf_tables codec (include/uapi/linux/netfilter/nf_tables.h, nfnetlink.h): builds
// NFT_MSG_* requests for tables, chains, rules and sets from plain objects, wraps them in one
// NFNL_MSG_BATCH_BEGIN/END transaction, and parses the kernel's NFT_MSG_NEW* answers.
//
// Thin like the rtnetlink codec: one JS property per kernel attribute, expressions one object
// each ({ kind: 'payload', base, offset, len, dreg }). The policy (which rules a guarded port
// gets) is TypeScript's, in lib/guard/.
#pragma once

#include <linux/netlink.h>
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netlink_attr.h"

namespace vmplumb {

// Appends one NFT_MSG_* request (nlmsghdr + nfgenmsg + attributes) described by `params`:
//   { type: NFT_MSG_*, flags: NLM_F_*, family: NFPROTO_*, name?, table?, chain?, handle?,
//     hook?: { num, priority, device? }, policy?, chainType?, tableFlags?, userdata?: Buffer,
//     expressions?: object[], setFlags?, keyType?, keyLen?, id?, elements?: [{ key: Buffer,
//     flags? }] }
// Reads own properties only, checked by args.h: a TypeError (ERR_INVALID_ARG_TYPE) names the
// property by its path from `path` ("messages[0].hook.num") for a value of the wrong type.
void EncodeNftMessage(Napi::Env env, NlWriter& w, const Napi::Object& params, uint32_t seq,
                      const std::string& path = "message");

// Appends NFNL_MSG_BATCH_BEGIN or _END for the nf_tables subsystem.
void EncodeBatchMarker(NlWriter& w, uint16_t type, uint32_t seq);

// Parses an NFT_MSG_NEWTABLE/NEWCHAIN/NEWRULE/NEWSET message into a plain object carrying
// `msgType`; undefined for other types.
Napi::Value DecodeNftMessage(Napi::Env env, const nlmsghdr* h);

// 'NFT_MSG_NEWRULE' for a request type (subsystem byte ignored).
std::string NftMessageName(uint16_t type);

}  // namespace vmplumb
