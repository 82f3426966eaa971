// A NETLINK_ROUTE socket for pipelined requests and notifications (netlink(7), rtnetlink(7)).
//
// - Opened SOCK_CLOEXEC|SOCK_NONBLOCK, optionally inside another network namespace (NetnsScope:
//   the socket stays in the namespace it was created in), with NETLINK_EXT_ACK (the kernel's
//   error text and offending attribute), NETLINK_GET_STRICT_CHK (dump filters are honoured,
//   bad headers refused) and NETLINK_CAP_ACK (errors don't echo the request: we keep it).
// - request() encodes a message into the outbox and returns a promise; flush() sends the
//   whole outbox back to back, 4 requests per sendmsg (kMaxMessagesPerChunk says why). The
//   kernel processes a request inside sendmsg, synchronously: flush(true) does that on the
//   libuv thread pool so slow requests (a bridge deletion waits for RCU; any request waits for
//   the rtnl lock) never hold the event loop; flush(false) sends inline, for callers that know
//   the request is cheap and uncontended. Order is kept: while a pool send runs, later messages wait for it.
// - Replies are read on the event loop when uv_poll reports the socket readable and matched by
//   sequence number: an ack (NLMSG_ERROR 0) or a dump's NLMSG_DONE settles its promise with the
//   parsed messages. An interrupted dump (NLM_F_DUMP_INTR) is reported as `interrupted`.
//   A dump requested with an onChunk callback hands its messages over as they are read
//   instead (one call per readiness callback, the rest before it settles, with an empty
//   array): a re-dump of 12,000 links is then never held whole in memory, and its parsing is
//   spread over the reads (lib/netlink/events.ts).
// - Notifications (multicast groups given at open) go to the onEvent callback in batches;
//   a receive-queue overrun (ENOBUFS) is reported to it as well, so the caller can re-dump.
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <uv.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "netlink_io.h"
#include "netns.h"
#include "poll_socket.h"
#include "rtnl_codec.h"

namespace vmplumb {

namespace {

// Large enough for the acks of thousands of pipelined requests and for bursts of
// notifications (each RTM_NEWLINK notification is ~1-2 KiB of payload, ~4 KiB of truesize).
constexpr int kReceiveBuffer = 32 << 20;
constexpr int kSendBuffer = 4 << 20;
// One sendmsg carries at most this much (netlink_sendmsg refuses more than sk_sndbuf - 32),
// and at most this many requests. Their acks are all queued during that one sendmsg and must
// fit the receive buffer (bench/FINDINGS.md); and the kernel runs them all inside that call,
// where a kernel built without preemption (PREEMPT_NONE, as on these machines) does not give
// the CPU away: a pool thread in the middle of 256 link creations (~0.5 ms each) kept the
// event loop's thread runnable but off the CPU for tens of milliseconds. 4 requests are a
// millisecond or two of kernel work between returns to user space, where the scheduler can
// switch. Measured in the churn at 1000 pairs, time the JS thread spent runnable but waiting
// for a CPU in stalls over 8 ms (/proc/<tid>/schedstat), 3 runs each, alternated: 256 per
// sendmsg 600-880 ms; 16: 11-475 ms; 4: 6-39 ms. Creation time did not change measurably.
// The requests still leave back to back from one pool job, never waiting for acks between.
constexpr size_t kMaxChunk = 256 << 10;
constexpr size_t kMaxMessagesPerChunk = 4;
// A dump's messages come in skbs of at most 32 KiB (netlink_dump); a bigger buffer is spare.
constexpr size_t kReceiveChunk = 64 << 10;
// Reads (and bytes) per readiness callback before yielding to the rest of the event loop:
// parsing a dump into objects costs JS-thread time in proportion to its bytes.
constexpr int kReadsPerWakeup = 16;
constexpr size_t kBytesPerWakeup = 64 << 10;

// Sends [data, data+len) in chunks at message boundaries. Returns 0 or an errno; `*sent` is
// where the first unsent message starts. Safe on any thread (no JS).
int SendMessages(int fd, const uint8_t* data, size_t len, size_t* sent) {
  size_t off = 0;
  while (off < len) {
    size_t end = off;
    size_t messages = 0;
    while (end < len && messages < kMaxMessagesPerChunk) {
      auto* h = reinterpret_cast<const nlmsghdr*>(data + end);
      size_t next = end + NLMSG_ALIGN(h->nlmsg_len);
      if (next - off > kMaxChunk && end > off) break;
      end = next > len ? len : next;
      messages++;
    }
    int err = SendToKernel(fd, data + off, end - off);
    if (err != 0) {
      *sent = off;
      return err;
    }
    off = end;
  }
  *sent = off;
  return 0;
}

// What a request the socket gives up on rejects with: ECANCELED, `closed`, and the request's
// type as `syscall` (the kernel never answered it).
Napi::Object Cancelled(Napi::Env env, uint16_t type) {
  Napi::Object e = ErrnoObject(env, ECANCELED, MessageTypeName(type));
  e.Set("closed", true);
  return e;
}

class NetlinkSocket;

// Sends one outbox on the libuv thread pool.
class SendWorker : public Napi::AsyncWorker {
 public:
  SendWorker(Napi::Env env, NetlinkSocket* socket, int fd, std::vector<uint8_t>&& data)
      : Napi::AsyncWorker(env, "vmplumb:netlink-send"), socket_(socket), fd_(fd), data_(std::move(data)) {}
  void Execute() override { err_ = SendMessages(fd_, data_.data(), data_.size(), &sent_); }
  void OnOK() override;
  void OnError(const Napi::Error&) override { OnOK(); }

