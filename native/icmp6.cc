// A raw ICMPv6 socket for the router advertisement sender: one per network namespace, serving
// every interface in it (RFC 4861 §6.2; ipv6(7), icmp6(7) "ICMP6_FILTER", RFC 3542 §6 and §20
// for IPV6_PKTINFO / IPV6_RECVPKTINFO / IPV6_RECVHOPLIMIT).
//
// Thin by design: the socket options every RA sender needs, sendmsg with IPV6_PKTINFO (so one
// socket sends from any interface's link-local address), multicast membership, and recvmsg on
// uv_poll readiness handing each datagram to JavaScript with its ifindex, addresses and hop
// limit. Packet building, RS validation, timers and policy live in lib/ra/.
//
//   const s = new native.Icmp6Socket(netns, onPacket, onError);
//   s.send(ifindex, source16, destination16, icmpBytes)  -> 0 or a positive errno
//   s.sendFrame(ifindex, mac6, ipv6Packet)              -> 0 or a positive errno
//
// sendFrame goes through a send-only AF_PACKET socket (packet(7), SOCK_DGRAM, protocol 0 so it
// receives nothing) opened in the same namespace: a complete IPv6 packet handed to the device
// without a route lookup. With hundreds of bridges the kernel's multicast route lookup for
// ff02::1 with an oif walks every interface's ff00::/8 route (fib6 __find_rr_leaf) on each
// sendmsg; the periodic multicast RAs skip it this way.
//   s.join(ifindex, group16) / s.leave(ifindex, group16) -> 0 or a positive errno
//   s.close()
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "addon.h"
#include "errors.h"
#include "netns.h"

