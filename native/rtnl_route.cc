// RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE, the basic subset (rtnetlink(7) "RTM_NEWROUTE",
// ip-route(8)): destination, gateway, output device, metric, table, preferred source.
//
// Params: { family, dstLen, srcLen?, tos?, tableId (rtm_table), protocol, scope, type,
//           rtmFlags?, dst?, gateway?, oif?, priority?, prefsrc?, table? }
#include <linux/rtnetlink.h>

#include "rtnl_codec.h"

namespace vmplumb {

namespace {

constexpr AttrSpec kRouteRows[] = {
    {RTA_DST, Wire::Ip, "dst", "RTA_DST"},
    {RTA_SRC, Wire::Ip, "src", "RTA_SRC"},
    {RTA_IIF, Wire::U32, "iif", "RTA_IIF"},
    {RTA_OIF, Wire::U32, "oif", "RTA_OIF"},
    {RTA_GATEWAY, Wire::Ip, "gateway", "RTA_GATEWAY"},
    {RTA_PRIORITY, Wire::U32, "priority", "RTA_PRIORITY"},
    {RTA_PREFSRC, Wire::Ip, "prefsrc", "RTA_PREFSRC"},
    {RTA_TABLE, Wire::U32, "table", "RTA_TABLE"},
    {RTA_PREF, Wire::U8, "pref", "RTA_PREF"},
};
constexpr AttrTable kRoute = MakeTable(kRouteRows);

}  // namespace

void EncodeRoute(Napi::Env env, NlWriter& w, const Napi::Object& p) {
  rtmsg rt{};
  rt.rtm_family = static_cast<uint8_t>(OptU32(p, "family"));
  rt.rtm_dst_len = static_cast<uint8_t>(OptU32(p, "dstLen"));
  rt.rtm_src_len = static_cast<uint8_t>(OptU32(p, "srcLen"));
  rt.rtm_tos = static_cast<uint8_t>(OptU32(p, "tos"));
  rt.rtm_table = static_cast<uint8_t>(OptU32(p, "tableId"));
  rt.rtm_protocol = static_cast<uint8_t>(OptU32(p, "protocol"));
  rt.rtm_scope = static_cast<uint8_t>(OptU32(p, "scope"));
  rt.rtm_type = static_cast<uint8_t>(OptU32(p, "type"));
  rt.rtm_flags = OptU32(p, "rtmFlags");
  w.Struct(rt);
  EncodeAttrs(env, w, kRoute, p);
}

Napi::Object DecodeRoute(Napi::Env env, const nlmsghdr* h) {
  Napi::Object out;
  const rtmsg* rt = BeginDecode<rtmsg>(env, h, out);
  if (rt == nullptr) return out;
  out.Set("family", Napi::Number::New(env, rt->rtm_family));
  out.Set("dstLen", Napi::Number::New(env, rt->rtm_dst_len));
  out.Set("srcLen", Napi::Number::New(env, rt->rtm_src_len));
  out.Set("tos", Napi::Number::New(env, rt->rtm_tos));
  out.Set("table", Napi::Number::New(env, rt->rtm_table));
  out.Set("protocol", Napi::Number::New(env, rt->rtm_protocol));
  out.Set("scope", Napi::Number::New(env, rt->rtm_scope));
  out.Set("type", Napi::Number::New(env, rt->rtm_type));
  out.Set("rtmFlags", Napi::Number::New(env, rt->rtm_flags));
  for (const nlattr* a : AttrsAfter<rtmsg>(h)) DecodeAttr(env, kRoute, a, out);
  return out;
}

FamilyTables RouteTables() {
  return FamilyTables{sizeof(rtmsg), &kRoute};
}

}  // namespace vmplumb
