// A socket that only holds IPv6 multicast group memberships (ipv6(7) IPV6_ADD_MEMBERSHIP,
// IPV6_DROP_MEMBERSHIP): the router advertiser's ff02::2 joins live here, not on its raw
// ICMPv6 socket.
//
// Why a separate socket: each membership is a `struct ipv6_mc_socklist` that
// ipv6_sock_mc_join (net/ipv6/mcast.c) allocates with sock_kmalloc, charged to the joining
// socket's option memory (sk_omem_alloc, capped by the namespace's net.core.optmem_max, 131072
// bytes by default: ~2,340 memberships of 56 bytes). sendmsg takes its ancillary data from the
// same budget when it does not fit on the stack (____sys_sendmsg's sock_kmalloc of the control
// buffer, -ENOBUFS), which IPV6_PKTINFO does not: a socket full of memberships can no longer
// send with IPV6_PKTINFO. Joining from here keeps the RA socket's option memory for its sends.
//
// The membership still does what the RA socket needs: ipv6_sock_mc_join makes the device join
// the group (ipv6_dev_mc_inc, counted per device, whatever socket asked), so ip6_mc_input
// delivers ff02::2 packets of that device locally, and raw6_local_deliver hands them to every
// matching raw socket. raw_v6_match accepts an unbound raw socket whatever its memberships,
// and a bound one through inet6_mc_check, which returns the socket's IPV6_MULTICAST_ALL (on by
// default) when the socket has no entry of its own for the group.
//
// The socket is UDP and never bound: it is in no lookup table, so it receives nothing, and it
// sends nothing, so its option memory goes to memberships alone.
//
//   const s = new native.Ipv6MembershipSocket(netns);
//   s.change(leaves, joins, group16) -> Promise<Int32Array errnos (leaves', then joins')>
//   s.close() -> Promise<void>
//
// change runs the setsockopts on the libuv thread pool: each takes RTNL (~1 ms, up to 12 ms
// while links are being created), so thousands of them on the event loop stall it. The job
// works on a dup of the socket, so a close() meanwhile cannot hand its fd number to someone
// else. close() also drops the descriptor on the pool: the last close of a socket leaves each
// of its groups under RTNL (ipv6_sock_mc_close).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "fd.h"
#include "netns.h"

namespace vmplumb {
namespace {

// IPV6_DROP_MEMBERSHIP for each of `leaves`, then IPV6_ADD_MEMBERSHIP for each of `joins`,
// of one group, on a pool thread.
class MembershipWorker : public Napi::AsyncWorker {
 public:
  MembershipWorker(Napi::Env env, Fd fd, std::vector<int32_t>&& leaves, std::vector<int32_t>&& joins,
                   const in6_addr& group)
      : Napi::AsyncWorker(env, "vmplumb:ipv6-memberships"),
        deferred_(Napi::Promise::Deferred::New(env)),
        fd_(std::move(fd)),
        leaves_(std::move(leaves)),
        joins_(std::move(joins)),
        group_(group) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    errnos_.reserve(leaves_.size() + joins_.size());
    for (int32_t index : leaves_) errnos_.push_back(Change(index, IPV6_DROP_MEMBERSHIP));
    for (int32_t index : joins_) errnos_.push_back(Change(index, IPV6_ADD_MEMBERSHIP));
    // The dup goes here, on the pool, not in the destructor on the event loop.
    fd_.Reset();
  }

  void OnOK() override {
    Napi::Env env = Env();
    auto out = Napi::Int32Array::New(env, errnos_.size());
    for (size_t i = 0; i < errnos_.size(); i++) out[i] = errnos_[i];
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  int32_t Change(int32_t index, int option) {
    ipv6_mreq mreq{};
    mreq.ipv6mr_multiaddr = group_;
    mreq.ipv6mr_interface = static_cast<unsigned>(index);
    return setsockopt(fd_.get(), IPPROTO_IPV6, option, &mreq, sizeof(mreq)) < 0 ? errno : 0;
  }

  Napi::Promise::Deferred deferred_;
  Fd fd_;
  std::vector<int32_t> leaves_;
  std::vector<int32_t> joins_;
  in6_addr group_;
  std::vector<int32_t> errnos_;
};

// Closes a descriptor on a pool thread (see the file header), then resolves.
class CloseWorker : public Napi::AsyncWorker {
 public:
  CloseWorker(Napi::Env env, Fd fd)
      : Napi::AsyncWorker(env, "vmplumb:ipv6-membership-close"),
        deferred_(Napi::Promise::Deferred::New(env)),
        fd_(std::move(fd)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { fd_.Reset(); }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Fd fd_;
};

class Ipv6MembershipSocket : public Napi::ObjectWrap<Ipv6MembershipSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Ipv6MembershipSocket",
                       {
                           InstanceMethod<&Ipv6MembershipSocket::Change>("change"),
                           InstanceMethod<&Ipv6MembershipSocket::Close>("close"),
                       });
  }

  explicit Ipv6MembershipSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Ipv6MembershipSocket>(info) {
    Napi::Env env = info.Env();
    NetnsSpec spec = NetnsSpecFromValue(info[0]);
    // The socket belongs to the namespace it is created in: its joins name that namespace's
    // interfaces.
    NetnsScope scope(env, spec);
    fd_.Reset(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP));
    if (!fd_.valid()) throw SystemError(env, errno, "socket", "AF_INET6 SOCK_DGRAM IPPROTO_UDP");
  }

 private:
  // change(leaves: Int32Array, joins: Int32Array, group16) -> Promise<Int32Array>: one errno
  // (0 or positive) per change, the leaves' first. Once closed, every change fails EBADF.
  Napi::Value Change(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    REQUIRE_ARGUMENT_INT32ARRAY(0, leaves);
    REQUIRE_ARGUMENT_INT32ARRAY(1, joins);
    REQUIRE_ARGUMENT_BUFFER(2, group);
    if (group.Length() != sizeof(in6_addr)) {
      args::Throw(env, "ERR_INVALID_ARG_VALUE", "The \"group\" argument must be 16 bytes");
    }
    in6_addr address;
    std::memcpy(address.s6_addr, group.Data(), sizeof(address));
    Fd dup;
    if (fd_.valid()) dup.Reset(fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
    if (!dup.valid()) {
      // Closed (or out of descriptors): every change fails alike.
      int err = fd_.valid() ? errno : EBADF;
      auto out = Napi::Int32Array::New(env, leaves.ElementLength() + joins.ElementLength());
      for (size_t i = 0; i < out.ElementLength(); i++) out[i] = err;
      auto deferred = Napi::Promise::Deferred::New(env);
      deferred.Resolve(out);
      return deferred.Promise();
    }
    auto copy = [](const Napi::Int32Array& a) { return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength()); };
    auto* worker = new MembershipWorker(env, std::move(dup), copy(leaves), copy(joins), address);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  // close() -> Promise<void>, resolved once the descriptor is closed (idempotent: a second
  // call resolves at once). A running change() keeps its dup until it ends.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!fd_.valid()) {
      auto deferred = Napi::Promise::Deferred::New(env);
      deferred.Resolve(env.Undefined());
      return deferred.Promise();
    }
    auto* worker = new CloseWorker(env, std::move(fd_));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  Fd fd_;
};

}  // namespace

void InitIpv6Membership(Napi::Env env, Napi::Object exports, Addon&) {
  exports.Set("Ipv6MembershipSocket", Ipv6MembershipSocket::Define(env));
}

}  // namespace vmplumb
