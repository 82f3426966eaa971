// Netlink message and attribute helpers (netlink(7), include/uapi/linux/netlink.h).
//
// NlWriter appends messages to a byte buffer (several messages per buffer: a batch goes out in
// one sendmsg). Attribute tables map kernel attributes to JavaScript property names and wire
// types, so a link kind's codec is data: one row per IFLA_* attribute, both directions.
#pragma once

#include <linux/netlink.h>
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace vmplumb {

// Appends netlink messages and attributes to `buf`, NLMSG_ALIGN/NLA_ALIGN padded.
class NlWriter {
 public:
  explicit NlWriter(std::vector<uint8_t>& buf) : buf_(buf) {}

  // Starts a message; returns its offset (for End and for the header).
  size_t Begin(uint16_t type, uint16_t flags, uint32_t seq) {
    size_t off = Align4(buf_.size());
    buf_.resize(off + NLMSG_HDRLEN, 0);
    auto* h = Header(off);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq;
    h->nlmsg_pid = 0;
    return off;
  }
  void End(size_t off) { Header(off)->nlmsg_len = static_cast<uint32_t>(buf_.size() - off); }
  nlmsghdr* Header(size_t off) { return reinterpret_cast<nlmsghdr*>(buf_.data() + off); }

  // A fixed family header (ifinfomsg, ifaddrmsg, …) right after the nlmsghdr.
  template <typename T>
  size_t Struct(const T& value) {
    size_t off = buf_.size();
    Append(&value, sizeof(T));
    return off;
  }
  void Put(uint16_t type, const void* data, size_t len) {
    nlattr a{};
    a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    a.nla_type = type;
    Append(&a, sizeof(a));
    Append(data, len);
  }
  template <typename T>
  void PutValue(uint16_t type, T value) {
    Put(type, &value, sizeof(T));
  }
  void PutString(uint16_t type, const std::string& s) { Put(type, s.c_str(), s.size() + 1); }
  void PutFlag(uint16_t type) { Put(type, nullptr, 0); }

  size_t BeginNest(uint16_t type) {
    size_t off = buf_.size();
    Put(type, nullptr, 0);
    return off;
  }
  void EndNest(size_t off) {
    reinterpret_cast<nlattr*>(buf_.data() + off)->nla_len = static_cast<uint16_t>(buf_.size() - off);
  }

 private:
  static size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }
  void Append(const void* data, size_t len) {
    size_t off = buf_.size();
    buf_.resize(Align4(off + len), 0);
    if (len > 0) std::memcpy(buf_.data() + off, data, len);
  }
  std::vector<uint8_t>& buf_;
};

// Length and header size of the two things netlink lays out back to back, 4-byte aligned
// (NLMSG_ALIGN and NLA_ALIGN are the same alignment).
template <typename T>
struct NlLayout;
template <>
struct NlLayout<nlmsghdr> {
  static constexpr size_t kHeader = NLMSG_HDRLEN;
  static size_t Length(const nlmsghdr* h) { return h->nlmsg_len; }
};
template <>
struct NlLayout<nlattr> {
  static constexpr size_t kHeader = NLA_HDRLEN;
  static size_t Length(const nlattr* a) { return a->nla_len; }
};

// Iterates the messages or attributes in [data, data+len), as NLMSG_OK/NLMSG_NEXT and
// nla_ok/nla_next do, except that an element whose aligned length runs past the end stops
// the walk instead of wrapping the remaining length around: the decoders take untrusted
// buffers.
template <typename T>
class NlRange {
 public:
  NlRange(const void* data, size_t len) : p_(static_cast<const uint8_t*>(data)), len_(len) {}
  struct Iter {
    const uint8_t* p;
    size_t left;
    const T* operator*() const { return reinterpret_cast<const T*>(p); }
    bool operator!=(const Iter&) const {
      if (left < NlLayout<T>::kHeader) return false;
      size_t length = NlLayout<T>::Length(**this);
      return length >= NlLayout<T>::kHeader && length <= left;
    }
    Iter& operator++() {
      size_t step = (NlLayout<T>::Length(**this) + 3) & ~size_t{3};
      if (step > left) step = left;
      p += step;
      left -= step;
      return *this;
    }
  };
  Iter begin() const { return Iter{p_, len_}; }
  Iter end() const { return Iter{nullptr, 0}; }

