// RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH for the bridge FDB (family AF_BRIDGE; bridge(8)
// "bridge fdb", rtnetlink(7) "RTM_NEWNEIGH"). NLM_F_APPEND is the caller's flag.
//
// Params: { family, index, state (NUD_*), flags (NTF_*), type?, lladdr?, dst?, vni?, port?,
//           master?, vlan?, ifindex? }   Attributes from include/uapi/linux/neighbour.h.
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "rtnl_codec.h"

namespace vmplumb {

namespace {

constexpr AttrSpec kNeighRows[] = {
    {NDA_DST, Wire::Ip, "dst", "NDA_DST"},
    {NDA_LLADDR, Wire::Mac, "lladdr", "NDA_LLADDR"},
    {NDA_PROBES, Wire::U32, "probes", "NDA_PROBES"},
    {NDA_VLAN, Wire::U16, "vlan", "NDA_VLAN"},
    {NDA_PORT, Wire::Be16, "port", "NDA_PORT"},
    {NDA_VNI, Wire::U32, "vni", "NDA_VNI"},
    {NDA_IFINDEX, Wire::U32, "ifindex", "NDA_IFINDEX"},
    {NDA_MASTER, Wire::U32, "master", "NDA_MASTER"},
    {NDA_LINK_NETNSID, Wire::U32, "linkNetnsId", "NDA_LINK_NETNSID"},
    {NDA_SRC_VNI, Wire::U32, "srcVni", "NDA_SRC_VNI"},
    {NDA_PROTOCOL, Wire::U8, "protocol", "NDA_PROTOCOL"},
    {NDA_FLAGS_EXT, Wire::U32, "flagsExt", "NDA_FLAGS_EXT"},
};
constexpr AttrTable kNeigh = MakeTable(kNeighRows);

}  // namespace

void EncodeNeigh(Napi::Env env, NlWriter& w, const Napi::Object& p) {
  ndmsg nd{};
  nd.ndm_family = static_cast<uint8_t>(OptU32(p, "family"));
  nd.ndm_ifindex = static_cast<int>(OptU32(p, "index"));
  nd.ndm_state = static_cast<uint16_t>(OptU32(p, "state"));
  nd.ndm_flags = static_cast<uint8_t>(OptU32(p, "flags"));
  nd.ndm_type = static_cast<uint8_t>(OptU32(p, "type"));
  w.Struct(nd);
  EncodeAttrs(env, w, kNeigh, p);
}

Napi::Object DecodeNeigh(Napi::Env env, const nlmsghdr* h) {
  Napi::Object out;
  const ndmsg* nd = BeginDecode<ndmsg>(env, h, out);
  if (nd == nullptr) return out;
  out.Set("family", Napi::Number::New(env, nd->ndm_family));
  out.Set("index", Napi::Number::New(env, nd->ndm_ifindex));
  out.Set("state", Napi::Number::New(env, nd->ndm_state));
  out.Set("flags", Napi::Number::New(env, nd->ndm_flags));
  out.Set("type", Napi::Number::New(env, nd->ndm_type));
  for (const nlattr* a : AttrsAfter<ndmsg>(h)) DecodeAttr(env, kNeigh, a, out);
  return out;
}

FamilyTables NeighTables() {
  return FamilyTables{sizeof(ndmsg), &kNeigh};
}

}  // namespace vmplumb