namespace vmplumb {
namespace {

// Datagrams handled per readiness callback before yielding to the event loop: a flood of
// solicitations must not starve timers (libuv's poll is level-triggered; the rest comes next
// turn).
constexpr int kMaxPacketsPerWakeup = 64;
// Largest datagram we read; an RS is a few dozen bytes, anything longer is reported truncated.
constexpr size_t kReceiveBuffer = 2048;

// The msghdr of one datagram for sendmsg/recvmsg: one buffer, the peer's address, and the
// ancillary data (IPV6_PKTINFO and friends) in `control`.
template <size_t N>
msghdr DatagramMsghdr(sockaddr_in6* peer, iovec* iov, char (&control)[N]) {
  msghdr msg{};
  msg.msg_name = peer;
  msg.msg_namelen = sizeof(*peer);
  msg.msg_iov = iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = N;
  return msg;
}

class Icmp6Socket : public Napi::ObjectWrap<Icmp6Socket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Icmp6Socket",
                       {
                           InstanceMethod<&Icmp6Socket::Send>("send"),
                           InstanceMethod<&Icmp6Socket::SendFrame>("sendFrame"),
                           InstanceMethod<&Icmp6Socket::Join>("join"),
                           InstanceMethod<&Icmp6Socket::Leave>("leave"),
                           InstanceMethod<&Icmp6Socket::RefHandle>("ref"),
                           InstanceMethod<&Icmp6Socket::UnrefHandle>("unref"),
                           InstanceMethod<&Icmp6Socket::Close>("close"),
                       });
  }

  explicit Icmp6Socket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Icmp6Socket>(info) {
    Napi::Env env = info.Env();
    NetnsSpec spec = NetnsSpecFromValue(info[0]);
    if (!info[1].IsFunction() || !info[2].IsFunction()) {
      throw Napi::TypeError::New(env, "Icmp6Socket(netns, onPacket, onError)");
    }
    buffer_.resize(kReceiveBuffer);
    {
      // The socket belongs to the namespace it is created in, whatever thread uses it later.
      NetnsScope scope(env, spec);
      fd_ = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMPV6);
      if (fd_ < 0) throw SystemError(env, errno, "socket", "AF_INET6 SOCK_RAW IPPROTO_ICMPV6");
      packet_fd_ = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (packet_fd_ < 0) {
        int err = errno;
        ::close(fd_);
        fd_ = -1;
        throw SystemError(env, err, "socket", "AF_PACKET SOCK_DGRAM");
      }
    }
    try {
      Configure(env);
    } catch (...) {
      ::close(fd_);
      ::close(packet_fd_);
      fd_ = packet_fd_ = -1;
      throw;
    }
    on_packet_ = Napi::Persistent(info[1].As<Napi::Function>());
    on_error_ = Napi::Persistent(info[2].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "vmplumb:Icmp6Socket");
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc == 0) {
      poll_->data = this;
      rc = uv_poll_start(poll_, UV_READABLE, OnReadable);
    }
    if (rc != 0) {
      ::close(fd_);
      ::close(packet_fd_);
      fd_ = packet_fd_ = -1;
      delete poll_;
      poll_ = nullptr;
      throw SystemError(env, -rc, "uv_poll_start");
    }
    // JS keeps this object alive while open (our own reference), so callbacks always have a
    // target; close() drops it.
    Ref();
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
    hooked_ = true;
  }

  ~Icmp6Socket() override {
    Shutdown();
    Unhook();
  }

 private:
  void Configure(Napi::Env env) {
    // RFC 4861 §6.1.2/§6.1.1: receivers drop ND messages whose hop limit is not 255, which
    // proves they were not forwarded.
    int hops = 255;
    SetOption(env, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops), "IPV6_MULTICAST_HOPS");
    SetOption(env, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops), "IPV6_UNICAST_HOPS");
    int off = 0;
    SetOption(env, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off), "IPV6_MULTICAST_LOOP");
    int on = 1;
    SetOption(env, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on), "IPV6_RECVPKTINFO");
    SetOption(env, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on), "IPV6_RECVHOPLIMIT");
    // Only router solicitations reach user space; the kernel drops every other type for us.
    struct icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &filter);
    SetOption(env, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter), "ICMP6_FILTER");
  }

  void SetOption(Napi::Env env, int level, int name, const void* value, socklen_t size, const char* what) {
    if (setsockopt(fd_, level, name, value, size) < 0) throw SystemError(env, errno, "setsockopt", what);
  }

  static bool In6Addr(const Napi::Value& value, in6_addr* out) {
    if (!value.IsBuffer()) return false;
    auto buf = value.As<Napi::Buffer<uint8_t>>();
    if (buf.Length() != 16) return false;
    std::memcpy(out->s6_addr, buf.Data(), 16);
    return true;
  }

  // send(ifindex, source, destination, data) -> 0 or errno. Errors are returned, not thrown:
  // a failed send is a counted event on a hot path, not an exception.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    in6_addr source, destination;
    if (fd_ < 0) return Napi::Number::New(env, EBADF);
    if (!info[0].IsNumber() || !In6Addr(info[1], &source) || !In6Addr(info[2], &destination) || !info[3].IsBuffer()) {
      throw Napi::TypeError::New(env, "send(ifindex, source16, destination16, data)");
    }
    auto data = info[3].As<Napi::Buffer<uint8_t>>();
    unsigned ifindex = info[0].As<Napi::Number>().Uint32Value();

    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_addr = destination;
    to.sin6_scope_id = ifindex;  // link-local and link-scope multicast need the interface
    iovec iov{data.Data(), data.Length()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    msghdr msg = DatagramMsghdr(&to, &iov, control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = IPPROTO_IPV6;
    cmsg->cmsg_type = IPV6_PKTINFO;
    cmsg->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo pktinfo{};
    pktinfo.ipi6_addr = source;
    pktinfo.ipi6_ifindex = ifindex;
    std::memcpy(CMSG_DATA(cmsg), &pktinfo, sizeof(pktinfo));
    ssize_t n = sendmsg(fd_, &msg, MSG_DONTWAIT);
    return Napi::Number::New(env, n < 0 ? errno : 0);
  }

  // sendFrame(ifindex, mac, packet) -> 0 or errno: `packet` is a whole IPv6 packet (header,
  // checksummed ICMPv6), sent to link-layer address `mac` on `ifindex`.
  Napi::Value SendFrame(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (packet_fd_ < 0) return Napi::Number::New(env, EBADF);
    if (!info[0].IsNumber() || !info[1].IsBuffer() || !info[2].IsBuffer()) {
      throw Napi::TypeError::New(env, "sendFrame(ifindex, mac6, packet)");
    }
    auto mac = info[1].As<Napi::Buffer<uint8_t>>();
    auto packet = info[2].As<Napi::Buffer<uint8_t>>();
    if (mac.Length() != 6) throw Napi::TypeError::New(env, "sendFrame: mac must be 6 bytes");
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_IPV6);
    to.sll_ifindex = info[0].As<Napi::Number>().Int32Value();
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, mac.Data(), 6);
    ssize_t n =
        sendto(packet_fd_, packet.Data(), packet.Length(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    return Napi::Number::New(env, n < 0 ? errno : 0);
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, int option) {
    Napi::Env env = info.Env();
    ipv6_mreq mreq{};
    if (fd_ < 0) return Napi::Number::New(env, EBADF);
    if (!info[0].IsNumber() || !In6Addr(info[1], &mreq.ipv6mr_multiaddr)) {
      throw Napi::TypeError::New(env, "join/leave(ifindex, group16)");
    }
    mreq.ipv6mr_interface = info[0].As<Napi::Number>().Uint32Value();
    int rc = setsockopt(fd_, IPPROTO_IPV6, option, &mreq, sizeof(mreq));
    return Napi::Number::New(env, rc < 0 ? errno : 0);
  }

  Napi::Value Join(const Napi::CallbackInfo& info) { return Membership(info, IPV6_ADD_MEMBERSHIP); }
  Napi::Value Leave(const Napi::CallbackInfo& info) { return Membership(info, IPV6_DROP_MEMBERSHIP); }

  // Whether an open socket keeps the event loop alive (like net.Server ref/unref).
  Napi::Value RefHandle(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }
  Napi::Value UnrefHandle(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool was_open = fd_ >= 0;
    Shutdown();
    if (was_open) {
      on_packet_.Reset();
      on_error_.Reset();
      context_.reset();
      Unref();  // the ObjectWrap reference taken at construction
    }
    return info.Env().Undefined();
  }

  // Idempotent: stops polling (the handle is freed in its close callback) and closes the fd.
  void Shutdown() {
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_),
               [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (packet_fd_ >= 0) {
      ::close(packet_fd_);
      packet_fd_ = -1;
    }
  }

  // The environment is going away (worker exit, process exit) with the socket still open.
  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<Icmp6Socket*>(arg);
    self->hooked_ = false;
    self->Shutdown();
  }

  void Unhook() {
    if (!hooked_) return;
    hooked_ = false;
    napi_remove_env_cleanup_hook(Env(), OnEnvCleanup, this);
  }

  static void OnReadable(uv_poll_t* handle, int status, int) {
    auto* self = static_cast<Icmp6Socket*>(handle->data);
    if (self == nullptr) return;
    self->Drain(status);
  }

  void Drain(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      Report(env, SystemError(env, -status, "uv_poll").Value());
      return;
    }
    for (int i = 0; i < kMaxPacketsPerWakeup && fd_ >= 0; ++i) {
      sockaddr_in6 from{};
      iovec iov{buffer_.data(), buffer_.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
      msghdr msg = DatagramMsghdr(&from, &iov, control);
      ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        Report(env, SystemError(env, errno, "recvmsg").Value());
        return;
      }
      int ifindex = 0;
      int hop_limit = -1;
      in6_addr destination{};
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != IPPROTO_IPV6) continue;
        if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
          in6_pktinfo pi;
          std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
          ifindex = static_cast<int>(pi.ipi6_ifindex);
          destination = pi.ipi6_addr;
        } else if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
          std::memcpy(&hop_limit, CMSG_DATA(c), sizeof(int));
        }
      }
      bool truncated = (msg.msg_flags & MSG_TRUNC) != 0;
      size_t length = static_cast<size_t>(n) < buffer_.size() ? static_cast<size_t>(n) : buffer_.size();
      napi_value args[] = {
          Napi::Number::New(env, ifindex),
          Napi::Buffer<uint8_t>::Copy(env, from.sin6_addr.s6_addr, 16),
          Napi::Buffer<uint8_t>::Copy(env, destination.s6_addr, 16),
          Napi::Number::New(env, hop_limit),
          Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), length),
          Napi::Boolean::New(env, truncated),
      };
      Call(env, on_packet_, args, 6);
    }
  }

  void Report(Napi::Env env, napi_value error) {
    napi_value args[] = {error};
    Call(env, on_error_, args, 1);
  }

  // MakeCallback runs the microtask queue and async hooks like any libuv-driven callback; an
  // exception thrown by JS becomes an uncaught exception, as it would from an EventEmitter.
  void Call(Napi::Env env, Napi::FunctionReference& fn, napi_value* args, size_t argc) {
    if (fn.IsEmpty() || !context_) return;
    try {
      fn.MakeCallback(Value(), argc, args, *context_);
    } catch (const Napi::Error& error) {
      napi_fatal_exception(env, error.Value());
    }
  }

  int fd_ = -1;
  int packet_fd_ = -1;
  bool hooked_ = false;
  uv_poll_t* poll_ = nullptr;
  std::vector<uint8_t> buffer_;
  Napi::FunctionReference on_packet_;
  Napi::FunctionReference on_error_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

}  // namespace

void InitIcmp6(Napi::Env env, Napi::Object exports, Addon&) {
  Napi::Function cls = Icmp6Socket::Define(env);
  exports.Set("Icmp6Socket", cls);
}

}  // namespace vmplumb