 private:
  const uint8_t* p_;
  size_t len_;
};

using NlAttrs = NlRange<nlattr>;
using NlMessages = NlRange<nlmsghdr>;

// The value of type T at `data`, which need not be aligned for T (a u64 attribute's payload
// is only 4-byte aligned).
template <typename T>
T Load(const uint8_t* data) {
  T value;
  std::memcpy(&value, data, sizeof(T));
  return value;
}

inline uint16_t AttrType(const nlattr* a) {
  return a->nla_type & NLA_TYPE_MASK;
}
inline const uint8_t* AttrData(const nlattr* a) {
  return reinterpret_cast<const uint8_t*>(a) + NLA_HDRLEN;
}
inline size_t AttrLen(const nlattr* a) {
  return a->nla_len - NLA_HDRLEN;
}

// Wire types of attributes.
enum class Wire : uint8_t {
  U8,
  U16,
  U32,
  U64,    // host order numbers
  Bool8,  // u8 0/1 as a JS boolean
  Be16,
  Be32,  // network order numbers (ports, labels)
  In4,
  In6,
  Ip,         // addresses as text; Ip is 4 or 16 bytes by family
  Mac,        // hardware address "aa:bb:…"
  Str,        // NUL-terminated string
  Flag,       // presence only (true)
  PortRange,  // struct ifla_vxlan_port_range { be16 low, high } as { low, high }
};

// One row of an attribute table: the kernel attribute, its wire type, its JS property and its
// C name (for extended-ack messages naming the offending attribute).
struct AttrSpec {
  uint16_t type;
  Wire wire;
  const char* js;
  const char* c;
};

struct AttrTable {
  const AttrSpec* rows;
  size_t size;
  const AttrSpec* ByType(uint16_t type) const {
    for (size_t i = 0; i < size; i++)
      if (rows[i].type == type) return &rows[i];
    return nullptr;
  }
  const AttrSpec* ByName(std::string_view js) const {
    for (size_t i = 0; i < size; i++)
      if (js == rows[i].js) return &rows[i];
    return nullptr;
  }
};

template <size_t N>
constexpr AttrTable MakeTable(const AttrSpec (&rows)[N]) {
  return AttrTable{rows, N};
}

// Encodes every property of `params` that the table knows; other properties are left to the
// caller (header fields, nested data). Throws a TypeError for a value of the wrong type.
void EncodeAttrs(Napi::Env env, NlWriter& w, const AttrTable& table, const Napi::Object& params);

// Encodes one value as `spec` says.
void EncodeAttr(Napi::Env env, NlWriter& w, const AttrSpec& spec, const Napi::Value& value);

// Sets `out[spec.js]` for every attribute in the table; returns false for an unknown type.
bool DecodeAttr(Napi::Env env, const AttrTable& table, const nlattr* a, Napi::Object& out);

// Decodes one attribute's payload as `wire`.
Napi::Value DecodeValue(Napi::Env env, Wire wire, const uint8_t* data, size_t len);

// Text forms used by codecs.
bool ParseMac(const std::string& text, uint8_t* out, size_t* len);
std::string FormatMac(const uint8_t* data, size_t len);
// Parses an IPv4 or IPv6 address into `out` (16 bytes); returns 4, 16 or 0 (invalid).
size_t ParseIp(const std::string& text, uint8_t* out);
std::string FormatIp(const uint8_t* data, size_t len);

}  // namespace vmplumb
