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
// - Notifications (multicast groups given at open) go to the onEvent callback in batches;
//   a receive-queue overrun (ENOBUFS) is reported to it as well, so the caller can re-dump.
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "netns.h"
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
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    iovec iov{const_cast<uint8_t*>(data + off), end - off};
    msghdr msg{};
    msg.msg_name = &kernel;
    msg.msg_namelen = sizeof(kernel);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n;
    do {
      n = sendmsg(fd, &msg, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      *sent = off;
      return errno;
    }
    off = end;
  }
  *sent = off;
  return 0;
}

// The plain object a failed request is rejected with; TypeScript turns it into a
// NetlinkError with the caller's stack. `description` is strerror's text ("File exists").
Napi::Object ErrorObject(Napi::Env env, int err, const std::string& syscall) {
  Napi::Object e = Napi::Object::New(env);
  e.Set("errno", -err);
  e.Set("code", ErrnoName(err));
  e.Set("syscall", syscall);
  e.Set("description", std::strerror(err));
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

class NetlinkSocket : public Napi::ObjectWrap<NetlinkSocket> {
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
  //                   receiveBuffer?: number)
  explicit NetlinkSocket(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<NetlinkSocket>(info), async_(info.Env(), "vmplumb:netlink") {
    Napi::Env env = info.Env();
    NetnsSpec spec = NetnsSpecFromValue(info[0]);
    if (!info[1].IsUndefined()) args::Array(env, info[1], "groups");
    if (!info[2].IsUndefined() && !info[2].IsNull()) args::Function(env, info[2], "onEvent");
    OPTIONAL_ARGUMENT_INT32(3, receiveBuffer, kReceiveBuffer);
    {
      NetnsScope scope(env, spec);
      fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
      if (fd_ < 0) throw SystemError(env, errno, "socket", "AF_NETLINK NETLINK_ROUTE");
    }
    try {
      Configure(env, info[1], receiveBuffer);
    } catch (...) {
      ::close(fd_);
      fd_ = -1;
      throw;
    }
    if (info[2].IsFunction()) {
      onEvent_ = Napi::Persistent(info[2].As<Napi::Function>());
      events_ = true;
    }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    uv_poll_init(loop, poll_, fd_);
    poll_->data = this;
    uv_poll_start(poll_, UV_READABLE, &NetlinkSocket::OnPoll);
    UpdateRef();
    napi_add_env_cleanup_hook(env, &NetlinkSocket::OnEnvCleanup, this);
    receive_.resize(kReceiveChunk);
  }

  ~NetlinkSocket() override { Shutdown(false); }

  // Called on the main thread when a pool send finished.
  void SendDone(std::vector<uint8_t>&& data, size_t sent, int err) {
    sending_ = false;
    if (err != 0) FailUnsent(data.data() + sent, data.size() - sent, err);
    if (closed_) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
    } else if (!outbox_.empty()) {
      Send(Env(), wantAsync_);
    }
    UpdateRef();
    Unref();
  }

 private:
  struct Pending {
    Napi::Promise::Deferred deferred;
    std::vector<uint8_t> msg;  // the request as sent: for extack offsets
    Napi::Reference<Napi::Array> results;
    uint32_t count = 0;
    uint16_t type = 0;
    bool dump = false;
    bool intr = false;  // NLM_F_DUMP_INTR seen on a message of this dump
  };

  void Configure(Napi::Env env, const Napi::Value& groups, int receiveBuffer) {
    int one = 1;
    // NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK are what we rely on; CAP_ACK only saves bytes.
    if (setsockopt(fd_, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0)
      throw SystemError(env, errno, "setsockopt", "NETLINK_EXT_ACK");
    if (setsockopt(fd_, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) < 0)
      throw SystemError(env, errno, "setsockopt", "NETLINK_GET_STRICT_CHK");
    setsockopt(fd_, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    // The *FORCE variants pass rmem_max/wmem_max with CAP_NET_ADMIN; fall back without it.
    int rcv = receiveBuffer, snd = kSendBuffer;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
      setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0)
      throw SystemError(env, errno, "bind", "AF_NETLINK");
    socklen_t len = sizeof(local);
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len) < 0) throw SystemError(env, errno, "getsockname");
    portId_ = local.nl_pid;
    if (groups.IsArray()) {
      Napi::Array list = groups.As<Napi::Array>();
      for (uint32_t i = 0; i < list.Length(); i++) {
        int group = args::Int32(env, list.Get(i), "groups[" + std::to_string(i) + "]");
        if (setsockopt(fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
          throw SystemError(env, errno, "setsockopt", "NETLINK_ADD_MEMBERSHIP " + std::to_string(group));
        }
      }
    }
  }

  // request(type, flags, params) → Promise<object[] | undefined>
  Napi::Value Request(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) throw SystemError(env, EBADF, "request", "netlink socket closed");
    REQUIRE_ARGUMENT_UINT32(0, messageType);
    REQUIRE_ARGUMENT_UINT32(1, messageFlags);
    OPTIONAL_ARGUMENT_OBJECT(2, params);
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
      int err = SendMessages(fd_, data.data(), data.size(), &sent);
      if (err != 0) FailUnsent(data.data() + sent, data.size() - sent, err);
      return;
    }
    sending_ = true;
    Ref();  // the JS object (and so this) outlives the pool job
    auto* worker = new SendWorker(env, this, fd_, std::move(data));
    worker->Queue();
  }

  // Rejects the requests of messages that never reached the kernel.
  void FailUnsent(const uint8_t* data, size_t len, int err) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    size_t off = 0;
    while (off + NLMSG_HDRLEN <= len) {
      auto* h = reinterpret_cast<const nlmsghdr*>(data + off);
      auto it = pending_.find(h->nlmsg_seq);
      if (it != pending_.end()) {
        it->second.deferred.Reject(ErrorObject(env, err, "sendmsg"));
        pending_.erase(it);
      }
      if (h->nlmsg_len < NLMSG_HDRLEN) break;
      off += NLMSG_ALIGN(h->nlmsg_len);
    }
  }

  // ifIndex(name) → ifindex, or 0 when there is no such link. SIOCGIFINDEX on this socket
  // resolves in the socket's namespace without taking the rtnl lock (dev_ioctl).
  Napi::Value IfIndex(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || fd_ < 0) throw SystemError(env, EBADF, "ioctl", "SIOCGIFINDEX");
    REQUIRE_ARGUMENT_STRING(0, name);
    ifreq req{};
    if (name.size() >= IFNAMSIZ) return Napi::Number::New(env, 0);
    std::memcpy(req.ifr_name, name.c_str(), name.size());
    if (ioctl(fd_, SIOCGIFINDEX, &req) < 0) {
      if (errno == ENODEV) return Napi::Number::New(env, 0);
      throw SystemError(env, errno, "ioctl", "SIOCGIFINDEX " + name);
    }
    return Napi::Number::New(env, req.ifr_ifindex);
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
    size_t off = 0;
    while (off + NLMSG_HDRLEN <= outbox_.size()) {
      auto* h = reinterpret_cast<const nlmsghdr*>(outbox_.data() + off);
      auto it = pending_.find(h->nlmsg_seq);
      if (it != pending_.end()) {
        Napi::Object e = ErrorObject(env, ECANCELED, MessageTypeName(it->second.type));
        e.Set("closed", true);
        it->second.deferred.Reject(e);
        pending_.erase(it);
      }
      if (h->nlmsg_len < NLMSG_HDRLEN) break;
      off += NLMSG_ALIGN(h->nlmsg_len);
    }
    outbox_.clear();
    UpdateRef();
    return env.Undefined();
  }

  Napi::Value GetPending(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(pending_.size()));
  }
  Napi::Value GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }
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
    bool busy = !pending_.empty();
    if (busy && !pinned_) {
      Ref();
      pinned_ = true;
    } else if (!busy && pinned_) {
      pinned_ = false;
      Unref();
    }
    if (poll_ == nullptr) return;
    if (events_ || !pending_.empty() || sending_) {
      uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    }
  }

  // Closes the socket. With `js`, outstanding requests are rejected; without (finalizer, env
  // teardown) JavaScript cannot run and they are dropped.
  void Shutdown(bool js) {
    if (closed_) return;
    closed_ = true;
    napi_remove_env_cleanup_hook(Env(), &NetlinkSocket::OnEnvCleanup, this);
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    // A pool send in progress still uses the fd: SendDone closes it then.
    if (!sending_ && fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    outbox_.clear();
    if (js) {
      Napi::Env env = Env();
      Napi::HandleScope scope(env);
      for (auto& [seq, p] : pending_) {
        Napi::Object e = ErrorObject(env, ECANCELED, MessageTypeName(p.type));
        e.Set("closed", true);
        p.deferred.Reject(e);
      }
      onEvent_.Reset();
      pending_.clear();
      UpdateRef();
    }
    pending_.clear();
  }

  static void OnEnvCleanup(void* arg) { static_cast<NetlinkSocket*>(arg)->Shutdown(false); }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<NetlinkSocket*>(handle->data);
    if (self == nullptr || self->closed_) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // A callback scope: promise reactions (microtasks) run when it closes, as after any I/O.
    Napi::CallbackScope callbackScope(env, self->async_);
    try {
      if (status < 0) {
        // POLLERR: the socket has a pending error (ENOBUFS after an overrun). libuv stopped
        // the handle; start it again and let recv() report (and clear) the error.
        uv_poll_start(handle, UV_READABLE, &NetlinkSocket::OnPoll);
        self->ReadAll(env);
        return;
      }
      if (events & UV_READABLE) self->ReadAll(env);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  void ReadAll(Napi::Env env) {
    Napi::Array batch;
    uint32_t batchSize = 0;
    size_t bytes = 0;
    for (int reads = 0; reads < kReadsPerWakeup && bytes < kBytesPerWakeup && !closed_; reads++) {
      ssize_t n = recv(fd_, receive_.data(), receive_.size(), MSG_DONTWAIT);
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
      auto* h = reinterpret_cast<nlmsghdr*>(receive_.data());
      auto left = static_cast<unsigned int>(n);
      for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        if (!Dispatch(env, h) && events_) {
          Napi::Value v = DecodeMessage(env, h);
          if (v.IsUndefined()) continue;
          if (batch.IsEmpty()) batch = Napi::Array::New(env);
          batch.Set(batchSize++, v);
        }
      }
    }
    if (batchSize > 0 && !onEvent_.IsEmpty()) onEvent_.Call({batch});
    UpdateRef();
  }

  // Settles pending requests; returns false for a message that is not a reply (notification).
  bool Dispatch(Napi::Env env, const nlmsghdr* h) {
    if (h->nlmsg_pid != portId_) return false;
    auto it = pending_.find(h->nlmsg_seq);
    if (it == pending_.end()) return false;
    Pending& p = it->second;
    if (h->nlmsg_type == NLMSG_ERROR) {
      auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(int))) return true;
      // A dump the kernel could not start for want of receive room (netlink_dump() needs a
      // 32 KiB buffer and the queue is not empty) is acked ENOBUFS, but __netlink_dump_start()
      // leaves it running: its messages and NLMSG_DONE follow under this sequence number once
      // we read. Rejecting it here would lose them (and a new dump would get EBUSY).
      if (p.dump && e->error == -ENOBUFS) return true;
      if (e->error == 0) {
        if (p.results.IsEmpty()) {
          p.deferred.Resolve(env.Undefined());
        } else {
          p.deferred.Resolve(p.results.Value());
        }
      } else {
        size_t skip = sizeof(nlmsgerr);
        if (!(h->nlmsg_flags & NLM_F_CAPPED))
          skip += e->msg.nlmsg_len > NLMSG_HDRLEN ? NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN) : 0;
        p.deferred.Reject(ErrorDetails(env, p, h, -e->error, skip));
      }
      pending_.erase(it);
      return true;
    }
    if (h->nlmsg_type == NLMSG_DONE) {
      int err = 0;
      if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) std::memcpy(&err, NLMSG_DATA(h), sizeof(int));
      if (err < 0) {
        p.deferred.Reject(ErrorDetails(env, p, h, -err, sizeof(int)));
      } else {
        // NLM_F_DUMP_INTR: the dump raced with changes and may be inconsistent. Policy (run it
        // again, or fail) is TypeScript's: the array says so as `interrupted`.
        Napi::Array results = p.results.IsEmpty() ? Napi::Array::New(env) : p.results.Value();
        if (p.intr) results.Set("interrupted", Napi::Boolean::New(env, true));
        p.deferred.Resolve(results);
      }
      pending_.erase(it);
      return true;
    }
    if (h->nlmsg_type < NLMSG_MIN_TYPE) return true;  // NOOP, OVERRUN
    if (h->nlmsg_flags & NLM_F_DUMP_INTR) p.intr = true;
    Napi::Value v = DecodeMessage(env, h);
    if (!v.IsUndefined()) {
      if (p.results.IsEmpty()) p.results = Napi::Persistent(Napi::Array::New(env));
      p.results.Value().Set(p.count++, v);
    }
    return true;
  }

  // { errno, code, syscall, extack?, attribute?, missingAttribute? } from NLMSG_ERROR/DONE;
  // `tlvOffset` is where the NLMSGERR_ATTR_* attributes start in the payload.
  Napi::Object ErrorDetails(Napi::Env env, const Pending& p, const nlmsghdr* h, int err, size_t tlvOffset) {
    Napi::Object e = ErrorObject(env, err, MessageTypeName(p.type));
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return e;
    size_t payload = h->nlmsg_len - NLMSG_HDRLEN;
    if (tlvOffset >= payload) return e;
    const uint8_t* tlv = static_cast<const uint8_t*>(NLMSG_DATA(h)) + tlvOffset;
    uint32_t missNest = 0;
    int missType = -1;
    for (const nlattr* a : NlAttrs(tlv, payload - tlvOffset)) {
      switch (AttrType(a)) {
        case NLMSGERR_ATTR_MSG:
          e.Set("extack", DecodeValue(env, Wire::Str, AttrData(a), AttrLen(a)));
          break;
        case NLMSGERR_ATTR_OFFS:
          if (AttrLen(a) >= 4) {
            uint32_t off;
            std::memcpy(&off, AttrData(a), 4);
            std::string name = AttributeAt(p.msg.data(), p.msg.size(), off);
            if (!name.empty()) e.Set("attribute", name);
          }
          break;
        case NLMSGERR_ATTR_MISS_TYPE:
          if (AttrLen(a) >= 4) {
            uint32_t t;
            std::memcpy(&t, AttrData(a), 4);
            missType = static_cast<int>(t);
          }
          break;
        case NLMSGERR_ATTR_MISS_NEST:
          if (AttrLen(a) >= 4) std::memcpy(&missNest, AttrData(a), 4);
          break;
        default:
          break;
      }
    }
    if (missType >= 0) {
      e.Set("missingAttribute",
            MissingAttribute(p.msg.data(), p.msg.size(), missNest, static_cast<uint16_t>(missType)));
    }
    return e;
  }

  // The receive queue overflowed: replies may be lost (fail what is pending: the kernel may
  // or may not have done it), notifications certainly were (tell the listener to re-dump).
  void Overrun(Napi::Env env) {
    if (!pending_.empty() && !events_) FailAll(ENOBUFS);
    if (!onEvent_.IsEmpty()) {
      onEvent_.Call({env.Null(), ErrorObject(env, ENOBUFS, "recvmsg")});
    }
  }

  void FailAll(int err) {
    Napi::Env env = Env();
    for (auto& [seq, p] : pending_) {
      p.deferred.Reject(ErrorObject(env, err, "recvmsg"));
    }
    pending_.clear();
  }

  int fd_ = -1;
  uint32_t portId_ = 0;
  uint32_t seq_ = 0;
  uv_poll_t* poll_ = nullptr;
  bool closed_ = false;
  bool sending_ = false;
  bool wantAsync_ = false;
  bool events_ = false;
  bool pinned_ = false;  // Ref() held for outstanding requests
  std::vector<uint8_t> outbox_;
  std::vector<uint8_t> receive_;
  std::unordered_map<uint32_t, Pending> pending_;
  Napi::FunctionReference onEvent_;
  Napi::AsyncContext async_;
};

