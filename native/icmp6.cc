// A raw ICMPv6 socket for the router advertisement sender: one per network namespace, serving
// every interface in it (RFC 4861 §6.2; ipv6(7), icmp6(7) "ICMP6_FILTER", RFC 3542 §6 and §20
// for IPV6_PKTINFO / IPV6_RECVPKTINFO / IPV6_RECVHOPLIMIT).
//
// Thin by design: the socket options every RA sender needs, sendmsg with IPV6_PKTINFO (so one
// socket sends from any interface's link-local address), and recvmsg on uv_poll readiness
// handing each datagram to JavaScript with its ifindex, addresses and hop limit. Packet
// building, RS validation, timers and policy live in lib/ra/. It joins no multicast group:
// the ff02::2 memberships are held by membership-only sockets (ipv6_membership.cc), since each
// membership would be charged to this socket's option memory, which its sendmsg with
// IPV6_PKTINFO needs.
//
//   const s = new native.Icmp6Socket(netns, onPacket, onError);
//   s.send(ifindex, source16, destination16, icmpBytes)  -> 0 or a positive errno
//   s.sendFrames(indexes, packets, count, mac6, errnos) -> how many failed
//
// sendFrames goes through a send-only AF_PACKET socket (packet(7), SOCK_DGRAM, protocol 0 so it
// receives nothing) opened in the same namespace: a complete IPv6 packet handed to the device
// without a route lookup. With hundreds of bridges the kernel's multicast route lookup for
// ff02::1 with an oif walks every interface's ff00::/8 route (fib6 __find_rr_leaf) on each
// sendmsg; the periodic multicast RAs skip it this way. It sends every RA of one timer tick
// in one call (sendmmsg, kMaxFramesPerCall at a time): one N-API crossing and a few system
// calls per tick instead of one each per RA.
//
//   s.close()
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "addon.h"
#include "errors.h"
#include "netns.h"
#include "poll_socket.h"

