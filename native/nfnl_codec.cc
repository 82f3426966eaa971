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

namespace vmplumb {

namespace {

// Newer than the uapi headers the addon may be built against (Linux 6.3): like DELTABLE and
// DELCHAIN, but a missing object is not an error.
constexpr uint32_t kMsgDestroyTable = 26;
constexpr uint32_t kMsgDestroyChain = 27;

// Property readers that name the property in their TypeError (the native boundary's checks:
// TypeScript validated the values; these only keep a bad call from crashing).
uint32_t U32(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("nf_tables: '") + key + "' must be a number");
  return static_cast<uint32_t>(v.As<Napi::Number>().Int64Value());
}
bool Has(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return !v.IsUndefined() && !v.IsNull();
}
std::string Str(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw Napi::TypeError::New(env, std::string("nf_tables: '") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}
Napi::Buffer<uint8_t> Bytes(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsBuffer()) throw Napi::TypeError::New(env, std::string("nf_tables: '") + key + "' must be a Buffer");
  return v.As<Napi::Buffer<uint8_t>>();
}
uint64_t U64(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsBigInt()) {
    bool lossless = true;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (v.IsNumber()) return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
  throw Napi::TypeError::New(env, std::string("nf_tables: '") + key + "' must be a number or bigint");
}

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
void EncodeExpression(Napi::Env env, NlWriter& w, const Napi::Object& e) {
  std::string kind = Str(env, e, "kind");
  size_t elem = Nest(w, NFTA_LIST_ELEM);
  w.PutString(NFTA_EXPR_NAME, kind);
  size_t data = Nest(w, NFTA_EXPR_DATA);
  if (kind == "meta") {
    PutBe32(w, NFTA_META_DREG, U32(env, e, "dreg"));
    PutBe32(w, NFTA_META_KEY, U32(env, e, "key"));
  } else if (kind == "payload") {
    PutBe32(w, NFTA_PAYLOAD_DREG, U32(env, e, "dreg"));
    PutBe32(w, NFTA_PAYLOAD_BASE, U32(env, e, "base"));
    PutBe32(w, NFTA_PAYLOAD_OFFSET, U32(env, e, "offset"));
    PutBe32(w, NFTA_PAYLOAD_LEN, U32(env, e, "len"));
  } else if (kind == "cmp") {
    auto value = Bytes(env, e, "data");
    PutBe32(w, NFTA_CMP_SREG, U32(env, e, "sreg"));
    PutBe32(w, NFTA_CMP_OP, U32(env, e, "op"));
    PutData(w, NFTA_CMP_DATA, value.Data(), value.Length());
  } else if (kind == "bitwise") {
    auto mask = Bytes(env, e, "mask");
    auto xorv = Bytes(env, e, "xor");
    PutBe32(w, NFTA_BITWISE_SREG, U32(env, e, "sreg"));
    PutBe32(w, NFTA_BITWISE_DREG, U32(env, e, "dreg"));
    PutBe32(w, NFTA_BITWISE_LEN, static_cast<uint32_t>(mask.Length()));
    PutData(w, NFTA_BITWISE_MASK, mask.Data(), mask.Length());
    PutData(w, NFTA_BITWISE_XOR, xorv.Data(), xorv.Length());
  } else if (kind == "exthdr") {
    PutBe32(w, NFTA_EXTHDR_DREG, U32(env, e, "dreg"));
    w.PutValue<uint8_t>(NFTA_EXTHDR_TYPE, static_cast<uint8_t>(U32(env, e, "type")));
    PutBe32(w, NFTA_EXTHDR_OFFSET, U32(env, e, "offset"));
    PutBe32(w, NFTA_EXTHDR_LEN, U32(env, e, "len"));
    if (Has(e, "flags")) PutBe32(w, NFTA_EXTHDR_FLAGS, U32(env, e, "flags"));
    if (Has(e, "op")) PutBe32(w, NFTA_EXTHDR_OP, U32(env, e, "op"));
  } else if (kind == "counter") {
    // No attributes: a new counter starts at zero.
  } else if (kind == "limit") {
    PutBe64(w, NFTA_LIMIT_RATE, U64(env, e, "rate"));
    PutBe64(w, NFTA_LIMIT_UNIT, U64(env, e, "unit"));
    PutBe32(w, NFTA_LIMIT_BURST, U32(env, e, "burst"));
    PutBe32(w, NFTA_LIMIT_TYPE, U32(env, e, "type"));
    PutBe32(w, NFTA_LIMIT_FLAGS, U32(env, e, "flags"));
  } else if (kind == "lookup") {
    w.PutString(NFTA_LOOKUP_SET, Str(env, e, "set"));
    PutBe32(w, NFTA_LOOKUP_SREG, U32(env, e, "sreg"));
    if (Has(e, "setId")) PutBe32(w, NFTA_LOOKUP_SET_ID, U32(env, e, "setId"));
    if (Has(e, "flags")) PutBe32(w, NFTA_LOOKUP_FLAGS, U32(env, e, "flags"));
  } else if (kind == "immediate") {
    // Only verdicts: accept, drop, jump/goto (with `chain`), return.
    PutBe32(w, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    size_t imm = Nest(w, NFTA_IMMEDIATE_DATA);
    size_t verdict = Nest(w, NFTA_DATA_VERDICT);
    PutBe32(w, NFTA_VERDICT_CODE, static_cast<uint32_t>(e.Get("verdict").As<Napi::Number>().Int32Value()));
    if (Has(e, "chain")) w.PutString(NFTA_VERDICT_CHAIN, Str(env, e, "chain"));
    w.EndNest(verdict);
    w.EndNest(imm);
  } else {
    throw Napi::TypeError::New(env, "nf_tables: unknown expression kind '" + kind + "'");
  }
  w.EndNest(data);
  w.EndNest(elem);
}

void EncodeTable(Napi::Env env, NlWriter& w, const Napi::Object& p) {
  w.PutString(NFTA_TABLE_NAME, Str(env, p, "name"));
  if (Has(p, "tableFlags")) PutBe32(w, NFTA_TABLE_FLAGS, U32(env, p, "tableFlags"));
  if (Has(p, "userdata")) {
    auto u = Bytes(env, p, "userdata");
    w.Put(NFTA_TABLE_USERDATA, u.Data(), u.Length());
  }
}

void EncodeChain(Napi::Env env, NlWriter& w, const Napi::Object& p) {
  w.PutString(NFTA_CHAIN_TABLE, Str(env, p, "table"));
  w.PutString(NFTA_CHAIN_NAME, Str(env, p, "name"));
  if (Has(p, "hook")) {
    Napi::Object hook = p.Get("hook").As<Napi::Object>();
    size_t nest = Nest(w, NFTA_CHAIN_HOOK);
    PutBe32(w, NFTA_HOOK_HOOKNUM, U32(env, hook, "num"));
    PutBe32(w, NFTA_HOOK_PRIORITY, static_cast<uint32_t>(hook.Get("priority").As<Napi::Number>().Int32Value()));
    if (Has(hook, "device")) w.PutString(NFTA_HOOK_DEV, Str(env, hook, "device"));
    w.EndNest(nest);
  }
  if (Has(p, "policy")) PutBe32(w, NFTA_CHAIN_POLICY, U32(env, p, "policy"));
  if (Has(p, "chainType")) w.PutString(NFTA_CHAIN_TYPE, Str(env, p, "chainType"));
  if (Has(p, "userdata")) {
    auto u = Bytes(env, p, "userdata");
    w.Put(NFTA_CHAIN_USERDATA, u.Data(), u.Length());
  }
}

void EncodeRule(Napi::Env env, NlWriter& w, const Napi::Object& p) {
  w.PutString(NFTA_RULE_TABLE, Str(env, p, "table"));
  w.PutString(NFTA_RULE_CHAIN, Str(env, p, "chain"));
  if (Has(p, "handle")) PutBe64(w, NFTA_RULE_HANDLE, U64(env, p, "handle"));
  if (Has(p, "expressions")) {
    Napi::Array list = p.Get("expressions").As<Napi::Array>();
    size_t nest = Nest(w, NFTA_RULE_EXPRESSIONS);
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value v = list.Get(i);
      if (!v.IsObject())
        throw Napi::TypeError::New(env, "nf_tables: expressions[" + std::to_string(i) + "] must be an object");
      EncodeExpression(env, w, v.As<Napi::Object>());
    }
    w.EndNest(nest);
  }
  if (Has(p, "userdata")) {
    auto u = Bytes(env, p, "userdata");
    w.Put(NFTA_RULE_USERDATA, u.Data(), u.Length());
  }
}

void EncodeSet(Napi::Env env, NlWriter& w, const Napi::Object& p) {
  w.PutString(NFTA_SET_TABLE, Str(env, p, "table"));
  w.PutString(NFTA_SET_NAME, Str(env, p, "name"));
  if (Has(p, "setFlags")) PutBe32(w, NFTA_SET_FLAGS, U32(env, p, "setFlags"));
  if (Has(p, "keyType")) PutBe32(w, NFTA_SET_KEY_TYPE, U32(env, p, "keyType"));
  if (Has(p, "keyLen")) PutBe32(w, NFTA_SET_KEY_LEN, U32(env, p, "keyLen"));
  if (Has(p, "id")) PutBe32(w, NFTA_SET_ID, U32(env, p, "id"));
}

void EncodeSetElements(Napi::Env env, NlWriter& w, const Napi::Object& p) {
  w.PutString(NFTA_SET_ELEM_LIST_TABLE, Str(env, p, "table"));
  w.PutString(NFTA_SET_ELEM_LIST_SET, Str(env, p, "name"));
  if (Has(p, "id")) PutBe32(w, NFTA_SET_ELEM_LIST_SET_ID, U32(env, p, "id"));
  Napi::Array list = p.Get("elements").As<Napi::Array>();
  size_t nest = Nest(w, NFTA_SET_ELEM_LIST_ELEMENTS);
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Object el = list.Get(i).As<Napi::Object>();
    auto key = Bytes(env, el, "key");
    size_t one = Nest(w, NFTA_LIST_ELEM);
    PutData(w, NFTA_SET_ELEM_KEY, key.Data(), key.Length());
    if (Has(el, "flags")) PutBe32(w, NFTA_SET_ELEM_FLAGS, U32(env, el, "flags"));
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

void EncodeNftMessage(Napi::Env env, NlWriter& w, const Napi::Object& params, uint32_t seq) {
  uint32_t msg = U32(env, params, "type");
  auto flags = static_cast<uint16_t>(NLM_F_REQUEST | (Has(params, "flags") ? U32(env, params, "flags") : 0));
  size_t off = w.Begin(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg), flags, seq);
  nfgenmsg g{};
  g.nfgen_family = static_cast<uint8_t>(U32(env, params, "family"));
  g.version = NFNETLINK_V0;
  g.res_id = 0;
  w.Struct(g);
  switch (msg) {
    case NFT_MSG_NEWTABLE:
    case NFT_MSG_DELTABLE:
    case NFT_MSG_GETTABLE:
    case kMsgDestroyTable:
      if (Has(params, "name")) EncodeTable(env, w, params);
      break;
    case NFT_MSG_NEWCHAIN:
    case NFT_MSG_DELCHAIN:
    case NFT_MSG_GETCHAIN:
    case kMsgDestroyChain:
      if (Has(params, "name"))
        EncodeChain(env, w, params);
      else if (Has(params, "table"))
        w.PutString(NFTA_CHAIN_TABLE, Str(env, params, "table"));
      break;
    case NFT_MSG_NEWRULE:
    case NFT_MSG_DELRULE:
    case NFT_MSG_GETRULE:
      if (Has(params, "chain"))
        EncodeRule(env, w, params);
      else if (Has(params, "table"))
        w.PutString(NFTA_RULE_TABLE, Str(env, params, "table"));
      break;
    case NFT_MSG_NEWSET:
    case NFT_MSG_DELSET:
      EncodeSet(env, w, params);
      break;
    case NFT_MSG_NEWSETELEM:
    case NFT_MSG_DELSETELEM:
      EncodeSetElements(env, w, params);
      break;
    default:
      throw Napi::TypeError::New(env, "nf_tables: unsupported message type " + std::to_string(msg));
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
