// Attribute table encoding and decoding (see netlink_attr.h).
#include "netlink_attr.h"

#include "args.h"

#include <arpa/inet.h>

#include <cstdio>

namespace vmplumb {

namespace {

uint32_t NumberOf(Napi::Env env, const AttrSpec& spec, const Napi::Value& v) {
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  return args::Uint32(env, v, spec.c);
}

std::string StringOf(Napi::Env env, const AttrSpec& spec, const Napi::Value& v) {
  if (!v.IsString()) args::WrongType(env, spec.c, "a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  // The kernel reads a string attribute up to its first NUL: "ve0\0x" would name ve0.
  if (s.find('\0') != std::string::npos)
    args::Throw(env, "ERR_INVALID_ARG_VALUE", std::string(spec.c) + ": NUL byte in " + spec.js);
  return s;
}

}  // namespace

bool ParseMac(const std::string& text, uint8_t* out, size_t* len) {
  unsigned b[6];
  char tail;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6) {
    return false;
  }
  for (int i = 0; i < 6; i++) out[i] = static_cast<uint8_t>(b[i]);
  *len = 6;
  return true;
}

std::string FormatMac(const uint8_t* data, size_t len) {
  std::string s;
  char part[4];
  for (size_t i = 0; i < len; i++) {
    std::snprintf(part, sizeof(part), i == 0 ? "%02x" : ":%02x", data[i]);
    s += part;
  }
  return s;
}

size_t ParseIp(const std::string& text, uint8_t* out) {
  if (text.find(':') != std::string::npos) return inet_pton(AF_INET6, text.c_str(), out) == 1 ? 16 : 0;
  return inet_pton(AF_INET, text.c_str(), out) == 1 ? 4 : 0;
}

std::string FormatIp(const uint8_t* data, size_t len) {
  char text[INET6_ADDRSTRLEN];
  int family = len == 16 ? AF_INET6 : len == 4 ? AF_INET : 0;
  if (family == 0 || inet_ntop(family, data, text, sizeof(text)) == nullptr) return FormatMac(data, len);
  return text;
}

void EncodeAttr(Napi::Env env, NlWriter& w, const AttrSpec& spec, const Napi::Value& v) {
  switch (spec.wire) {
    case Wire::U8:
    case Wire::Bool8:
      w.PutValue<uint8_t>(spec.type, static_cast<uint8_t>(NumberOf(env, spec, v)));
      break;
    case Wire::U16:
      w.PutValue<uint16_t>(spec.type, static_cast<uint16_t>(NumberOf(env, spec, v)));
      break;
    case Wire::U32:
      w.PutValue<uint32_t>(spec.type, NumberOf(env, spec, v));
      break;
    case Wire::U64: {
      w.PutValue<uint64_t>(spec.type, static_cast<uint64_t>(args::Int64(env, v, spec.c)));
      break;
    }
    case Wire::Be16:
      w.PutValue<uint16_t>(spec.type, htons(static_cast<uint16_t>(NumberOf(env, spec, v))));
      break;
    case Wire::Be32:
      w.PutValue<uint32_t>(spec.type, htonl(NumberOf(env, spec, v)));
      break;
    case Wire::In4:
    case Wire::In6:
    case Wire::Ip: {
      uint8_t addr[16];
      size_t len = ParseIp(StringOf(env, spec, v), addr);
      bool ok = len != 0 && (spec.wire == Wire::Ip || (spec.wire == Wire::In4) == (len == 4));
      if (!ok) args::Throw(env, "ERR_INVALID_ARG_VALUE", std::string(spec.c) + ": invalid address");
      w.Put(spec.type, addr, len);
      break;
    }
    case Wire::Mac: {
      uint8_t mac[6];
      size_t len = 0;
      if (!ParseMac(StringOf(env, spec, v), mac, &len))
        args::Throw(env, "ERR_INVALID_ARG_VALUE", std::string(spec.c) + ": invalid MAC");
      w.Put(spec.type, mac, len);
      break;
    }
    case Wire::Str:
      w.PutString(spec.type, StringOf(env, spec, v));
      break;
    case Wire::Flag:
      if (v.ToBoolean().Value()) w.PutFlag(spec.type);
      break;
    case Wire::PortRange: {
      Napi::Object o = args::Object(env, v, spec.c);
      uint16_t range[2] = {htons(static_cast<uint16_t>(args::Uint32(env, args::Own(o, "low"), "low"))),
                           htons(static_cast<uint16_t>(args::Uint32(env, args::Own(o, "high"), "high")))};
      w.Put(spec.type, range, sizeof(range));
      break;
    }
  }
}

void EncodeAttrs(Napi::Env env, NlWriter& w, const AttrTable& table, const Napi::Object& params) {
  // Own keys only: GetPropertyNames is for..in, and would send Object.prototype.mtu.
  Napi::Array keys = args::OwnKeys(params);
  for (uint32_t i = 0, n = keys.Length(); i < n; i++) {
    Napi::Value key = keys.Get(i);
    // Read the key into a stack buffer in one call (Utf8Value asks for the length first, then
    // allocates): this loop runs for every option of every request. A key that fills the
    // buffer is longer than any attribute's name.
    char name[40];
    size_t length = 0;
    if (napi_get_value_string_utf8(env, key, name, sizeof(name), &length) != napi_ok || length >= sizeof(name) - 1)
      continue;
    const AttrSpec* spec = table.ByName(std::string_view(name, length));
    if (spec == nullptr) continue;
    Napi::Value v = params.Get(key);
    if (v.IsUndefined() || v.IsNull()) continue;
    EncodeAttr(env, w, *spec, v);
  }
}

Napi::Value DecodeValue(Napi::Env env, Wire wire, const uint8_t* d, size_t len) {
  auto need = [&](size_t n) { return len >= n; };
  switch (wire) {
    case Wire::U8:
      if (need(1)) return Napi::Number::New(env, d[0]);
      break;
    case Wire::Bool8:
      if (need(1)) return Napi::Boolean::New(env, d[0] != 0);
      break;
    case Wire::U16:
      if (need(2)) return Napi::Number::New(env, Load<uint16_t>(d));
      break;
    case Wire::U32:
      if (need(4)) return Napi::Number::New(env, Load<uint32_t>(d));
      break;
    case Wire::U64:
      if (need(8)) return Napi::Number::New(env, static_cast<double>(Load<uint64_t>(d)));
      break;
    case Wire::Be16:
      if (need(2)) return Napi::Number::New(env, ntohs(Load<uint16_t>(d)));
      break;
    case Wire::Be32:
      if (need(4)) return Napi::Number::New(env, ntohl(Load<uint32_t>(d)));
      break;
    case Wire::In4:
    case Wire::In6:
    case Wire::Ip:
      return Napi::String::New(env, FormatIp(d, len));
    case Wire::Mac:
      return Napi::String::New(env, FormatMac(d, len));
    case Wire::Str:
      return Napi::String::New(env, reinterpret_cast<const char*>(d), strnlen(reinterpret_cast<const char*>(d), len));
    case Wire::Flag:
      // Some flags are NLA_FLAG on input but u8 0/1 in dumps (IFLA_VXLAN_TTL_INHERIT).
      return Napi::Boolean::New(env, len == 0 || d[0] != 0);
    case Wire::PortRange:
      if (need(4)) {
        uint16_t r[2];
        std::memcpy(r, d, 4);
        Napi::Object o = Napi::Object::New(env);
        o.Set("low", Napi::Number::New(env, ntohs(r[0])));
        o.Set("high", Napi::Number::New(env, ntohs(r[1])));
        return o;
      }
      break;
  }
  return env.Undefined();
}

bool DecodeAttr(Napi::Env env, const AttrTable& table, const nlattr* a, Napi::Object& out) {
  const AttrSpec* spec = table.ByType(AttrType(a));
  if (spec == nullptr || spec->js[0] == '\0') return false;  // unknown, or decoded by hand
  Napi::Value v = DecodeValue(env, spec->wire, AttrData(a), AttrLen(a));
  if (!v.IsUndefined()) out.Set(spec->js, v);
  return true;
}

}  // namespace vmplumb
