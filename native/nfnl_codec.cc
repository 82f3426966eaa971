// nf_tables messages and expressions on the wire (include/uapi/linux/netfilter/nf_tables.h).
//
// Every nf_tables number attribute is big-endian (NLA_BE32/NLA_BE64); data (cmp operands,
// set keys, verdicts) travels in nested NFTA_DATA_VALUE / NFTA_DATA_VERDICT attributes. Nests
// carry NLA_F_NESTED as libmnl sets it.
#include "nfnl_codec.h"

#include <arpa/inet.h>
#include <endian.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "args.h"

namespace vmplumb {

namespace {

// Newer than the uapi headers the addon may be built against (Linux 6.3): like DELTABLE and
// DELCHAIN, but a missing object is not an error.
constexpr uint32_t kMsgDestroyTable = 26;
constexpr uint32_t kMsgDestroyChain = 27;

// The fields of one request object, read as own properties and checked by args.h: a wrong
// type throws a TypeError (ERR_INVALID_ARG_TYPE) naming the field by its path
// ("messages[0].expressions[2].dreg"). TypeScript validated the values (lib/guard/); these
// checks keep a bad call from crashing or reading an inherited property.
class Fields {
 public:
  Fields(Napi::Env env, const Napi::Object& object, std::string path)
      : env_(env), object_(object), path_(std::move(path)) {}

  // An own property that is neither undefined nor null.
  bool Has(const char* key) const {
    Napi::Value v = args::Own(object_, key);
    return !v.IsUndefined() && !v.IsNull();
  }
  uint32_t U32(const char* key) const { return args::Uint32(env_, args::Own(object_, key), Name(key)); }
  int32_t I32(const char* key) const { return args::Int32(env_, args::Own(object_, key), Name(key)); }
  uint64_t U64(const char* key) const { return args::Uint64(env_, args::Own(object_, key), Name(key)); }
  std::string Str(const char* key) const { return args::String(env_, args::Own(object_, key), Name(key)); }
  Napi::Buffer<uint8_t> Bytes(const char* key) const { return args::Buffer(env_, args::Own(object_, key), Name(key)); }
  Fields Object(const char* key) const {
    return Fields(env_, args::Object(env_, args::Own(object_, key), Name(key)), Name(key));
  }
  // The objects of an own array property, each named by its index.
  std::vector<Fields> List(const char* key) const {
    Napi::Array list = args::Array(env_, args::Own(object_, key), Name(key));
    std::vector<Fields> out;
    out.reserve(list.Length());
    for (uint32_t i = 0; i < list.Length(); i++) {
      std::string name = Name(key) + "[" + std::to_string(i) + "]";
      out.emplace_back(env_, args::Object(env_, list.Get(i), name), name);
    }
    return out;
  }
  Napi::Env Env() const { return env_; }
  // The field's path for messages ("messages[0].hook.num").
  std::string Name(const char* key) const { return path_ + "." + key; }

