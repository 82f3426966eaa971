// RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR (rtnetlink(7) "RTM_NEWADDR", ip-address(8)).
//
// Params: { family, prefixLength, flags (IFA_F_*, u32: the low 8 bits also go in ifa_flags),
//           scope, index, address?, local?, label?, broadcast?, cacheinfo?: { preferred, valid } }
// Attributes from include/uapi/linux/if_addr.h.
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "rtnl_codec.h"

namespace vmplumb {

namespace {

constexpr AttrSpec kAddrRows[] = {
    {IFA_ADDRESS, Wire::Ip, "address", "IFA_ADDRESS"}, {IFA_LOCAL, Wire::Ip, "local", "IFA_LOCAL"},
    {IFA_LABEL, Wire::Str, "label", "IFA_LABEL"},      {IFA_BROADCAST, Wire::In4, "broadcast", "IFA_BROADCAST"},
    {IFA_FLAGS, Wire::U32, "", "IFA_FLAGS"},           // by hand, from "flags"
    {IFA_CACHEINFO, Wire::Flag, "", "IFA_CACHEINFO"},  // struct, by hand ("" never matches a param)
    {IFA_PROTO, Wire::U8, "proto", "IFA_PROTO"},
};
constexpr AttrTable kAddr = MakeTable(kAddrRows);

}  // namespace

void EncodeAddr(Napi::Env env, NlWriter& w, const Napi::Object& p) {
  ifaddrmsg ifa{};
  uint32_t flags = OptU32(p, "flags");
  ifa.ifa_family = static_cast<uint8_t>(OptU32(p, "family"));
  ifa.ifa_prefixlen = static_cast<uint8_t>(OptU32(p, "prefixLength"));
  ifa.ifa_flags = static_cast<uint8_t>(flags & 0xff);
  ifa.ifa_scope = static_cast<uint8_t>(OptU32(p, "scope"));
  ifa.ifa_index = OptU32(p, "index");
  w.Struct(ifa);
  EncodeAttrs(env, w, kAddr, p);
  // IFA_FLAGS carries the flags above bit 7 (IFA_F_NOPREFIXROUTE, IFA_F_MANAGETEMPADDR, …).
  if (flags > 0xff) w.PutValue<uint32_t>(IFA_FLAGS, flags);
  Napi::Value ci = args::Own(p, "cacheinfo");
  if (ci.IsObject()) {
    ifa_cacheinfo info{};
    info.ifa_prefered = OptU32(ci.As<Napi::Object>(), "preferred");
    info.ifa_valid = OptU32(ci.As<Napi::Object>(), "valid");
    w.Put(IFA_CACHEINFO, &info, sizeof(info));
  }
}

Napi::Object DecodeAddr(Napi::Env env, const nlmsghdr* h) {
  Napi::Object out;
  const ifaddrmsg* ifa = BeginDecode<ifaddrmsg>(env, h, out);
  if (ifa == nullptr) return out;
  out.Set("family", Napi::Number::New(env, ifa->ifa_family));
  out.Set("prefixLength", Napi::Number::New(env, ifa->ifa_prefixlen));
  out.Set("scope", Napi::Number::New(env, ifa->ifa_scope));
  out.Set("index", Napi::Number::New(env, ifa->ifa_index));
  uint32_t flags = ifa->ifa_flags;
  for (const nlattr* a : AttrsAfter<ifaddrmsg>(h)) {
    if (AttrType(a) == IFA_FLAGS && AttrLen(a) >= 4) {
      std::memcpy(&flags, AttrData(a), 4);
    } else if (AttrType(a) == IFA_CACHEINFO && AttrLen(a) >= sizeof(ifa_cacheinfo)) {
      ifa_cacheinfo info;
      std::memcpy(&info, AttrData(a), sizeof(info));
      Napi::Object ci = Napi::Object::New(env);
      ci.Set("preferred", Napi::Number::New(env, info.ifa_prefered));
      ci.Set("valid", Napi::Number::New(env, info.ifa_valid));
      out.Set("cacheinfo", ci);
    } else {
      DecodeAttr(env, kAddr, a, out);
    }
  }
  out.Set("flags", Napi::Number::New(env, flags));
  return out;
}

FamilyTables AddrTables() {
  return FamilyTables{sizeof(ifaddrmsg), &kAddr};
}

}  // namespace vmplumb
