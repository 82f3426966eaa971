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
#include "nfnl_socket.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "fd.h"
#include "netlink_io.h"
#include "netns.h"
#include "nfnl_codec.h"

namespace vmplumb {

NfnlTransaction EncodeTransaction(Napi::Env env, const Napi::Array& messages, bool batch) {
  NfnlTransaction out;
  NlWriter w(out.bytes);
  uint32_t seq = out.firstSeq;
  if (batch) {
    EncodeBatchMarker(w, NFNL_MSG_BATCH_BEGIN, seq++);
    out.types.push_back(NFNL_MSG_BATCH_BEGIN);
  }
  for (uint32_t i = 0; i < messages.Length(); i++) {
    std::string path = "messages[" + std::to_string(i) + "]";
    Napi::Object m = args::Object(env, messages.Get(i), path);
    EncodeNftMessage(env, w, m, seq++, path);
    out.types.push_back(static_cast<uint16_t>(args::Uint32(env, args::Own(m, "type"), path + ".type")));
  }
  if (batch) {
    EncodeBatchMarker(w, NFNL_MSG_BATCH_END, seq++);
    out.types.push_back(NFNL_MSG_BATCH_END);
  }
  return out;
}

namespace {

constexpr int kReceiveBuffer = 4 << 20;
constexpr size_t kReceiveChunk = 64 << 10;
// A dump answers within milliseconds; this only keeps a pool thread from waiting forever.
constexpr time_t kDumpTimeoutSeconds = 10;

// { errno, code, syscall, description, extack?, index }: `index` is the failing message's
// position in the caller's array (-1: the batch as a whole, e.g. its commit).
Napi::Object Failure(Napi::Env env, int err, const std::string& syscall, int index, const ExtAck& ack = {}) {
  Napi::Object e = NetlinkFailure(env, err, syscall, ack);
  e.Set("index", index);
  return e;
}

class TransactWorker : public Napi::AsyncWorker {
 public:
  TransactWorker(Napi::Env env, Fd fd, NfnlTransaction&& out, bool batch, bool hasBatchMarkers)
      : Napi::AsyncWorker(env, "vmplumb:nfnl"),
        deferred_(Napi::Promise::Deferred::New(env)),
        fd_(std::move(fd)),
        out_(std::move(out)),
        batch_(batch),
        markers_(hasBatchMarkers) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    err_ = SendToKernel(fd_.get(), out_.bytes.data(), out_.bytes.size());
    if (err_ != 0) {
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
      for (const nlmsghdr* h : NlMessages(chunk.data(), static_cast<size_t>(r))) {
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
    for (const nlmsghdr* h : NlMessages(received_.data(), received_.size())) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err = AnswerErrno(h);
        if (err <= 0) continue;
        deferred_.Reject(ErrorDetails(env, h, err));
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
    return Failure(env, err, name, index, ParseExtAck(h));
  }

  Napi::Promise::Deferred deferred_;
  Fd fd_;
  NfnlTransaction out_;
  bool batch_;
  bool markers_;
  std::vector<uint8_t> received_;
  int err_ = 0;
  std::string syscall_;
};

// Opens the NETLINK_NETFILTER socket inside `spec`, sized for `sendBytes` in one sendmsg
// (netlink_sendmsg refuses a message larger than sk_sndbuf - 32, and a batch must be one).
Fd OpenSocket(Napi::Env env, const NetnsSpec& spec, size_t sendBytes, bool dump) {
  Fd fd = OpenNetlink(env, spec, NETLINK_NETFILTER, 0, "AF_NETLINK NETLINK_NETFILTER");
  int one = 1;
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  int snd = static_cast<int>(sendBytes + (64 << 10));
  if (snd > (256 << 10)) SetSendBuffer(fd.get(), snd);
  SetReceiveBuffer(fd.get(), kReceiveBuffer);
  if (dump) {
    timeval tv{kDumpTimeoutSeconds, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  BindNetlink(env, fd.get());
  return fd;
}

// The first of `links` that does not exist in the socket's namespace, or "" when all do.
std::string MissingLink(Napi::Env env, int fd, const Napi::Value& links) {
  if (!links.IsArray()) return "";
  Napi::Array list = links.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    std::string name = args::String(env, list.Get(i), "links[" + std::to_string(i) + "]");
    if (name.empty()) return name;
    int index = LinkIndex(fd, name);
    if (index == 0) return name;
    if (index < 0) throw SystemError(env, -index, "ioctl", "SIOCGIFINDEX " + name);
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
  NfnlTransaction out = EncodeTransaction(env, messages, batch);
  Fd fd = OpenSocket(env, spec, out.bytes.size(), !batch);
  std::string missing = MissingLink(env, fd.get(), info[3]);
  if (!missing.empty()) {
    auto deferred = Napi::Promise::Deferred::New(env);
    ExtAck ack;
    ack.message = "no interface \"" + missing + "\" in the namespace";
    deferred.Reject(Failure(env, ENODEV, "SIOCGIFINDEX", -1, ack));
    return deferred.Promise();
  }
  auto* worker = new TransactWorker(env, std::move(fd), std::move(out), batch, batch);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitNfnl(Napi::Env env, Napi::Object exports, Addon&) {
  exports.Set("nfnlTransact", Napi::Function::New(env, NfnlTransact));
}

}  // namespace vmplumb
