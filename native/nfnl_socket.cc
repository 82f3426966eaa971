// nf_tables transactions over NETLINK_NETFILTER (nfnetlink(7), net/netfilter/nfnetlink.c).
//
// nfnlTransact(netns, messages, batch) sends either
// - a batch: NFNL_MSG_BATCH_BEGIN, the messages, NFNL_MSG_BATCH_END in ONE sendmsg. The
//   kernel applies them atomically (all or nothing) inside that sendmsg (nfnetlink_rcv_batch
//   runs synchronously in the sender's context), so when sendmsg returns every error is
//   already queued on our socket. The messages carry no NLM_F_ACK: nfnetlink reports errors
//   regardless, so success is "nothing queued", and a batch of thousands of messages does
//   not queue thousands of acks. Or
// - one request (a GET dump), read until NLMSG_DONE.
// The socket is opened inside `netns` on the JS thread (setns is per thread), used on the
// libuv pool (the kernel's work happens in sendmsg and, for dumps, in recvmsg), and closed.
// One short-lived socket per transaction: no state between calls, nothing to leak.
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "addon.h"
#include "errors.h"
#include "netns.h"
#include "nfnl_codec.h"

namespace vmplumb {

namespace {

constexpr int kReceiveBuffer = 4 << 20;
constexpr size_t kReceiveChunk = 64 << 10;
// A dump answers within milliseconds; this only keeps a pool thread from waiting forever.
constexpr time_t kDumpTimeoutSeconds = 10;

// Owns one descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// What a transaction sends: the bytes, and per sequence number the request type (for error
// messages naming the operation) and its index in the caller's array.
struct Outgoing {
  std::vector<uint8_t> bytes;
  std::vector<uint16_t> types;  // index = seq - 1
  uint32_t firstSeq = 1;
};

Outgoing Encode(Napi::Env env, const Napi::Array& messages, bool batch) {
  Outgoing out;
  NlWriter w(out.bytes);
  uint32_t seq = out.firstSeq;
  if (batch) {
    EncodeBatchMarker(w, NFNL_MSG_BATCH_BEGIN, seq++);
    out.types.push_back(NFNL_MSG_BATCH_BEGIN);
  }
  for (uint32_t i = 0; i < messages.Length(); i++) {
    Napi::Value v = messages.Get(i);
    if (!v.IsObject())
      throw Napi::TypeError::New(env, "nf_tables: messages[" + std::to_string(i) + "] must be an object");
    Napi::Object m = v.As<Napi::Object>();
    EncodeNftMessage(env, w, m, seq++);
    out.types.push_back(static_cast<uint16_t>(m.Get("type").As<Napi::Number>().Uint32Value()));
  }
  if (batch) {
    EncodeBatchMarker(w, NFNL_MSG_BATCH_END, seq++);
    out.types.push_back(NFNL_MSG_BATCH_END);
  }
  return out;
}

class TransactWorker : public Napi::AsyncWorker {
 public:
  TransactWorker(Napi::Env env, int fd, Outgoing&& out, bool batch, bool hasBatchMarkers)
      : Napi::AsyncWorker(env, "vmplumb:nfnl"),
        deferred_(Napi::Promise::Deferred::New(env)),
        fd_(fd),
        out_(std::move(out)),
        batch_(batch),
        markers_(hasBatchMarkers) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    iovec iov{out_.bytes.data(), out_.bytes.size()};
    msghdr msg{};
    msg.msg_name = &kernel;
    msg.msg_namelen = sizeof(kernel);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n;
    do {
      n = sendmsg(fd_.get(), &msg, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      err_ = errno;
      syscall_ = "sendmsg";
      return;
    }
    std::vector<uint8_t> chunk(kReceiveChunk);
    for (;;) {
      // A batch's errors are queued by the time sendmsg returned: read without waiting.
      ssize_t r = recv(fd_.get(), chunk.data(), chunk.size(), batch_ ? MSG_DONTWAIT : 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (batch_ && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        err_ = errno;
        syscall_ = "recvmsg";
        return;
      }
      if (r == 0) return;
      bool done = false;
      auto* h = reinterpret_cast<nlmsghdr*>(chunk.data());
      auto left = static_cast<unsigned int>(r);
      for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        size_t off = received_.size();
        received_.resize(off + NLMSG_ALIGN(h->nlmsg_len));
        std::memcpy(received_.data() + off, h, h->nlmsg_len);
        if (h->nlmsg_type == NLMSG_DONE || (h->nlmsg_type == NLMSG_ERROR && !batch_)) done = true;
      }
      if (done) return;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_ != 0) {
      deferred_.Reject(Failure(env, err_, syscall_, -1));
      return;
    }
    Napi::Array results = Napi::Array::New(env);
    uint32_t count = 0;
    auto* h = reinterpret_cast<nlmsghdr*>(received_.data());
    auto left = static_cast<unsigned int>(received_.size());
    for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(int))) continue;
        auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0) continue;
        deferred_.Reject(ErrorDetails(env, h, -e->error));
        return;
      }
      if (h->nlmsg_type == NLMSG_DONE) break;
      Napi::Value v = DecodeNftMessage(env, h);
      if (!v.IsUndefined()) results.Set(count++, v);
    }
    deferred_.Resolve(results);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  // { errno, code, syscall, description, index?, extack? }: `index` is the failing message's
  // position in the caller's array (-1: the batch as a whole, e.g. its commit).
  Napi::Object Failure(Napi::Env env, int err, const std::string& syscall, int index) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("errno", -err);
    e.Set("code", ErrnoName(err));
    e.Set("syscall", syscall);
    e.Set("description", std::strerror(err));
    e.Set("index", index);
    return e;
  }

  Napi::Object ErrorDetails(Napi::Env env, const nlmsghdr* h, int err) {
    int64_t slot = static_cast<int64_t>(h->nlmsg_seq) - out_.firstSeq;
    int index = -1;
    std::string name = "NFNL_MSG_BATCH";
    if (slot >= 0 && static_cast<size_t>(slot) < out_.types.size()) {
      int64_t i = markers_ ? slot - 1 : slot;
      if (i >= 0 && static_cast<size_t>(slot) < out_.types.size() - (markers_ ? 1 : 0)) {
        index = static_cast<int>(i);
        name = NftMessageName(out_.types[static_cast<size_t>(slot)]);
      }
    }
    Napi::Object e = Failure(env, err, name, index);
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return e;
    auto* me = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
    size_t skip = sizeof(nlmsgerr);
    if (!(h->nlmsg_flags & NLM_F_CAPPED) && me->msg.nlmsg_len > NLMSG_HDRLEN)
      skip += NLMSG_ALIGN(me->msg.nlmsg_len - NLMSG_HDRLEN);
    size_t payload = h->nlmsg_len - NLMSG_HDRLEN;
    if (skip >= payload) return e;
    for (const nlattr* a : NlAttrs(static_cast<const uint8_t*>(NLMSG_DATA(h)) + skip, payload - skip)) {
      if (AttrType(a) == NLMSGERR_ATTR_MSG) e.Set("extack", DecodeValue(env, Wire::Str, AttrData(a), AttrLen(a)));
    }
    return e;
  }

  Napi::Promise::Deferred deferred_;
  Fd fd_;
  Outgoing out_;
  bool batch_;
  bool markers_;
  std::vector<uint8_t> received_;
  int err_ = 0;
  std::string syscall_;
};