void SendWorker::OnOK() {
  socket_->SendDone(std::move(data_), sent_, err_);
}

// rtnlEncode(type, flags, seq, params) → Buffer: one request as the socket would send it.
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
  auto* h = reinterpret_cast<nlmsghdr*>(buf.Data());
  auto left = static_cast<unsigned int>(buf.Length());
  uint32_t i = 0;
  for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) out.Set(i++, DecodeMessage(env, h));
  return out;
}

// rtnlAttributeAt(buffer, offset) → the C name path of the attribute at that offset.
Napi::Value RtnlAttributeAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_BUFFER(0, buf);
  REQUIRE_ARGUMENT_UINT32(1, offset);
  return Napi::String::New(env, AttributeAt(buf.Data(), buf.Length(), offset));
}

}  // namespace

void InitNetlink(Napi::Env env, Napi::Object exports, Addon&) {
  Napi::Function ctor = NetlinkSocket::Define(env);
  exports.Set("NetlinkSocket", ctor);
  exports.Set("rtnlEncode", Napi::Function::New(env, RtnlEncode));
  exports.Set("rtnlDecode", Napi::Function::New(env, RtnlDecode));
  exports.Set("rtnlAttributeAt", Napi::Function::New(env, RtnlAttributeAt));
}

}  // namespace vmplumb