 private:
  NetlinkSocket* socket_;
  int fd_;
  std::vector<uint8_t> data_;
  size_t sent_ = 0;
  int err_ = 0;
};

class NetlinkSocket : public PollSocket<NetlinkSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NetlinkSocket",
                       {
                           InstanceMethod<&NetlinkSocket::Request>("request"),
                           InstanceMethod<&NetlinkSocket::Flush>("flush"),
                           InstanceMethod<&NetlinkSocket::IfIndex>("ifIndex"),
                           InstanceMethod<&NetlinkSocket::Close>("close"),
                           InstanceMethod<&NetlinkSocket::CancelUnsent>("cancelUnsent"),
                           InstanceAccessor<&NetlinkSocket::GetPending>("pending"),
                           InstanceAccessor<&NetlinkSocket::GetFd>("fd"),
                           InstanceAccessor<&NetlinkSocket::GetPortId>("portId"),
                       });
  }

  // new NetlinkSocket(netns, groups: number[], onEvent?: (messages | null, error?) => void,
  //                   receiveBuffer?: number, briefLinks?: boolean)
  // briefLinks: link messages (notifications and dump replies) are decoded brief (DecodeLink).
  explicit NetlinkSocket(const Napi::CallbackInfo& info) : PollSocket(info, "vmplumb:netlink") {
    Napi::Env env = info.Env();
    NetnsSpec spec = NetnsSpecFromValue(info[0]);
    if (!info[1].IsUndefined()) args::Array(env, info[1], "groups");
    if (!info[2].IsUndefined() && !info[2].IsNull()) args::Function(env, info[2], "onEvent");
    OPTIONAL_ARGUMENT_INT32(3, receiveBuffer, kReceiveBuffer);
    if (!info[4].IsUndefined()) briefLinks_ = args::Boolean(env, info[4], "briefLinks");
    Fd fd = OpenNetlink(env, spec, NETLINK_ROUTE, SOCK_NONBLOCK, "AF_NETLINK NETLINK_ROUTE");
    Configure(env, fd.get(), info[1], receiveBuffer);
    Watch(env, std::move(fd), UV_READABLE);
    if (info[2].IsFunction()) {
      onEvent_ = Napi::Persistent(info[2].As<Napi::Function>());
      events_ = true;
    }
    UpdateRef();
    receive_.resize(kReceiveChunk);
  }

  ~NetlinkSocket() override { Shutdown(false); }

  // Called on the main thread when a pool send finished.
  void SendDone(std::vector<uint8_t>&& data, size_t sent, int err) {
    sending_ = false;
    if (err != 0) FailUnsent(data.data() + sent, data.size() - sent, err);
    if (closed_) {
      CloseFd();
    } else if (!outbox_.empty()) {
      Send(Env(), wantAsync_);
    }
    UpdateRef();
  }

 private:
  struct Pending {
    Napi::Promise::Deferred deferred;
    std::vector<uint8_t> msg;  // the request as sent: for extack offsets
    Napi::Reference<Napi::Array> results;
    uint32_t count = 0;
    uint16_t type = 0;
    bool dump = false;
    bool intr = false;                // NLM_F_DUMP_INTR seen on a message of this dump
    Napi::FunctionReference onChunk;  // a chunked dump's receiver (see the file header)
  };

  void Configure(Napi::Env env, int fd, const Napi::Value& groups, int receiveBuffer) {
    int one = 1;
    // NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK are what we rely on; CAP_ACK only saves bytes.
    if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0)
      throw SystemError(env, errno, "setsockopt", "NETLINK_EXT_ACK");
    if (setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) < 0)
      throw SystemError(env, errno, "setsockopt", "NETLINK_GET_STRICT_CHK");
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    SetReceiveBuffer(fd, receiveBuffer);
    SetSendBuffer(fd, kSendBuffer);
    portId_ = BindNetlink(env, fd);
    if (groups.IsArray()) {
      Napi::Array list = groups.As<Napi::Array>();
      for (uint32_t i = 0; i < list.Length(); i++) {
        int group = args::Int32(env, list.Get(i), "groups[" + std::to_string(i) + "]");
        if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
          int err = errno;  // before building the detail string
          throw SystemError(env, err, "setsockopt", "NETLINK_ADD_MEMBERSHIP " + std::to_string(group));
        }
      }
    }
  }

  // request(type, flags, params, onChunk?) → Promise<object[] | undefined>
  Napi::Value Request(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) throw SystemError(env, EBADF, "request", "netlink socket closed");
    REQUIRE_ARGUMENT_UINT32(0, messageType);
    REQUIRE_ARGUMENT_UINT32(1, messageFlags);
    OPTIONAL_ARGUMENT_OBJECT(2, params);
    if (!info[3].IsUndefined()) args::Function(env, info[3], "onChunk");
    auto type = static_cast<uint16_t>(messageType);
    auto flags = static_cast<uint16_t>(messageFlags);
    bool dump = (flags & NLM_F_DUMP) == NLM_F_DUMP;
    // Every non-dump request asks for an ack: that is how we know it is finished.
    flags |= NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);
    uint32_t seq = NextSeq();
    size_t start = outbox_.size();
    try {
      NlWriter w(outbox_);
      EncodeRequest(env, w, type, flags, seq, params);
    } catch (...) {
      outbox_.resize(start);
      throw;
    }
    start = (start + 3) & ~size_t{3};
    Pending p{Napi::Promise::Deferred::New(env)};
    p.msg.assign(outbox_.begin() + static_cast<std::ptrdiff_t>(start), outbox_.end());
    p.type = type;
    p.dump = dump;
    if (dump && info[3].IsFunction()) p.onChunk = Napi::Persistent(info[3].As<Napi::Function>());
    Napi::Promise promise = p.deferred.Promise();
    pending_.emplace(seq, std::move(p));
    UpdateRef();
    return promise;
  }

  // flush(async: boolean): sends the outbox (async: on the thread pool).
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    if (!closed_) Send(info.Env(), info[0].ToBoolean().Value());
    UpdateRef();
    return info.Env().Undefined();
  }

  void Send(Napi::Env env, bool async) {
    if (outbox_.empty()) return;
    if (sending_) {
      wantAsync_ = wantAsync_ || async;  // goes out after the running send, in order
      return;
    }
    wantAsync_ = false;
    std::vector<uint8_t> data;
    data.swap(outbox_);
    if (!async) {
      size_t sent = 0;
      int err = SendMessages(fd(), data.data(), data.size(), &sent);
      if (err != 0) FailUnsent(data.data() + sent, data.size() - sent, err);
      return;
    }
    sending_ = true;
    UpdateRef();  // pinned: the JS object (and so this) outlives the pool job
    auto* worker = new SendWorker(env, this, fd(), std::move(data));
    worker->Queue();
  }

  // Rejects the requests of messages that never reached the kernel.
  void FailUnsent(const uint8_t* data, size_t len, int err) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    for (const nlmsghdr* h : NlMessages(data, len)) {
      auto it = pending_.find(h->nlmsg_seq);
      if (it != pending_.end()) {
        it->second.deferred.Reject(ErrnoObject(env, err, "sendmsg"));
        pending_.erase(it);
      }
    }
  }

  // ifIndex(name) → ifindex, or 0 when there is no such link, in the socket's namespace.
  Napi::Value IfIndex(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || fd() < 0) throw SystemError(env, EBADF, "ioctl", "SIOCGIFINDEX");
    REQUIRE_ARGUMENT_STRING(0, name);
    int index = LinkIndex(fd(), name);
    if (index < 0) throw SystemError(env, -index, "ioctl", "SIOCGIFINDEX " + name);
    return Napi::Number::New(env, index);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown(true);
    return info.Env().Undefined();
  }

  // cancelUnsent(): rejects the requests still in the outbox (never handed to sendmsg, so the
  // kernel never saw them) with ECANCELED and `closed: true`. Requests already sent, or being
  // sent by a pool job, keep waiting for the kernel's answer.
  Napi::Value CancelUnsent(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::HandleScope scope(env);
    for (const nlmsghdr* h : NlMessages(outbox_.data(), outbox_.size())) {
      auto it = pending_.find(h->nlmsg_seq);
      if (it != pending_.end()) {
        it->second.deferred.Reject(Cancelled(env, it->second.type));
        pending_.erase(it);
      }
    }
    outbox_.clear();
    UpdateRef();
    return env.Undefined();
  }

  Napi::Value GetPending(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(pending_.size()));
  }
  Napi::Value GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd()); }
  Napi::Value GetPortId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), portId_); }

  uint32_t NextSeq() {
    do {
      seq_++;
    } while (seq_ == 0 || pending_.count(seq_) != 0);
    return seq_;
  }

  // Keeps the process alive while requests are outstanding or notifications are wanted, and
  // the JS object (with its promises) alive while requests are outstanding even if the caller
  // dropped every reference to it.
  void UpdateRef() {
    // A pool send holds the object too: SendWorker keeps a raw pointer.
    Pin(!pending_.empty() || sending_);
    KeepLoopAlive(events_ || !pending_.empty() || sending_);
  }

  // Closes the socket. With `js`, outstanding requests are rejected; without (finalizer, env
  // teardown) JavaScript cannot run and they are dropped.
  void Shutdown(bool js) {
    if (closed_) return;
    closed_ = true;
    // A pool send in progress still uses the fd: SendDone closes it then.
    CloseWatch(!sending_);
    outbox_.clear();
    if (js) {
      Napi::Env env = Env();
      Napi::HandleScope scope(env);
      for (auto& [seq, p] : pending_) p.deferred.Reject(Cancelled(env, p.type));
      onEvent_.Reset();
      pending_.clear();
      UpdateRef();
    }
    pending_.clear();
  }

  void OnEnvTeardown() override { Shutdown(false); }

  // One read of the socket: every reply and the batch of notifications settle and arrive in
  // one callback scope.
  void OnReadable(int status, int events) override {
    if (closed_) return;
    CallIntoJs([&](Napi::Env env) {
      if (status < 0) {
        // POLLERR: the socket has a pending error (ENOBUFS after an overrun). libuv stopped
        // the handle; start it again and let recv() report (and clear) the error.
        RestartWatch();
        ReadAll(env);
        return;
      }
      if (events & UV_READABLE) ReadAll(env);
    });
  }

  void ReadAll(Napi::Env env) {
    Napi::Array batch;
    uint32_t batchSize = 0;
    size_t bytes = 0;
    for (int reads = 0; reads < kReadsPerWakeup && bytes < kBytesPerWakeup && !closed_; reads++) {
      ssize_t n = recv(fd(), receive_.data(), receive_.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == ENOBUFS) {
          Overrun(env);
          continue;
        }
        // EINVAL: netlink_recvmsg() tried to go on with a dump that __netlink_dump_start() on our
        // send thread had just finished (it reads cb_running unlocked) and left the error in
        // sk_err. Nothing was lost.
        if (errno == EINVAL) continue;
        FailAll(errno);
        break;
      }
      bytes += static_cast<size_t>(n);
      for (const nlmsghdr* h : NlMessages(receive_.data(), static_cast<size_t>(n))) {
        if (!Settle(env, h) && events_) {
          Napi::Value v = DecodeMessage(env, h, briefLinks_);
          if (v.IsUndefined()) continue;
          if (batch.IsEmpty()) batch = Napi::Array::New(env);
          batch.Set(batchSize++, v);
        }
      }
    }
    DeliverChunks();
    if (batchSize > 0 && !onEvent_.IsEmpty()) onEvent_.Call({batch});
    UpdateRef();
  }

  // Hands each chunked dump what this wakeup read of it. The callback may make requests
  // (pending_ may rehash): each dump is looked up again after every call.
  void DeliverChunks() {
    std::vector<uint32_t> seqs;
    seqs.swap(chunked_);
    for (uint32_t seq : seqs) {
      auto it = pending_.find(seq);
      if (it == pending_.end() || it->second.results.IsEmpty()) continue;
      Napi::Array chunk = it->second.results.Value();
      Napi::Function onChunk = it->second.onChunk.Value();
      it->second.results.Reset();
      it->second.count = 0;
      onChunk.Call({chunk});
    }
  }

  // Settles pending requests; returns false for a message that is not a reply (notification).
  bool Settle(Napi::Env env, const nlmsghdr* h) {
    if (h->nlmsg_pid != portId_) return false;
    auto it = pending_.find(h->nlmsg_seq);
    if (it == pending_.end()) return false;
    Pending& p = it->second;
    if (h->nlmsg_type == NLMSG_ERROR) {
      int err = AnswerErrno(h);
      if (err < 0) return true;
      // A dump the kernel could not start for want of receive room (netlink_dump() needs a
      // 32 KiB buffer and the queue is not empty) is acked ENOBUFS, but __netlink_dump_start()
      // leaves it running: its messages and NLMSG_DONE follow under this sequence number once
      // we read. Rejecting it here would lose them (and a new dump would get EBUSY).
      if (p.dump && err == ENOBUFS) return true;
      if (err == 0) {
        if (p.results.IsEmpty()) {
          p.deferred.Resolve(env.Undefined());
        } else {
          p.deferred.Resolve(p.results.Value());
        }
      } else {
        p.deferred.Reject(Failure(env, p, h, err));
      }
      pending_.erase(it);
      return true;
    }
    if (h->nlmsg_type == NLMSG_DONE) {
      int err = AnswerErrno(h);
      if (err > 0) {
        p.deferred.Reject(Failure(env, p, h, err));
      } else {
        // NLM_F_DUMP_INTR: the dump raced with changes and may be inconsistent. Policy (run it
        // again, or fail) is TypeScript's: the array says so as `interrupted`.
        Napi::Array results = p.results.IsEmpty() ? Napi::Array::New(env) : p.results.Value();
        Napi::Promise::Deferred deferred = p.deferred;
        Napi::Function onChunk = p.onChunk.IsEmpty() ? Napi::Function() : p.onChunk.Value();
        bool intr = p.intr;
        pending_.erase(it);  // before calling out: the callback may make requests
        if (!onChunk.IsEmpty()) {
          if (results.Length() > 0) onChunk.Call({results});
          results = Napi::Array::New(env);
        }
        if (intr) results.Set("interrupted", Napi::Boolean::New(env, true));
        deferred.Resolve(results);
        return true;
      }
      pending_.erase(it);
      return true;
    }
    if (h->nlmsg_type < NLMSG_MIN_TYPE) return true;  // NOOP, OVERRUN
    if (h->nlmsg_flags & NLM_F_DUMP_INTR) p.intr = true;
    Napi::Value v = DecodeMessage(env, h, briefLinks_);
    if (!v.IsUndefined()) {
      if (p.results.IsEmpty()) {
        p.results = Napi::Persistent(Napi::Array::New(env));
        if (!p.onChunk.IsEmpty()) chunked_.push_back(h->nlmsg_seq);
      }
      p.results.Value().Set(p.count++, v);
    }
    return true;
  }

  // { errno, code, syscall, description, extack?, attribute?, missingAttribute? } from a
  // failed NLMSG_ERROR/DONE: the offsets the kernel gives are resolved against the request.
  Napi::Object Failure(Napi::Env env, const Pending& p, const nlmsghdr* h, int err) {
    ExtAck ack = ParseExtAck(h);
    Napi::Object e = NetlinkFailure(env, err, MessageTypeName(p.type), ack);
    if (ack.offset) {
      std::string name = AttributeAt(p.msg.data(), p.msg.size(), *ack.offset);
      if (!name.empty()) e.Set("attribute", name);
    }
    if (ack.missingType && *ack.missingType <= INT_MAX) {
      e.Set("missingAttribute",
            MissingAttribute(p.msg.data(), p.msg.size(), ack.missingNest, static_cast<uint16_t>(*ack.missingType)));
    }
    return e;
  }

  // The receive queue overflowed: replies may be lost (fail what is pending: the kernel may
  // or may not have done it), notifications certainly were (tell the listener to re-dump).
  void Overrun(Napi::Env env) {
    if (!pending_.empty() && !events_) FailAll(ENOBUFS);
    if (!onEvent_.IsEmpty()) {
      onEvent_.Call({env.Null(), ErrnoObject(env, ENOBUFS, "recvmsg")});
    }
  }

  void FailAll(int err) {
    Napi::Env env = Env();
    for (auto& [seq, p] : pending_) {
      p.deferred.Reject(ErrnoObject(env, err, "recvmsg"));
    }
    pending_.clear();
  }

  uint32_t portId_ = 0;
  uint32_t seq_ = 0;
  bool closed_ = false;
  bool sending_ = false;
  bool wantAsync_ = false;
  bool events_ = false;
  bool briefLinks_ = false;
  std::vector<uint8_t> outbox_;
  std::vector<uint8_t> receive_;
  std::unordered_map<uint32_t, Pending> pending_;
  std::vector<uint32_t> chunked_;  // chunked dumps with messages read in this wakeup
  Napi::FunctionReference onEvent_;
};

void SendWorker::OnOK() {
  socket_->SendDone(std::move(data_), sent_, err_);
}

}  // namespace

void InitNetlink(Napi::Env env, Napi::Object exports, Addon&) {
  Napi::Function ctor = NetlinkSocket::Define(env);
  exports.Set("NetlinkSocket", ctor);
}

}  // namespace vmplumb