// Opens the NETLINK_NETFILTER socket inside `spec`, sized for `sendBytes` in one sendmsg
// (netlink_sendmsg refuses a message larger than sk_sndbuf - 32, and a batch must be one).
int OpenSocket(Napi::Env env, const NetnsSpec& spec, size_t sendBytes, bool dump) {
  int fd;
  {
    NetnsScope scope(env, spec);
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) throw SystemError(env, errno, "socket", "AF_NETLINK NETLINK_NETFILTER");
  }
  Fd guard(fd);
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  int snd = static_cast<int>(sendBytes + (64 << 10));
  if (snd > (256 << 10) && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
  }
  int rcv = kReceiveBuffer;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
  if (dump) {
    timeval tv{kDumpTimeoutSeconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0)
    throw SystemError(env, errno, "bind", "AF_NETLINK");
  return guard.release();
}

// The first of `links` that does not exist in the socket's namespace (SIOCGIFINDEX answers
// from the socket's namespace without the rtnl lock), or "" when all do.
std::string MissingLink(Napi::Env env, int fd, const Napi::Value& links) {
  if (!links.IsArray()) return "";
  Napi::Array list = links.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    std::string name = list.Get(i).As<Napi::String>().Utf8Value();
    ifreq req{};
    if (name.empty() || name.size() >= IFNAMSIZ) return name;
    std::memcpy(req.ifr_name, name.c_str(), name.size());
    if (ioctl(fd, SIOCGIFINDEX, &req) < 0) {
      if (errno == ENODEV) return name;
      throw SystemError(env, errno, "ioctl", "SIOCGIFINDEX " + name);
    }
  }
  return "";
}