 private:
  Napi::Env env_;
  Napi::Object object_;
  std::string path_;
};

void PutBe32(NlWriter& w, uint16_t type, uint32_t value) {
  w.PutValue<uint32_t>(type, htonl(value));
}
void PutBe64(NlWriter& w, uint16_t type, uint64_t value) {
  w.PutValue<uint64_t>(type, htobe64(value));
}
size_t Nest(NlWriter& w, uint16_t type) {
  return w.BeginNest(type | NLA_F_NESTED);
}

// NFTA_DATA_VALUE inside a nest of type `type`.
void PutData(NlWriter& w, uint16_t type, const uint8_t* data, size_t len) {
  size_t nest = Nest(w, type);
  w.Put(NFTA_DATA_VALUE, data, len);
  w.EndNest(nest);
}

// One expression: NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA { … } }.
void EncodeExpression(NlWriter& w, const Fields& e) {
  std::string kind = e.Str("kind");
  size_t elem = Nest(w, NFTA_LIST_ELEM);
  w.PutString(NFTA_EXPR_NAME, kind);
  size_t data = Nest(w, NFTA_EXPR_DATA);
  if (kind == "meta") {
    PutBe32(w, NFTA_META_DREG, e.U32("dreg"));
    PutBe32(w, NFTA_META_KEY, e.U32("key"));
  } else if (kind == "payload") {
    PutBe32(w, NFTA_PAYLOAD_DREG, e.U32("dreg"));
    PutBe32(w, NFTA_PAYLOAD_BASE, e.U32("base"));
    PutBe32(w, NFTA_PAYLOAD_OFFSET, e.U32("offset"));
    PutBe32(w, NFTA_PAYLOAD_LEN, e.U32("len"));
  } else if (kind == "cmp") {
    auto value = e.Bytes("data");
    PutBe32(w, NFTA_CMP_SREG, e.U32("sreg"));
    PutBe32(w, NFTA_CMP_OP, e.U32("op"));
    PutData(w, NFTA_CMP_DATA, value.Data(), value.Length());
  } else if (kind == "bitwise") {
    auto mask = e.Bytes("mask");
    auto xorv = e.Bytes("xor");
    PutBe32(w, NFTA_BITWISE_SREG, e.U32("sreg"));
    PutBe32(w, NFTA_BITWISE_DREG, e.U32("dreg"));
    PutBe32(w, NFTA_BITWISE_LEN, static_cast<uint32_t>(mask.Length()));
    PutData(w, NFTA_BITWISE_MASK, mask.Data(), mask.Length());
    PutData(w, NFTA_BITWISE_XOR, xorv.Data(), xorv.Length());
  } else if (kind == "exthdr") {
    PutBe32(w, NFTA_EXTHDR_DREG, e.U32("dreg"));
    w.PutValue<uint8_t>(NFTA_EXTHDR_TYPE, static_cast<uint8_t>(e.U32("type")));
    PutBe32(w, NFTA_EXTHDR_OFFSET, e.U32("offset"));
    PutBe32(w, NFTA_EXTHDR_LEN, e.U32("len"));
    if (e.Has("flags")) PutBe32(w, NFTA_EXTHDR_FLAGS, e.U32("flags"));
    if (e.Has("op")) PutBe32(w, NFTA_EXTHDR_OP, e.U32("op"));
  } else if (kind == "counter") {
    // No attributes: a new counter starts at zero.
  } else if (kind == "limit") {
    PutBe64(w, NFTA_LIMIT_RATE, e.U64("rate"));
    PutBe64(w, NFTA_LIMIT_UNIT, e.U64("unit"));
    PutBe32(w, NFTA_LIMIT_BURST, e.U32("burst"));
    PutBe32(w, NFTA_LIMIT_TYPE, e.U32("type"));
    PutBe32(w, NFTA_LIMIT_FLAGS, e.U32("flags"));
  } else if (kind == "lookup") {
    w.PutString(NFTA_LOOKUP_SET, e.Str("set"));
    PutBe32(w, NFTA_LOOKUP_SREG, e.U32("sreg"));
    if (e.Has("setId")) PutBe32(w, NFTA_LOOKUP_SET_ID, e.U32("setId"));
    if (e.Has("flags")) PutBe32(w, NFTA_LOOKUP_FLAGS, e.U32("flags"));
  } else if (kind == "immediate") {
    // Only verdicts: accept, drop, jump/goto (with `chain`), return.
    PutBe32(w, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    size_t imm = Nest(w, NFTA_IMMEDIATE_DATA);
    size_t verdict = Nest(w, NFTA_DATA_VERDICT);
    PutBe32(w, NFTA_VERDICT_CODE, static_cast<uint32_t>(e.I32("verdict")));
    if (e.Has("chain")) w.PutString(NFTA_VERDICT_CHAIN, e.Str("chain"));
    w.EndNest(verdict);
    w.EndNest(imm);
  } else {
    args::Throw(e.Env(), "ERR_INVALID_ARG_VALUE",
                "nf_tables: unknown expression kind '" + kind + "' (" + e.Name("kind") + ")");
  }
  w.EndNest(data);
  w.EndNest(elem);
}

void EncodeTable(NlWriter& w, const Fields& p) {
  w.PutString(NFTA_TABLE_NAME, p.Str("name"));
  if (p.Has("tableFlags")) PutBe32(w, NFTA_TABLE_FLAGS, p.U32("tableFlags"));
  if (p.Has("userdata")) {
    auto u = p.Bytes("userdata");
    w.Put(NFTA_TABLE_USERDATA, u.Data(), u.Length());
  }
}

void EncodeChain(NlWriter& w, const Fields& p) {
  w.PutString(NFTA_CHAIN_TABLE, p.Str("table"));
  w.PutString(NFTA_CHAIN_NAME, p.Str("name"));
  if (p.Has("hook")) {
    Fields hook = p.Object("hook");
    size_t nest = Nest(w, NFTA_CHAIN_HOOK);
    PutBe32(w, NFTA_HOOK_HOOKNUM, hook.U32("num"));
    PutBe32(w, NFTA_HOOK_PRIORITY, static_cast<uint32_t>(hook.I32("priority")));
    if (hook.Has("device")) w.PutString(NFTA_HOOK_DEV, hook.Str("device"));
    w.EndNest(nest);
  }
  if (p.Has("policy")) PutBe32(w, NFTA_CHAIN_POLICY, p.U32("policy"));
  if (p.Has("chainType")) w.PutString(NFTA_CHAIN_TYPE, p.Str("chainType"));
  if (p.Has("userdata")) {
    auto u = p.Bytes("userdata");
    w.Put(NFTA_CHAIN_USERDATA, u.Data(), u.Length());
  }
}

void EncodeRule(NlWriter& w, const Fields& p) {
  w.PutString(NFTA_RULE_TABLE, p.Str("table"));
  w.PutString(NFTA_RULE_CHAIN, p.Str("chain"));
  if (p.Has("handle")) PutBe64(w, NFTA_RULE_HANDLE, p.U64("handle"));
  if (p.Has("expressions")) {
    std::vector<Fields> list = p.List("expressions");
    size_t nest = Nest(w, NFTA_RULE_EXPRESSIONS);
    for (const Fields& e : list) EncodeExpression(w, e);
    w.EndNest(nest);
  }
  if (p.Has("userdata")) {
    auto u = p.Bytes("userdata");
    w.Put(NFTA_RULE_USERDATA, u.Data(), u.Length());
  }
}

void EncodeSet(NlWriter& w, const Fields& p) {
  w.PutString(NFTA_SET_TABLE, p.Str("table"));
  w.PutString(NFTA_SET_NAME, p.Str("name"));
  if (p.Has("setFlags")) PutBe32(w, NFTA_SET_FLAGS, p.U32("setFlags"));
  if (p.Has("keyType")) PutBe32(w, NFTA_SET_KEY_TYPE, p.U32("keyType"));
  if (p.Has("keyLen")) PutBe32(w, NFTA_SET_KEY_LEN, p.U32("keyLen"));
  if (p.Has("id")) PutBe32(w, NFTA_SET_ID, p.U32("id"));
}

void EncodeSetElements(NlWriter& w, const Fields& p) {
  w.PutString(NFTA_SET_ELEM_LIST_TABLE, p.Str("table"));
  w.PutString(NFTA_SET_ELEM_LIST_SET, p.Str("name"));
  if (p.Has("id")) PutBe32(w, NFTA_SET_ELEM_LIST_SET_ID, p.U32("id"));
  std::vector<Fields> list = p.List("elements");
  size_t nest = Nest(w, NFTA_SET_ELEM_LIST_ELEMENTS);
  for (const Fields& el : list) {
    auto key = el.Bytes("key");
    size_t one = Nest(w, NFTA_LIST_ELEM);
    PutData(w, NFTA_SET_ELEM_KEY, key.Data(), key.Length());
    if (el.Has("flags")) PutBe32(w, NFTA_SET_ELEM_FLAGS, el.U32("flags"));
    w.EndNest(one);
  }
  w.EndNest(nest);
}

uint32_t Be32At(const nlattr* a) {
  uint32_t v = 0;
  if (AttrLen(a) >= 4) std::memcpy(&v, AttrData(a), 4);
  return ntohl(v);
}
double Be64At(const nlattr* a) {
  uint64_t v = 0;
  if (AttrLen(a) >= 8) std::memcpy(&v, AttrData(a), 8);
  return static_cast<double>(be64toh(v));
}
Napi::String StrAt(Napi::Env env, const nlattr* a) {
  return DecodeValue(env, Wire::Str, AttrData(a), AttrLen(a)).As<Napi::String>();
}

// { kind, …}: counters with their values, verdicts with code and chain; other kinds by name.
Napi::Object DecodeExpression(Napi::Env env, const nlattr* elem) {
  Napi::Object out = Napi::Object::New(env);
  const nlattr* data = nullptr;
  std::string kind;
  for (const nlattr* a : NlAttrs(AttrData(elem), AttrLen(elem))) {
    if (AttrType(a) == NFTA_EXPR_NAME) kind = StrAt(env, a).Utf8Value();
    if (AttrType(a) == NFTA_EXPR_DATA) data = a;
  }
  out.Set("kind", kind);
  if (data == nullptr) return out;
  for (const nlattr* a : NlAttrs(AttrData(data), AttrLen(data))) {
    uint16_t t = AttrType(a);
    if (kind == "counter") {
      if (t == NFTA_COUNTER_PACKETS) out.Set("packets", Be64At(a));
      if (t == NFTA_COUNTER_BYTES) out.Set("bytes", Be64At(a));
    } else if (kind == "immediate" && t == NFTA_IMMEDIATE_DATA) {
      for (const nlattr* d : NlAttrs(AttrData(a), AttrLen(a))) {
        if (AttrType(d) != NFTA_DATA_VERDICT) continue;
        for (const nlattr* v : NlAttrs(AttrData(d), AttrLen(d))) {
          if (AttrType(v) == NFTA_VERDICT_CODE) out.Set("verdict", static_cast<int32_t>(Be32At(v)));
          if (AttrType(v) == NFTA_VERDICT_CHAIN) out.Set("chain", StrAt(env, v));
        }
      }
    }
  }
  return out;
}

}  // namespace

void EncodeBatchMarker(NlWriter& w, uint16_t type, uint32_t seq) {
  size_t off = w.Begin(type, NLM_F_REQUEST, seq);
  nfgenmsg g{};
  g.nfgen_family = AF_UNSPEC;
  g.version = NFNETLINK_V0;
  g.res_id = htons(NFNL_SUBSYS_NFTABLES);
  w.Struct(g);
  w.End(off);
}

void EncodeNftMessage(Napi::Env env, NlWriter& w, const Napi::Object& params, uint32_t seq, const std::string& path) {
  Fields p(env, params, path);
  uint32_t msg = p.U32("type");
  auto flags = static_cast<uint16_t>(NLM_F_REQUEST | (p.Has("flags") ? p.U32("flags") : 0));
  size_t off = w.Begin(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg), flags, seq);
  nfgenmsg g{};
  g.nfgen_family = static_cast<uint8_t>(p.U32("family"));
  g.version = NFNETLINK_V0;
  g.res_id = 0;
  w.Struct(g);
  switch (msg) {
    case NFT_MSG_NEWTABLE:
    case NFT_MSG_DELTABLE:
    case NFT_MSG_GETTABLE:
    case kMsgDestroyTable:
      if (p.Has("name")) EncodeTable(w, p);
      break;
    case NFT_MSG_NEWCHAIN:
    case NFT_MSG_DELCHAIN:
    case NFT_MSG_GETCHAIN:
    case kMsgDestroyChain:
      if (p.Has("name"))
        EncodeChain(w, p);
      else if (p.Has("table"))
        w.PutString(NFTA_CHAIN_TABLE, p.Str("table"));
      break;
    case NFT_MSG_NEWRULE:
    case NFT_MSG_DELRULE:
    case NFT_MSG_GETRULE:
      if (p.Has("chain"))
        EncodeRule(w, p);
      else if (p.Has("table"))
        w.PutString(NFTA_RULE_TABLE, p.Str("table"));
      break;
    case NFT_MSG_NEWSET:
    case NFT_MSG_DELSET:
      EncodeSet(w, p);
      break;
    case NFT_MSG_NEWSETELEM:
    case NFT_MSG_DELSETELEM:
      EncodeSetElements(w, p);
      break;
    default:
      args::Throw(env, "ERR_INVALID_ARG_VALUE",
                  "nf_tables: unsupported message type " + std::to_string(msg) + " (" + p.Name("type") + ")");
  }
  w.End(off);
}

Napi::Value DecodeNftMessage(Napi::Env env, const nlmsghdr* h) {
  if ((h->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES || h->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg)))
    return env.Undefined();
  uint16_t msg = h->nlmsg_type & 0xff;
  auto* g = static_cast<const nfgenmsg*>(NLMSG_DATA(h));
  Napi::Object out = Napi::Object::New(env);
  out.Set("msgType", msg);
  out.Set("family", g->nfgen_family);
  NlAttrs attrs(static_cast<const uint8_t*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(nfgenmsg)),
                h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(nfgenmsg))));
  auto userdata = [&](const nlattr* a) {
    out.Set("userdata", Napi::Buffer<uint8_t>::Copy(env, AttrData(a), AttrLen(a)));
  };
  switch (msg) {
    case NFT_MSG_NEWTABLE:
      for (const nlattr* a : attrs) {
        switch (AttrType(a)) {
          case NFTA_TABLE_NAME:
            out.Set("name", StrAt(env, a));
            break;
          case NFTA_TABLE_USE:
            out.Set("use", Be32At(a));
            break;
          case NFTA_TABLE_HANDLE:
            out.Set("handle", Be64At(a));
            break;
          case NFTA_TABLE_USERDATA:
            userdata(a);
            break;
          default:
            break;
        }
      }
      return out;
    case NFT_MSG_NEWCHAIN:
      for (const nlattr* a : attrs) {
        switch (AttrType(a)) {
          case NFTA_CHAIN_TABLE:
            out.Set("table", StrAt(env, a));
            break;
          case NFTA_CHAIN_NAME:
            out.Set("name", StrAt(env, a));
            break;
          case NFTA_CHAIN_HANDLE:
            out.Set("handle", Be64At(a));
            break;
          case NFTA_CHAIN_POLICY:
            out.Set("policy", Be32At(a));
            break;
          case NFTA_CHAIN_USE:
            out.Set("use", Be32At(a));
            break;
          case NFTA_CHAIN_USERDATA:
            userdata(a);
            break;
          case NFTA_CHAIN_HOOK: {
            Napi::Object hook = Napi::Object::New(env);
            for (const nlattr* k : NlAttrs(AttrData(a), AttrLen(a))) {
              if (AttrType(k) == NFTA_HOOK_HOOKNUM) hook.Set("num", Be32At(k));
              if (AttrType(k) == NFTA_HOOK_PRIORITY) hook.Set("priority", static_cast<int32_t>(Be32At(k)));
              if (AttrType(k) == NFTA_HOOK_DEV) hook.Set("device", StrAt(env, k));
              if (AttrType(k) == NFTA_HOOK_DEVS) {
                for (const nlattr* d : NlAttrs(AttrData(k), AttrLen(k))) hook.Set("device", StrAt(env, d));
              }
            }
            out.Set("hook", hook);
            break;
          }
          default:
            break;
        }
      }
      return out;
    case NFT_MSG_NEWRULE:
      for (const nlattr* a : attrs) {
        switch (AttrType(a)) {
          case NFTA_RULE_TABLE:
            out.Set("table", StrAt(env, a));
            break;
          case NFTA_RULE_CHAIN:
            out.Set("chain", StrAt(env, a));
            break;
          case NFTA_RULE_HANDLE:
            out.Set("handle", Be64At(a));
            break;
          case NFTA_RULE_USERDATA:
            userdata(a);
            break;
          case NFTA_RULE_EXPRESSIONS: {
            Napi::Array list = Napi::Array::New(env);
            uint32_t i = 0;
            for (const nlattr* e : NlAttrs(AttrData(a), AttrLen(a))) list.Set(i++, DecodeExpression(env, e));
            out.Set("expressions", list);
            break;
          }
          default:
            break;
        }
      }
      return out;
    case NFT_MSG_NEWSET:
      for (const nlattr* a : attrs) {
        switch (AttrType(a)) {
          case NFTA_SET_TABLE:
            out.Set("table", StrAt(env, a));
            break;
          case NFTA_SET_NAME:
            out.Set("name", StrAt(env, a));
            break;
          case NFTA_SET_FLAGS:
            out.Set("setFlags", Be32At(a));
            break;
          case NFTA_SET_KEY_LEN:
            out.Set("keyLen", Be32At(a));
            break;
          default:
            break;
        }
      }
      return out;
    default:
      return env.Undefined();
  }
}

std::string NftMessageName(uint16_t type) {
  static constexpr const char* kNames[] = {
      "NFT_MSG_NEWTABLE", "NFT_MSG_GETTABLE", "NFT_MSG_DELTABLE",   "NFT_MSG_NEWCHAIN",   "NFT_MSG_GETCHAIN",
      "NFT_MSG_DELCHAIN", "NFT_MSG_NEWRULE",  "NFT_MSG_GETRULE",    "NFT_MSG_DELRULE",    "NFT_MSG_NEWSET",
      "NFT_MSG_GETSET",   "NFT_MSG_DELSET",   "NFT_MSG_NEWSETELEM", "NFT_MSG_GETSETELEM", "NFT_MSG_DELSETELEM",
  };
  uint16_t msg = type & 0xff;
  if (msg == kMsgDestroyTable) return "NFT_MSG_DESTROYTABLE";
  if (msg == kMsgDestroyChain) return "NFT_MSG_DESTROYCHAIN";
  if (msg < sizeof(kNames) / sizeof(kNames[0])) return kNames[msg];
  return "NFT_MSG_" + std::to_string(msg);
}

}  // namespace vmplumb
