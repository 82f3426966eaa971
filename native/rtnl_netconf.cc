// RTM_NEWNETCONF / RTM_DELNETCONF / RTM_GETNETCONF (include/uapi/linux/netconf.h): a family's
// per-device configuration the kernel announces on RTNLGRP_IPV4_NETCONF / RTNLGRP_IPV6_NETCONF,
// as `ip monitor netconf` shows it. The router advertiser needs one value of it: whether the
// namespace forwards IPv6 (NETCONFA_FORWARDING of NETCONFA_IFINDEX_ALL), since RFC 4861 §6.2.5
// has a router that does not forward advertise router lifetime 0, as radvd does.
//
// Params: { family, index? } (index: NETCONFA_IFINDEX, -1 for "all", -2 for "default").
// Decoded: { family, index, forwarding?, rpFilter?, mcForwarding?, proxyNeigh?,
//            ignoreRoutesWithLinkdown?, input?, bcForwarding? }, each value the s32 the kernel sent.
#include <linux/netconf.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "rtnl_codec.h"

namespace vmplumb {

namespace {

// Every attribute is an s32 (the index is -1 for "all"): the table names them, for decoding and
// for extended acks, and decoding is by hand below, since the table's wire types have no signed
// 32-bit one. Requests set only NETCONFA_IFINDEX (EncodeNetconf), never through the table.
constexpr AttrSpec kNetconfRows[] = {
    {NETCONFA_IFINDEX, Wire::U32, "index", "NETCONFA_IFINDEX"},
    {NETCONFA_FORWARDING, Wire::U32, "forwarding", "NETCONFA_FORWARDING"},
    {NETCONFA_RP_FILTER, Wire::U32, "rpFilter", "NETCONFA_RP_FILTER"},
    {NETCONFA_MC_FORWARDING, Wire::U32, "mcForwarding", "NETCONFA_MC_FORWARDING"},
    {NETCONFA_PROXY_NEIGH, Wire::U32, "proxyNeigh", "NETCONFA_PROXY_NEIGH"},
    {NETCONFA_IGNORE_ROUTES_WITH_LINKDOWN, Wire::U32, "ignoreRoutesWithLinkdown",
     "NETCONFA_IGNORE_ROUTES_WITH_LINKDOWN"},
    {NETCONFA_INPUT, Wire::U32, "input", "NETCONFA_INPUT"},
    {NETCONFA_BC_FORWARDING, Wire::U32, "bcForwarding", "NETCONFA_BC_FORWARDING"},
};
constexpr AttrTable kNetconf = MakeTable(kNetconfRows);

}  // namespace

void EncodeNetconf(Napi::Env env, NlWriter& w, const Napi::Object& p) {
  netconfmsg ncm{};
  ncm.ncm_family = static_cast<uint8_t>(OptU32(p, "family"));
  w.Struct(ncm);
  Napi::Value index = args::Own(p, "index");
  if (index.IsUndefined()) return;
  if (!index.IsNumber()) throw Napi::TypeError::New(env, "netconf index must be a number");
  w.PutValue<int32_t>(NETCONFA_IFINDEX, index.As<Napi::Number>().Int32Value());
}

Napi::Object DecodeNetconf(Napi::Env env, const nlmsghdr* h) {
  Napi::Object out;
  const netconfmsg* ncm = BeginDecode<netconfmsg>(env, h, out);
  if (ncm == nullptr) return out;
  out.Set("family", Napi::Number::New(env, ncm->ncm_family));
  for (const nlattr* a : AttrsAfter<netconfmsg>(h)) {
    const AttrSpec* spec = kNetconf.ByType(AttrType(a));
    if (spec == nullptr || AttrLen(a) < 4) continue;
    int32_t value;
    std::memcpy(&value, AttrData(a), 4);
    out.Set(spec->js, Napi::Number::New(env, value));
  }
  return out;
}

FamilyTables NetconfTables() {
  return FamilyTables{sizeof(netconfmsg), &kNetconf};
}

}  // namespace vmplumb