// nfnlTransact(netns, messages: object[], batch: boolean, links?: string[]) → Promise<object[]>
//   batch: the messages in one atomic NFNL batch; else exactly one request (a dump).
//   links: interfaces that must exist in `netns` first (a netdev hook accepts a device name
//   that does not exist yet), else the promise rejects with ENODEV and nothing is sent.
Napi::Value NfnlTransact(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "nfnlTransact: messages must be an array");
  NetnsSpec spec = NetnsSpecFromValue(info[0]);
  Napi::Array messages = info[1].As<Napi::Array>();
  bool batch = info[2].ToBoolean().Value();
  if (!batch && messages.Length() != 1)
    throw Napi::TypeError::New(env, "nfnlTransact: a request outside a batch is one message");
  Outgoing out = Encode(env, messages, batch);
  int fd = OpenSocket(env, spec, out.bytes.size(), !batch);
  std::string missing;
  try {
    missing = MissingLink(env, fd, info[3]);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (!missing.empty()) {
    ::close(fd);
    auto deferred = Napi::Promise::Deferred::New(env);
    Napi::Object e = Napi::Object::New(env);
    e.Set("errno", -ENODEV);
    e.Set("code", ErrnoName(ENODEV));
    e.Set("syscall", "SIOCGIFINDEX");
    e.Set("description", std::strerror(ENODEV));
    e.Set("index", -1);
    e.Set("extack", "no interface \"" + missing + "\" in the namespace");
    deferred.Reject(e);
    return deferred.Promise();
  }
  auto* worker = new TransactWorker(env, fd, std::move(out), batch, batch);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// nfnlEncode(messages, batch) → Buffer: the bytes nfnlTransact would send (for codec tests).
Napi::Value NfnlEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "nfnlEncode: messages must be an array");
  Outgoing out = Encode(env, info[0].As<Napi::Array>(), info[1].ToBoolean().Value());
  return Napi::Buffer<uint8_t>::Copy(env, out.bytes.data(), out.bytes.size());
}

// nfnlDecode(buffer) → object[]: every nf_tables message in the buffer, parsed.
Napi::Value NfnlDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "nfnlDecode: expected a Buffer");
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  Napi::Array out = Napi::Array::New(env);
  auto* h = reinterpret_cast<nlmsghdr*>(buf.Data());
  auto left = static_cast<unsigned int>(buf.Length());
  uint32_t i = 0;
  for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) out.Set(i++, DecodeNftMessage(env, h));
  return out;
}

}  // namespace

void InitNfnl(Napi::Env env, Napi::Object exports, Addon&) {
  exports.Set("nfnlTransact", Napi::Function::New(env, NfnlTransact));
  exports.Set("nfnlEncode", Napi::Function::New(env, NfnlEncode));
  exports.Set("nfnlDecode", Napi::Function::New(env, NfnlDecode));
}

}  // namespace vmplumb
