// RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK (rtnetlink(7) "RTM_NEWLINK", ip-link(8)).
//
// Attribute tables come from include/uapi/linux/if_link.h (IFLA_*, IFLA_INFO_*, IFLA_VXLAN_*,
// IFLA_BR_*, IFLA_TUN_*) and include/uapi/linux/veth.h (VETH_INFO_PEER). Params:
//   { family?, index?, flags?, change?, name?, alias?, mtu?, mac?, master?, group?, netnsFd?, extMask?,
//     addrGenMode?, kind?, data?: {…kind table…}, peer?: {…the same, for the veth peer…} }
// `addrGenMode` is IFLA_AF_SPEC → AF_INET6 → IFLA_INET6_ADDR_GEN_MODE (`ip link set … addrgenmode`),
// both ways.
// `kind` without `data` also serves as the dump filter (strict checking, rtnl_dump_ifinfo).
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <string>

#include "rtnl_codec.h"

namespace vmplumb {

namespace {

constexpr AttrSpec kLinkRows[] = {
    {IFLA_ADDRESS, Wire::Mac, "mac", "IFLA_ADDRESS"},
    {IFLA_BROADCAST, Wire::Mac, "broadcast", "IFLA_BROADCAST"},
    {IFLA_IFNAME, Wire::Str, "name", "IFLA_IFNAME"},
    {IFLA_IFALIAS, Wire::Str, "alias", "IFLA_IFALIAS"},
    {IFLA_MTU, Wire::U32, "mtu", "IFLA_MTU"},
    {IFLA_LINK, Wire::U32, "link", "IFLA_LINK"},
    {IFLA_MASTER, Wire::U32, "master", "IFLA_MASTER"},
    {IFLA_TXQLEN, Wire::U32, "txqlen", "IFLA_TXQLEN"},
    {IFLA_OPERSTATE, Wire::U8, "operstate", "IFLA_OPERSTATE"},
    {IFLA_LINKMODE, Wire::U8, "linkmode", "IFLA_LINKMODE"},
    {IFLA_GROUP, Wire::U32, "group", "IFLA_GROUP"},
    {IFLA_NET_NS_FD, Wire::U32, "netnsFd", "IFLA_NET_NS_FD"},
    {IFLA_EXT_MASK, Wire::U32, "extMask", "IFLA_EXT_MASK"},
    {IFLA_LINK_NETNSID, Wire::U32, "linkNetnsId", "IFLA_LINK_NETNSID"},
    {IFLA_CARRIER, Wire::U8, "carrierState", "IFLA_CARRIER"},
    {IFLA_MIN_MTU, Wire::U32, "minMtu", "IFLA_MIN_MTU"},
    {IFLA_MAX_MTU, Wire::U32, "maxMtu", "IFLA_MAX_MTU"},
    {IFLA_NUM_TX_QUEUES, Wire::U32, "numTxQueues", "IFLA_NUM_TX_QUEUES"},
    {IFLA_NUM_RX_QUEUES, Wire::U32, "numRxQueues", "IFLA_NUM_RX_QUEUES"},
    {IFLA_PERM_ADDRESS, Wire::Mac, "permMac", "IFLA_PERM_ADDRESS"},
    {IFLA_LINKINFO, Wire::Flag, "", "IFLA_LINKINFO"},  // nested, by hand ("" never matches a param)
};
constexpr AttrTable kLink = MakeTable(kLinkRows);

constexpr AttrSpec kInfoRows[] = {
    {IFLA_INFO_KIND, Wire::Str, "kind", "IFLA_INFO_KIND"},
    {IFLA_INFO_DATA, Wire::Flag, "data", "IFLA_INFO_DATA"},
    {IFLA_INFO_SLAVE_KIND, Wire::Str, "slaveKind", "IFLA_INFO_SLAVE_KIND"},
    {IFLA_INFO_SLAVE_DATA, Wire::Flag, "slaveData", "IFLA_INFO_SLAVE_DATA"},
};
constexpr AttrTable kInfo = MakeTable(kInfoRows);

// ip-link(8) "VXLAN Type Support"; drivers/net/vxlan/vxlan_core.c vxlan_fill_info.
constexpr AttrSpec kVxlanRows[] = {
    {IFLA_VXLAN_ID, Wire::U32, "id", "IFLA_VXLAN_ID"},
    {IFLA_VXLAN_GROUP, Wire::In4, "group", "IFLA_VXLAN_GROUP"},
    {IFLA_VXLAN_LINK, Wire::U32, "link", "IFLA_VXLAN_LINK"},
    {IFLA_VXLAN_LOCAL, Wire::In4, "local", "IFLA_VXLAN_LOCAL"},
    {IFLA_VXLAN_TTL, Wire::U8, "ttl", "IFLA_VXLAN_TTL"},
    {IFLA_VXLAN_TOS, Wire::U8, "tos", "IFLA_VXLAN_TOS"},
    {IFLA_VXLAN_LEARNING, Wire::Bool8, "learning", "IFLA_VXLAN_LEARNING"},
    {IFLA_VXLAN_AGEING, Wire::U32, "ageing", "IFLA_VXLAN_AGEING"},
    {IFLA_VXLAN_LIMIT, Wire::U32, "limit", "IFLA_VXLAN_LIMIT"},
    {IFLA_VXLAN_PORT_RANGE, Wire::PortRange, "portRange", "IFLA_VXLAN_PORT_RANGE"},
    {IFLA_VXLAN_PROXY, Wire::Bool8, "proxy", "IFLA_VXLAN_PROXY"},
    {IFLA_VXLAN_RSC, Wire::Bool8, "rsc", "IFLA_VXLAN_RSC"},
    {IFLA_VXLAN_L2MISS, Wire::Bool8, "l2miss", "IFLA_VXLAN_L2MISS"},
    {IFLA_VXLAN_L3MISS, Wire::Bool8, "l3miss", "IFLA_VXLAN_L3MISS"},
    {IFLA_VXLAN_PORT, Wire::Be16, "port", "IFLA_VXLAN_PORT"},
    {IFLA_VXLAN_GROUP6, Wire::In6, "group6", "IFLA_VXLAN_GROUP6"},
    {IFLA_VXLAN_LOCAL6, Wire::In6, "local6", "IFLA_VXLAN_LOCAL6"},
    {IFLA_VXLAN_UDP_CSUM, Wire::Bool8, "udpCsum", "IFLA_VXLAN_UDP_CSUM"},
    {IFLA_VXLAN_UDP_ZERO_CSUM6_TX, Wire::Bool8, "udpZeroCsum6Tx", "IFLA_VXLAN_UDP_ZERO_CSUM6_TX"},
    {IFLA_VXLAN_UDP_ZERO_CSUM6_RX, Wire::Bool8, "udpZeroCsum6Rx", "IFLA_VXLAN_UDP_ZERO_CSUM6_RX"},
    {IFLA_VXLAN_REMCSUM_TX, Wire::Bool8, "remcsumTx", "IFLA_VXLAN_REMCSUM_TX"},
    {IFLA_VXLAN_REMCSUM_RX, Wire::Bool8, "remcsumRx", "IFLA_VXLAN_REMCSUM_RX"},
    {IFLA_VXLAN_GBP, Wire::Flag, "gbp", "IFLA_VXLAN_GBP"},
    {IFLA_VXLAN_REMCSUM_NOPARTIAL, Wire::Flag, "remcsumNoPartial", "IFLA_VXLAN_REMCSUM_NOPARTIAL"},
    {IFLA_VXLAN_COLLECT_METADATA, Wire::Bool8, "collectMetadata", "IFLA_VXLAN_COLLECT_METADATA"},
    {IFLA_VXLAN_LABEL, Wire::Be32, "label", "IFLA_VXLAN_LABEL"},
    {IFLA_VXLAN_GPE, Wire::Flag, "gpe", "IFLA_VXLAN_GPE"},
    {IFLA_VXLAN_TTL_INHERIT, Wire::Flag, "ttlInherit", "IFLA_VXLAN_TTL_INHERIT"},
    {IFLA_VXLAN_DF, Wire::U8, "df", "IFLA_VXLAN_DF"},
    {IFLA_VXLAN_VNIFILTER, Wire::Bool8, "vnifilter", "IFLA_VXLAN_VNIFILTER"},
};
constexpr AttrTable kVxlan = MakeTable(kVxlanRows);

// ip-link(8) "BRIDGE Type Support"; net/bridge/br_netlink.c br_fill_info. Times are clock_t
// (USER_HZ, 1/100 s), as the kernel reports them.
constexpr AttrSpec kBridgeRows[] = {
    {IFLA_BR_FORWARD_DELAY, Wire::U32, "forwardDelay", "IFLA_BR_FORWARD_DELAY"},
    {IFLA_BR_HELLO_TIME, Wire::U32, "helloTime", "IFLA_BR_HELLO_TIME"},
    {IFLA_BR_MAX_AGE, Wire::U32, "maxAge", "IFLA_BR_MAX_AGE"},
    {IFLA_BR_AGEING_TIME, Wire::U32, "ageingTime", "IFLA_BR_AGEING_TIME"},
    {IFLA_BR_STP_STATE, Wire::U32, "stpState", "IFLA_BR_STP_STATE"},
    {IFLA_BR_PRIORITY, Wire::U16, "priority", "IFLA_BR_PRIORITY"},
    {IFLA_BR_VLAN_FILTERING, Wire::Bool8, "vlanFiltering", "IFLA_BR_VLAN_FILTERING"},
    {IFLA_BR_VLAN_PROTOCOL, Wire::Be16, "vlanProtocol", "IFLA_BR_VLAN_PROTOCOL"},
    {IFLA_BR_GROUP_FWD_MASK, Wire::U16, "groupFwdMask", "IFLA_BR_GROUP_FWD_MASK"},
    {IFLA_BR_ROOT_PORT, Wire::U16, "rootPort", "IFLA_BR_ROOT_PORT"},
    {IFLA_BR_ROOT_PATH_COST, Wire::U32, "rootPathCost", "IFLA_BR_ROOT_PATH_COST"},
    {IFLA_BR_TOPOLOGY_CHANGE, Wire::U8, "topologyChange", "IFLA_BR_TOPOLOGY_CHANGE"},
    {IFLA_BR_TOPOLOGY_CHANGE_DETECTED, Wire::U8, "topologyChangeDetected", "IFLA_BR_TOPOLOGY_CHANGE_DETECTED"},
    {IFLA_BR_HELLO_TIMER, Wire::U64, "helloTimer", "IFLA_BR_HELLO_TIMER"},
    {IFLA_BR_TCN_TIMER, Wire::U64, "tcnTimer", "IFLA_BR_TCN_TIMER"},
    {IFLA_BR_TOPOLOGY_CHANGE_TIMER, Wire::U64, "topologyChangeTimer", "IFLA_BR_TOPOLOGY_CHANGE_TIMER"},
    {IFLA_BR_GC_TIMER, Wire::U64, "gcTimer", "IFLA_BR_GC_TIMER"},
    {IFLA_BR_GROUP_ADDR, Wire::Mac, "groupAddr", "IFLA_BR_GROUP_ADDR"},
    {IFLA_BR_MCAST_ROUTER, Wire::U8, "mcastRouter", "IFLA_BR_MCAST_ROUTER"},
    {IFLA_BR_MCAST_SNOOPING, Wire::Bool8, "mcastSnooping", "IFLA_BR_MCAST_SNOOPING"},
    {IFLA_BR_MCAST_QUERY_USE_IFADDR, Wire::Bool8, "mcastQueryUseIfaddr", "IFLA_BR_MCAST_QUERY_USE_IFADDR"},
    {IFLA_BR_MCAST_QUERIER, Wire::Bool8, "mcastQuerier", "IFLA_BR_MCAST_QUERIER"},
    {IFLA_BR_MCAST_HASH_ELASTICITY, Wire::U32, "mcastHashElasticity", "IFLA_BR_MCAST_HASH_ELASTICITY"},
    {IFLA_BR_MCAST_HASH_MAX, Wire::U32, "mcastHashMax", "IFLA_BR_MCAST_HASH_MAX"},
    {IFLA_BR_MCAST_LAST_MEMBER_CNT, Wire::U32, "mcastLastMemberCnt", "IFLA_BR_MCAST_LAST_MEMBER_CNT"},
    {IFLA_BR_MCAST_STARTUP_QUERY_CNT, Wire::U32, "mcastStartupQueryCnt", "IFLA_BR_MCAST_STARTUP_QUERY_CNT"},
    {IFLA_BR_MCAST_LAST_MEMBER_INTVL, Wire::U64, "mcastLastMemberIntvl", "IFLA_BR_MCAST_LAST_MEMBER_INTVL"},
    {IFLA_BR_MCAST_MEMBERSHIP_INTVL, Wire::U64, "mcastMembershipIntvl", "IFLA_BR_MCAST_MEMBERSHIP_INTVL"},
    {IFLA_BR_MCAST_QUERIER_INTVL, Wire::U64, "mcastQuerierIntvl", "IFLA_BR_MCAST_QUERIER_INTVL"},
    {IFLA_BR_MCAST_QUERY_INTVL, Wire::U64, "mcastQueryIntvl", "IFLA_BR_MCAST_QUERY_INTVL"},
    {IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, Wire::U64, "mcastQueryResponseIntvl", "IFLA_BR_MCAST_QUERY_RESPONSE_INTVL"},
    {IFLA_BR_MCAST_STARTUP_QUERY_INTVL, Wire::U64, "mcastStartupQueryIntvl", "IFLA_BR_MCAST_STARTUP_QUERY_INTVL"},
    {IFLA_BR_NF_CALL_IPTABLES, Wire::Bool8, "nfCallIptables", "IFLA_BR_NF_CALL_IPTABLES"},
    {IFLA_BR_NF_CALL_IP6TABLES, Wire::Bool8, "nfCallIp6tables", "IFLA_BR_NF_CALL_IP6TABLES"},
    {IFLA_BR_NF_CALL_ARPTABLES, Wire::Bool8, "nfCallArptables", "IFLA_BR_NF_CALL_ARPTABLES"},
    {IFLA_BR_VLAN_DEFAULT_PVID, Wire::U16, "vlanDefaultPvid", "IFLA_BR_VLAN_DEFAULT_PVID"},
    {IFLA_BR_VLAN_STATS_ENABLED, Wire::Bool8, "vlanStatsEnabled", "IFLA_BR_VLAN_STATS_ENABLED"},
    {IFLA_BR_MCAST_STATS_ENABLED, Wire::Bool8, "mcastStatsEnabled", "IFLA_BR_MCAST_STATS_ENABLED"},
    {IFLA_BR_MCAST_IGMP_VERSION, Wire::U8, "mcastIgmpVersion", "IFLA_BR_MCAST_IGMP_VERSION"},
    {IFLA_BR_MCAST_MLD_VERSION, Wire::U8, "mcastMldVersion", "IFLA_BR_MCAST_MLD_VERSION"},
    {IFLA_BR_VLAN_STATS_PER_PORT, Wire::Bool8, "vlanStatsPerPort", "IFLA_BR_VLAN_STATS_PER_PORT"},
};
constexpr AttrTable kBridge = MakeTable(kBridgeRows);

// drivers/net/tun.c tun_fill_info (read only: taps are made by TUNSETIFF, see tun.cc).
constexpr AttrSpec kTunRows[] = {
    {IFLA_TUN_OWNER, Wire::U32, "owner", "IFLA_TUN_OWNER"},
    {IFLA_TUN_GROUP, Wire::U32, "group", "IFLA_TUN_GROUP"},
    {IFLA_TUN_TYPE, Wire::U8, "type", "IFLA_TUN_TYPE"},
    {IFLA_TUN_PI, Wire::Bool8, "pi", "IFLA_TUN_PI"},
    {IFLA_TUN_VNET_HDR, Wire::Bool8, "vnetHdr", "IFLA_TUN_VNET_HDR"},
    {IFLA_TUN_PERSIST, Wire::Bool8, "persist", "IFLA_TUN_PERSIST"},
    {IFLA_TUN_MULTI_QUEUE, Wire::Bool8, "multiQueue", "IFLA_TUN_MULTI_QUEUE"},
    {IFLA_TUN_NUM_QUEUES, Wire::U32, "numQueues", "IFLA_TUN_NUM_QUEUES"},
    {IFLA_TUN_NUM_DISABLED_QUEUES, Wire::U32, "numDisabledQueues", "IFLA_TUN_NUM_DISABLED_QUEUES"},
};
constexpr AttrTable kTun = MakeTable(kTunRows);

constexpr AttrSpec kVethRows[] = {
    {VETH_INFO_PEER, Wire::Flag, "peer", "VETH_INFO_PEER"},
};
constexpr AttrTable kVeth = MakeTable(kVethRows);

const AttrTable* KindTable(const std::string& kind) {
  if (kind == "vxlan") return &kVxlan;
  if (kind == "bridge") return &kBridge;
  if (kind == "tun") return &kTun;
  if (kind == "veth") return &kVeth;
  return nullptr;
}

// ifinfomsg + attributes (also the body of VETH_INFO_PEER).
void EncodeLinkBody(Napi::Env env, NlWriter& w, const Napi::Object& p) {
  ifinfomsg ifi{};
  ifi.ifi_family = static_cast<unsigned char>(OptU32(p, "family"));
  ifi.ifi_index = static_cast<int>(OptU32(p, "index"));
  ifi.ifi_flags = OptU32(p, "flags");
  ifi.ifi_change = OptU32(p, "change");
  w.Struct(ifi);
  EncodeAttrs(env, w, kLink, p);
  Napi::Value genMode = args::Own(p, "addrGenMode");
  if (!genMode.IsUndefined() && !genMode.IsNull()) {
    size_t spec = w.BeginNest(IFLA_AF_SPEC);
    size_t inet6 = w.BeginNest(AF_INET6);
    w.PutValue<uint8_t>(IFLA_INET6_ADDR_GEN_MODE, static_cast<uint8_t>(OptU32(p, "addrGenMode")));
    w.EndNest(inet6);
    w.EndNest(spec);
  }
  Napi::Value kindValue = args::Own(p, "kind");
  if (kindValue.IsUndefined() || kindValue.IsNull()) return;
  std::string kind = args::String(env, kindValue, "kind");
  size_t info = w.BeginNest(IFLA_LINKINFO);
  w.PutString(IFLA_INFO_KIND, kind);
  Napi::Value data = args::Own(p, "data");
  Napi::Value peer = args::Own(p, "peer");
  if (kind == "veth" && peer.IsObject()) {
    size_t d = w.BeginNest(IFLA_INFO_DATA);
    size_t pe = w.BeginNest(VETH_INFO_PEER);
    EncodeLinkBody(env, w, peer.As<Napi::Object>());
    w.EndNest(pe);
    w.EndNest(d);
  } else if (data.IsObject()) {
    const AttrTable* table = KindTable(kind);
    if (table == nullptr) throw Napi::TypeError::New(env, "no codec for link kind " + kind);
    size_t d = w.BeginNest(IFLA_INFO_DATA);
    EncodeAttrs(env, w, *table, data.As<Napi::Object>());
    w.EndNest(d);
  }
  w.EndNest(info);
}

void DecodeLinkInfo(Napi::Env env, const nlattr* info, Napi::Object& out) {
  std::string kind;
  const nlattr* data = nullptr;
  for (const nlattr* a : NlAttrs(AttrData(info), AttrLen(info))) {
    switch (AttrType(a)) {
      case IFLA_INFO_KIND:
        kind.assign(reinterpret_cast<const char*>(AttrData(a)),
                    strnlen(reinterpret_cast<const char*>(AttrData(a)), AttrLen(a)));
        out.Set("kind", kind);
        break;
      case IFLA_INFO_SLAVE_KIND:
        out.Set("slaveKind", DecodeValue(env, Wire::Str, AttrData(a), AttrLen(a)));
        break;
      case IFLA_INFO_DATA:
        data = a;
        break;
      default:
        break;
    }
  }
  const AttrTable* table = KindTable(kind);
  if (data == nullptr || table == nullptr || table == &kVeth) return;
  Napi::Object d = Napi::Object::New(env);
  for (const nlattr* a : NlAttrs(AttrData(data), AttrLen(data))) DecodeAttr(env, *table, a, d);
  out.Set("data", d);
}

// IFLA_AF_SPEC: only AF_INET6's address generation mode is decoded.
void DecodeAfSpec(Napi::Env env, const nlattr* spec, Napi::Object& out) {
  for (const nlattr* family : NlAttrs(AttrData(spec), AttrLen(spec))) {
    if (AttrType(family) != AF_INET6) continue;
    for (const nlattr* a : NlAttrs(AttrData(family), AttrLen(family))) {
      if (AttrType(a) == IFLA_INET6_ADDR_GEN_MODE && AttrLen(a) >= 1) {
        out.Set("addrGenMode", Napi::Number::New(env, *reinterpret_cast<const uint8_t*>(AttrData(a))));
      }
    }
  }
}

}  // namespace

void EncodeLink(Napi::Env env, NlWriter& w, const Napi::Object& params) {
  EncodeLinkBody(env, w, params);
}

Napi::Object DecodeLink(Napi::Env env, const nlmsghdr* h, bool brief) {
  Napi::Object out;
  const ifinfomsg* ifi = BeginDecode<ifinfomsg>(env, h, out);
  if (ifi == nullptr) return out;
  out.Set("family", Napi::Number::New(env, ifi->ifi_family));
  out.Set("index", Napi::Number::New(env, ifi->ifi_index));
  out.Set("flags", Napi::Number::New(env, ifi->ifi_flags));
  out.Set("type", Napi::Number::New(env, ifi->ifi_type));
  for (const nlattr* a : AttrsAfter<ifinfomsg>(h)) {
    if (brief) {
      uint16_t type = AttrType(a);
      if (type == IFLA_IFNAME || type == IFLA_MTU || type == IFLA_ADDRESS) DecodeAttr(env, kLink, a, out);
    } else if (AttrType(a) == IFLA_LINKINFO) {
      DecodeLinkInfo(env, a, out);
    } else if (AttrType(a) == IFLA_AF_SPEC) {
      DecodeAfSpec(env, a, out);
    } else {
      DecodeAttr(env, kLink, a, out);
    }
  }
  return out;
}

FamilyTables LinkTables() {
  return FamilyTables{sizeof(ifinfomsg), &kLink};
}

std::string LinkInfoAttributeAt(const nlattr* linkinfo, const uint8_t* base, uint32_t offset) {
  std::string kind;
  for (const nlattr* a : NlAttrs(AttrData(linkinfo), AttrLen(linkinfo))) {
    if (AttrType(a) == IFLA_INFO_KIND) kind.assign(reinterpret_cast<const char*>(AttrData(a)));
  }
  for (const nlattr* a : NlAttrs(AttrData(linkinfo), AttrLen(linkinfo))) {
    uint32_t start = static_cast<uint32_t>(reinterpret_cast<const uint8_t*>(a) - base);
    if (offset < start || offset >= start + a->nla_len) continue;
    const AttrSpec* spec = kInfo.ByType(AttrType(a));
    std::string name = spec ? spec->c : "IFLA_INFO_" + std::to_string(AttrType(a));
    if (offset == start || AttrType(a) != IFLA_INFO_DATA) return name;
    const AttrTable* table = KindTable(kind);
    for (const nlattr* d : NlAttrs(AttrData(a), AttrLen(a))) {
      uint32_t ds = static_cast<uint32_t>(reinterpret_cast<const uint8_t*>(d) - base);
      if (offset < ds || offset >= ds + d->nla_len) continue;
      const AttrSpec* inner = table ? table->ByType(AttrType(d)) : nullptr;
      return name + "/" + (inner ? inner->c : std::to_string(AttrType(d)));
    }
    return name;
  }
  return "";
}

}  // namespace vmplumb
