// The rtnetlink codec (rtnetlink(7), include/uapi/linux/rtnetlink.h): builds RTM_* requests
// from plain parameter objects and parses RTM_* messages into plain objects. It is thin: field
// names map one to one onto kernel fields and attributes; defaults and validation are
// TypeScript's (lib/netlink/).
//
// One file per message family: rtnl_link.cc (links and their kinds), rtnl_addr.cc,
// rtnl_neigh.cc (bridge FDB), rtnl_route.cc, rtnl_netconf.cc; rtnl_codec.cc dispatches by
// message type.
#pragma once

#include <linux/netlink.h>
#include <napi.h>

#include <cstdint>
#include <string>

#include "args.h"
#include "netlink_attr.h"

namespace vmplumb {

// Appends one request message (header, family header, attributes) to `w`.
void EncodeRequest(Napi::Env env, NlWriter& w, uint16_t type, uint16_t flags, uint32_t seq, const Napi::Object& params);

// Parses one message into an object carrying `msgType`, or undefined for a type we don't parse.
// `briefLinks`: a link message carries only its header fields, name, MTU and MAC (see DecodeLink).
Napi::Value DecodeMessage(Napi::Env env, const nlmsghdr* h, bool briefLinks = false);

// 'RTM_NEWLINK' for RTM_NEWLINK, 'RTM_<n>' for others.
std::string MessageTypeName(uint16_t type);

// The C name path of the attribute at byte `offset` of request `msg` (NLMSGERR_ATTR_OFFS),
// e.g. 'IFLA_LINKINFO/IFLA_INFO_DATA/IFLA_VXLAN_TTL'; empty when not found.
std::string AttributeAt(const uint8_t* msg, size_t len, uint32_t offset);

// The C name of a missing attribute of type `type` inside the nest at `nestOffset` (0: top level).
std::string MissingAttribute(const uint8_t* msg, size_t len, uint32_t nestOffset, uint16_t type);

// Per family (rtnl_link.cc, rtnl_addr.cc, rtnl_neigh.cc, rtnl_route.cc, rtnl_netconf.cc).
void EncodeLink(Napi::Env env, NlWriter& w, const Napi::Object& params);
// `brief`: only ifinfomsg's fields and IFLA_IFNAME, IFLA_MTU, IFLA_ADDRESS, for a subscriber that
// needs no more of thousands of links (the RA monitor, lib/ra/monitor.ts): a whole bridge or
// vxlan message is some 60 properties (IFLA_INFO_DATA included), each made for every notification.
Napi::Object DecodeLink(Napi::Env env, const nlmsghdr* h, bool brief = false);
void EncodeAddr(Napi::Env env, NlWriter& w, const Napi::Object& params);
Napi::Object DecodeAddr(Napi::Env env, const nlmsghdr* h);
void EncodeNeigh(Napi::Env env, NlWriter& w, const Napi::Object& params);
Napi::Object DecodeNeigh(Napi::Env env, const nlmsghdr* h);
void EncodeRoute(Napi::Env env, NlWriter& w, const Napi::Object& params);
Napi::Object DecodeRoute(Napi::Env env, const nlmsghdr* h);
void EncodeNetconf(Napi::Env env, NlWriter& w, const Napi::Object& params);
Napi::Object DecodeNetconf(Napi::Env env, const nlmsghdr* h);

// Attribute tables a family exposes for naming attributes in errors.
struct FamilyTables {
  size_t headerSize;     // sizeof(ifinfomsg) etc.
  const AttrTable* top;  // IFLA_* / IFA_* / NDA_* / RTA_*
};
FamilyTables LinkTables();
FamilyTables AddrTables();
FamilyTables NeighTables();
FamilyTables RouteTables();
FamilyTables NetconfTables();
// Names inside IFLA_LINKINFO: 'IFLA_INFO_DATA/IFLA_VXLAN_TTL' for an offset in that nest.
std::string LinkInfoAttributeAt(const nlattr* linkinfo, const uint8_t* base, uint32_t offset);

// What every Decode* starts with: `out` becomes the object carrying `msgType`; returns the
// family header (ifinfomsg, ifaddrmsg, …) when the message is long enough for one, else null.
template <typename T>
const T* BeginDecode(Napi::Env env, const nlmsghdr* h, Napi::Object& out) {
  out = Napi::Object::New(env);
  out.Set("msgType", Napi::Number::New(env, h->nlmsg_type));
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(T))) return nullptr;
  return static_cast<const T*>(NLMSG_DATA(h));
}

// The attributes that follow the family header T in message `h`.
template <typename T>
NlAttrs AttrsAfter(const nlmsghdr* h) {
  size_t start = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(T)));
  return NlAttrs(static_cast<const uint8_t*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(T)),
                 h->nlmsg_len > start ? h->nlmsg_len - start : 0);
}

// Reads an optional own number property (0 when absent; a boolean is 0/1; another type throws).
inline uint32_t OptU32(const Napi::Object& o, const char* key) {
  return args::OwnUint32(o.Env(), o, key);
}

}  // namespace vmplumb
