// The codecs' entry points for tests, apart from the product's sockets: they encode and parse
// bytes without a socket, so the codec tests (test/unit/netlink-codec.test.ts, guard-policy,
// input-fuzz) check them byte for byte and fuzz the parsers. Nothing in lib/ calls them.
#include <linux/netlink.h>

#include <vector>

#include "addon.h"
#include "args.h"
#include "netlink_attr.h"
#include "nfnl_codec.h"
#include "nfnl_socket.h"
#include "rtnl_codec.h"

namespace vmplumb {

namespace {

// rtnlEncode(type, flags, seq, params) → Buffer: one request as NetlinkSocket would send it.
Napi::Value RtnlEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_UINT32(0, type);
  REQUIRE_ARGUMENT_UINT32(1, flags);
  REQUIRE_ARGUMENT_UINT32(2, seq);
  OPTIONAL_ARGUMENT_OBJECT(3, params);
  std::vector<uint8_t> buf;
  NlWriter w(buf);
  EncodeRequest(env, w, static_cast<uint16_t>(type), static_cast<uint16_t>(flags), seq, params);
  return Napi::Buffer<uint8_t>::Copy(env, buf.data(), buf.size());
}

// rtnlDecode(buffer) → object[]: every message in the buffer, parsed (undefined entries are
// messages of types the codec does not parse).
Napi::Value RtnlDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_BUFFER(0, buf);
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const nlmsghdr* h : NlMessages(buf.Data(), buf.Length())) out.Set(i++, DecodeMessage(env, h));
  return out;
}

// rtnlAttributeAt(buffer, offset) → the C name path of the attribute at that offset, as a
// failed request's `attribute` names it (NLMSGERR_ATTR_OFFS).
Napi::Value RtnlAttributeAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_BUFFER(0, buf);
  REQUIRE_ARGUMENT_UINT32(1, offset);
  return Napi::String::New(env, AttributeAt(buf.Data(), buf.Length(), offset));
}

// nfnlEncode(messages, batch) → Buffer: the bytes nfnlTransact would send.
Napi::Value NfnlEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_ARRAY(0, messages);
  NfnlTransaction out = EncodeTransaction(env, messages, info[1].ToBoolean().Value());
  return Napi::Buffer<uint8_t>::Copy(env, out.bytes.data(), out.bytes.size());
}

// nfnlDecode(buffer) → object[]: every nf_tables message in the buffer, parsed.
Napi::Value NfnlDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "nfnlDecode: expected a Buffer");
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const nlmsghdr* h : NlMessages(buf.Data(), buf.Length())) out.Set(i++, DecodeNftMessage(env, h));
  return out;
}

}  // namespace

void InitTestExports(Napi::Env env, Napi::Object exports, Addon&) {
  exports.Set("rtnlEncode", Napi::Function::New(env, RtnlEncode));
  exports.Set("rtnlDecode", Napi::Function::New(env, RtnlDecode));
  exports.Set("rtnlAttributeAt", Napi::Function::New(env, RtnlAttributeAt));
  exports.Set("nfnlEncode", Napi::Function::New(env, NfnlEncode));
  exports.Set("nfnlDecode", Napi::Function::New(env, NfnlDecode));
}

}  // namespace vmplumb