namespace vmplumb {
namespace {

// Datagrams handled per readiness callback before yielding to the event loop: a flood of
// solicitations must not starve timers (libuv's poll is level-triggered; the rest comes next
// turn).
constexpr int kMaxPacketsPerWakeup = 64;
// Largest datagram we read; an RS is a few dozen bytes, anything longer is reported truncated.
constexpr size_t kReceiveBuffer = 2048;
// Frames per sendmmsg (its own limit is UIO_MAXIOV, 1024).
constexpr size_t kMaxFramesPerCall = 256;

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

class Icmp6Socket : public PollSocket<Icmp6Socket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Icmp6Socket",
                       {
                           InstanceMethod<&Icmp6Socket::Send>("send"),
                           InstanceMethod<&Icmp6Socket::SendFrames>("sendFrames"),
                           RefMethod(),
                           UnrefMethod(),
                           InstanceMethod<&Icmp6Socket::Close>("close"),
                       });
  }

  explicit Icmp6Socket(const Napi::CallbackInfo& info) : PollSocket(info, "vmplumb:Icmp6Socket") {
    Napi::Env env = info.Env();
    NetnsSpec spec = NetnsSpecFromValue(info[0]);
    if (!info[1].IsFunction() || !info[2].IsFunction()) {
      throw Napi::TypeError::New(env, "Icmp6Socket(netns, onPacket, onError)");
    }
    buffer_.resize(kReceiveBuffer);
    Fd fd;
    {
      // The socket belongs to the namespace it is created in, whatever thread uses it later.
      NetnsScope scope(env, spec);
      fd.Reset(socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMPV6));
      if (!fd.valid()) throw SystemError(env, errno, "socket", "AF_INET6 SOCK_RAW IPPROTO_ICMPV6");
      packet_fd_.Reset(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      if (!packet_fd_.valid()) throw SystemError(env, errno, "socket", "AF_PACKET SOCK_DGRAM");
    }
    Configure(env, fd.get());
    Watch(env, std::move(fd), UV_READABLE);
    on_packet_ = Napi::Persistent(info[1].As<Napi::Function>());
    on_error_ = Napi::Persistent(info[2].As<Napi::Function>());
    // JS keeps this object alive while open, so callbacks always have a target; close()
    // lets it go.
    Pin(true);
  }

 private:
  void Configure(Napi::Env env, int fd) {
    // RFC 4861 §6.1.2/§6.1.1: receivers drop ND messages whose hop limit is not 255, which
    // proves they were not forwarded.
    int hops = 255;
    SetOption(env, fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops), "IPV6_MULTICAST_HOPS");
    SetOption(env, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops), "IPV6_UNICAST_HOPS");
    int off = 0;
    SetOption(env, fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off), "IPV6_MULTICAST_LOOP");
    int on = 1;
    SetOption(env, fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on), "IPV6_RECVPKTINFO");
    SetOption(env, fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on), "IPV6_RECVHOPLIMIT");
    // Only router solicitations reach user space; the kernel drops every other type for us.
    struct icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &filter);
    SetOption(env, fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter), "ICMP6_FILTER");
  }

  static void SetOption(Napi::Env env, int fd, int level, int name, const void* value, socklen_t size,
                        const char* what) {
    if (setsockopt(fd, level, name, value, size) < 0) throw SystemError(env, errno, "setsockopt", what);
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
    if (fd() < 0) return Napi::Number::New(env, EBADF);
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
    ssize_t n = sendmsg(fd(), &msg, MSG_DONTWAIT);
    return Napi::Number::New(env, n < 0 ? errno : 0);
  }

  // sendFrames(indexes: Int32Array, packets: Buffer[], count, mac, errnos: Int32Array) -> failures.
  // packets[i] is a whole IPv6 packet (header, checksummed ICMPv6) for link-layer address
  // `mac` on interface indexes[i]; errnos[i] is set to 0 or its errno. Errors are returned,
  // not thrown, as by send().
  Napi::Value SendFrames(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() || !info[1].IsArray() || !info[2].IsNumber() || !info[3].IsBuffer() ||
        !info[4].IsTypedArray()) {
      throw Napi::TypeError::New(env, "sendFrames(indexes, packets, count, mac6, errnos)");
    }
    auto indexes = info[0].As<Napi::TypedArray>();
    auto errnos = info[4].As<Napi::TypedArray>();
    auto packets = info[1].As<Napi::Array>();
    auto mac = info[3].As<Napi::Buffer<uint8_t>>();
    size_t count = info[2].As<Napi::Number>().Uint32Value();
    if (indexes.TypedArrayType() != napi_int32_array || errnos.TypedArrayType() != napi_int32_array ||
        count > indexes.ElementLength() || count > errnos.ElementLength() || count > packets.Length()) {
      throw Napi::TypeError::New(env, "sendFrames: indexes and errnos are Int32Arrays of at least count");
    }
    if (mac.Length() != 6) throw Napi::TypeError::New(env, "sendFrames: mac must be 6 bytes");
    auto* index = indexes.As<Napi::Int32Array>().Data();
    auto* result = errnos.As<Napi::Int32Array>().Data();
    // Checked before anything is sent: a TypeError must not leave half a batch sent.
    std::vector<Napi::Buffer<uint8_t>> buffers;
    buffers.reserve(count);
    for (size_t i = 0; i < count; i++) {
      Napi::Value v = packets.Get(static_cast<uint32_t>(i));
      if (!v.IsBuffer()) throw Napi::TypeError::New(env, "sendFrames: packets must be Buffers");
      buffers.push_back(v.As<Napi::Buffer<uint8_t>>());
    }
    int failures = 0;
    for (size_t from = 0; from < count; from += kMaxFramesPerCall) {
      size_t n = std::min(count - from, kMaxFramesPerCall);
      if (!packet_fd_.valid()) {
        for (size_t i = from; i < from + n; i++) result[i] = EBADF;
        failures += static_cast<int>(n);
        continue;
      }
      failures += SendBatch(index + from, buffers.data() + from, mac.Data(), n, result + from);
    }
    return Napi::Number::New(env, failures);
  }

  // One sendmmsg per run of successes. sendmmsg stops at the first failing message (and when
  // some were sent, returns their count and drops the error), so the failing one is sent
  // again alone to learn its errno, and the rest go on after it.
  int SendBatch(const int32_t* index, const Napi::Buffer<uint8_t>* packets, const uint8_t* mac, size_t n,
                int32_t* result) {
    // Kept between calls: no allocation per tick once the largest batch was seen.
    if (to_.size() < n) {
      to_.resize(n);
      iov_.resize(n);
      msgs_.resize(n);
    }
    sockaddr_ll* to = to_.data();
    iovec* iov = iov_.data();
    mmsghdr* msgs = msgs_.data();
    for (size_t i = 0; i < n; i++) {
      to[i] = {};
      to[i].sll_family = AF_PACKET;
      to[i].sll_protocol = htons(ETH_P_IPV6);
      to[i].sll_ifindex = index[i];
      to[i].sll_halen = 6;
      std::memcpy(to[i].sll_addr, mac, 6);
      iov[i] = {packets[i].Data(), packets[i].Length()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &to[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_ll);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      result[i] = 0;
    }
    int failures = 0;
    size_t i = 0;
    while (i < n) {
      int sent = sendmmsg(packet_fd_.get(), &msgs[i], static_cast<unsigned>(n - i), MSG_DONTWAIT);
      if (sent > 0) {
        i += static_cast<size_t>(sent);
      } else if (sent < 0 && errno == EINTR) {
        continue;
      } else {
        result[i++] = sent < 0 ? errno : EIO;
        failures++;
      }
    }
    return failures;
  }

  // Idempotent: stops polling, closes both fds and lets the JS object go.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (watching()) {
      CloseSockets();
      on_packet_.Reset();
      on_error_.Reset();
      Pin(false);
    }
    return info.Env().Undefined();
  }

  void CloseSockets() {
    CloseWatch();
    packet_fd_.Reset();
  }

  void OnEnvTeardown() override { CloseSockets(); }

  // Datagrams are read until the socket is empty (or kMaxPacketsPerWakeup); each goes to
  // JavaScript in its own callback scope, as Node's dgram sockets deliver theirs.
  void OnReadable(int status, int) override {
    if (status < 0) {
      CallIntoJs([&](Napi::Env env) { Report(SystemError(env, -status, "uv_poll").Value()); });
      return;
    }
    for (int i = 0; i < kMaxPacketsPerWakeup && fd() >= 0; ++i) {
      if (!ReceiveOne()) return;
    }
  }

  // Reads one datagram and hands it to onPacket; false when there is nothing (more) to read.
  bool ReceiveOne() {
    for (;;) {
      sockaddr_in6 from{};
      iovec iov{buffer_.data(), buffer_.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
      msghdr msg = DatagramMsghdr(&from, &iov, control);
      ssize_t n = recvmsg(fd(), &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
        if (errno == EINTR) continue;
        int err = errno;
        CallIntoJs([&](Napi::Env env) { Report(SystemError(env, err, "recvmsg").Value()); });
        return false;
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
      CallIntoJs([&](Napi::Env env) {
        if (on_packet_.IsEmpty()) return;  // closed by an earlier callback
        on_packet_.Call(Value(), {
                                     Napi::Number::New(env, ifindex),
                                     Napi::Buffer<uint8_t>::Copy(env, from.sin6_addr.s6_addr, 16),
                                     Napi::Buffer<uint8_t>::Copy(env, destination.s6_addr, 16),
                                     Napi::Number::New(env, hop_limit),
                                     Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), length),
                                     Napi::Boolean::New(env, truncated),
                                 });
      });
      return true;
    }
  }

  // Inside CallIntoJs.
  void Report(napi_value error) {
    if (!on_error_.IsEmpty()) on_error_.Call(Value(), {error});
  }

  Fd packet_fd_;  // the send-only AF_PACKET socket
  std::vector<sockaddr_ll> to_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
  std::vector<uint8_t> buffer_;
  Napi::FunctionReference on_packet_;
  Napi::FunctionReference on_error_;
};

}  // namespace

void InitIcmp6(Napi::Env env, Napi::Object exports, Addon&) {
  Napi::Function cls = Icmp6Socket::Define(env);
  exports.Set("Icmp6Socket", cls);
}

}  // namespace vmplumb
