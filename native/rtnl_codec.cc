// Dispatch of the rtnetlink codec by message type, and naming of attributes the kernel points
// at in extended acks (NLMSGERR_ATTR_OFFS, NLMSGERR_ATTR_MISS_TYPE; netlink(7)).
#include "rtnl_codec.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

namespace vmplumb {

namespace {

enum class Family { Link, Addr, Neigh, Route, Netconf, None };

Family FamilyOf(uint16_t type) {
  switch (type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
    case RTM_GETLINK:
    case RTM_SETLINK:
      return Family::Link;
    case RTM_NEWADDR:
    case RTM_DELADDR:
    case RTM_GETADDR:
      return Family::Addr;
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH:
    case RTM_GETNEIGH:
      return Family::Neigh;
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
    case RTM_GETROUTE:
      return Family::Route;
    case RTM_NEWNETCONF:
    case RTM_DELNETCONF:
    case RTM_GETNETCONF:
      return Family::Netconf;
    default:
      return Family::None;
  }
}

FamilyTables TablesOf(Family f) {
  switch (f) {
    case Family::Link:
      return LinkTables();
    case Family::Addr:
      return AddrTables();
    case Family::Neigh:
      return NeighTables();
    case Family::Route:
      return RouteTables();
    case Family::Netconf:
      return NetconfTables();
    default:
      return FamilyTables{0, nullptr};
  }
}

}  // namespace

std::string MessageTypeName(uint16_t type) {
  switch (type) {
    case RTM_NEWLINK:
      return "RTM_NEWLINK";
    case RTM_DELLINK:
      return "RTM_DELLINK";
    case RTM_GETLINK:
      return "RTM_GETLINK";
    case RTM_SETLINK:
      return "RTM_SETLINK";
    case RTM_NEWADDR:
      return "RTM_NEWADDR";
    case RTM_DELADDR:
      return "RTM_DELADDR";
    case RTM_GETADDR:
      return "RTM_GETADDR";
    case RTM_NEWNEIGH:
      return "RTM_NEWNEIGH";
    case RTM_DELNEIGH:
      return "RTM_DELNEIGH";
    case RTM_GETNEIGH:
      return "RTM_GETNEIGH";
    case RTM_NEWROUTE:
      return "RTM_NEWROUTE";
    case RTM_DELROUTE:
      return "RTM_DELROUTE";
    case RTM_GETROUTE:
      return "RTM_GETROUTE";
    case RTM_NEWNETCONF:
      return "RTM_NEWNETCONF";
    case RTM_DELNETCONF:
      return "RTM_DELNETCONF";
    case RTM_GETNETCONF:
      return "RTM_GETNETCONF";
    default:
      return "RTM_" + std::to_string(type);
  }
}

void EncodeRequest(Napi::Env env, NlWriter& w, uint16_t type, uint16_t flags, uint32_t seq,
                   const Napi::Object& params) {
  size_t msg = w.Begin(type, flags, seq);
  switch (FamilyOf(type)) {
    case Family::Link:
      EncodeLink(env, w, params);
      break;
    case Family::Addr:
      EncodeAddr(env, w, params);
      break;
    case Family::Neigh:
      EncodeNeigh(env, w, params);
      break;
    case Family::Route:
      EncodeRoute(env, w, params);
      break;
    case Family::Netconf:
      EncodeNetconf(env, w, params);
      break;
    default:
      throw Napi::TypeError::New(env, "no codec for message type " + std::to_string(type));
  }
  w.End(msg);
}

Napi::Value DecodeMessage(Napi::Env env, const nlmsghdr* h, bool briefLinks) {
  switch (FamilyOf(h->nlmsg_type)) {
    case Family::Link:
      return DecodeLink(env, h, briefLinks);
    case Family::Addr:
      return DecodeAddr(env, h);
    case Family::Neigh:
      return DecodeNeigh(env, h);
    case Family::Route:
      return DecodeRoute(env, h);
    case Family::Netconf:
      return DecodeNetconf(env, h);
    default:
      return env.Undefined();
  }
}

std::string AttributeAt(const uint8_t* msg, size_t len, uint32_t offset) {
  if (len < NLMSG_HDRLEN) return "";
  auto* h = reinterpret_cast<const nlmsghdr*>(msg);
  Family family = FamilyOf(h->nlmsg_type);
  FamilyTables t = TablesOf(family);
  if (t.top == nullptr) return "";
  size_t start = NLMSG_HDRLEN + NLMSG_ALIGN(t.headerSize);
  if (start > len) return "";
  for (const nlattr* a : NlAttrs(msg + start, len - start)) {
    uint32_t at = static_cast<uint32_t>(reinterpret_cast<const uint8_t*>(a) - msg);
    if (offset < at || offset >= at + a->nla_len) continue;
    const AttrSpec* spec = t.top->ByType(AttrType(a));
    std::string name = spec ? spec->c : "attribute " + std::to_string(AttrType(a));
    if (offset != at && family == Family::Link && AttrType(a) == IFLA_LINKINFO) {
      std::string inner = LinkInfoAttributeAt(a, msg, offset);
      if (!inner.empty()) name += "/" + inner;
    }
    return name;
  }
  return "";
}

std::string MissingAttribute(const uint8_t* msg, size_t len, uint32_t nestOffset, uint16_t type) {
  std::string where = nestOffset == 0 ? "" : AttributeAt(msg, len, nestOffset);
  if (len >= NLMSG_HDRLEN && nestOffset == 0) {
    FamilyTables t = TablesOf(FamilyOf(reinterpret_cast<const nlmsghdr*>(msg)->nlmsg_type));
    const AttrSpec* spec = t.top ? t.top->ByType(type) : nullptr;
    if (spec) return spec->c;
  }
  return (where.empty() ? "" : where + "/") + "attribute " + std::to_string(type);
}

}  // namespace vmplumb
