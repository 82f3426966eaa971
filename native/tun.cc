// Tap devices opened directly: open("/dev/net/tun") once per queue and TUNSETIFF on each fd.
//
// See Documentation/networking/tuntap.rst and include/uapi/linux/if_tun.h. A tap belongs to
// the network namespace of the thread that opened /dev/net/tun (the tun_file's socket records
// current->nsproxy->net_ns at open), so the open and TUNSETIFF happen inside a NetnsScope.
// The fds are O_CLOEXEC: the only way one reaches a child is spawn's stdio array.
//
// Thin on purpose: the TUNSETIFF flags, the name pattern and the options are decided in
// lib/tap.ts; this file only performs the syscalls and unwinds on failure.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "fd.h"
#include "netns.h"

namespace vmplumb {

namespace {

// tunOpen({ name, flags, queues, persist, owner, group, netns }) -> { name, index, fds }
//   name:    '' lets the kernel choose (tap%d); a pattern with %d is filled in by the kernel.
//   flags:   TUNSETIFF flags of the first queue; later queues attach without IFF_TUN_EXCL.
//   owner, group: -1 leaves them untouched.
Napi::Value TunOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_OBJECT(0, options);
  // Own properties only, checked: a NUL in the name would create the tap named before it.
  std::string name = args::OwnString(env, options, "name");
  int flags = args::Int32(env, args::Own(options, "flags"), "flags");
  int queues = args::Int32(env, args::Own(options, "queues"), "queues");
  bool persist = args::Own(options, "persist").ToBoolean().Value();
  int64_t owner = args::OwnInt64(env, options, "owner", -1);
  int64_t group = args::OwnInt64(env, options, "group", -1);
  NetnsSpec spec = NetnsSpecFromValue(args::Own(options, "netns"));
  if (queues < 1) throw Napi::RangeError::New(env, "queues must be at least 1");
  if (name.size() >= IFNAMSIZ) throw Napi::RangeError::New(env, "name too long");

  NetnsScope scope(env, spec);
  // Every fd opened so far closes when TUNSETIFF & co fail halfway, so nothing leaks.
  std::vector<Fd> queueFds;
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  for (int q = 0; q < queues; q++) {
    Fd& fd = queueFds.emplace_back(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd.valid()) throw SystemError(env, errno, "open", "/dev/net/tun");
    // The first TUNSETIFF creates the device (and fails with EBUSY if the name is taken,
    // thanks to IFF_TUN_EXCL); the others attach further queues to it by the kernel's name.
    ifr.ifr_flags = static_cast<short>(q == 0 ? flags : (flags & ~IFF_TUN_EXCL));
    if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) throw SystemError(env, errno, "TUNSETIFF", ifr.ifr_name);
  }
  int first = queueFds.front().get();
  // Until TUNSETPERSIST the device vanishes with its last fd, which is what rollback needs.
  if (owner >= 0 && ioctl(first, TUNSETOWNER, static_cast<unsigned long>(owner)) < 0) {
    throw SystemError(env, errno, "TUNSETOWNER", ifr.ifr_name);
  }
  if (group >= 0 && ioctl(first, TUNSETGROUP, static_cast<unsigned long>(group)) < 0) {
    throw SystemError(env, errno, "TUNSETGROUP", ifr.ifr_name);
  }

  // The index, read in the tap's namespace through any socket there (SIOCGIFINDEX resolves
  // the name in the socket's namespace).
  Fd sock(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) throw SystemError(env, errno, "socket", "AF_UNIX");
  struct ifreq idx;
  std::memset(&idx, 0, sizeof idx);
  std::memcpy(idx.ifr_name, ifr.ifr_name, IFNAMSIZ);
  if (ioctl(sock.get(), SIOCGIFINDEX, &idx) < 0) throw SystemError(env, errno, "SIOCGIFINDEX", ifr.ifr_name);

  if (persist && ioctl(first, TUNSETPERSIST, 1UL) < 0) {
    throw SystemError(env, errno, "TUNSETPERSIST", ifr.ifr_name);
  }

  Napi::Object result = Napi::Object::New(env);
  result.Set("name", Napi::String::New(env, std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ))));
  result.Set("index", Napi::Number::New(env, idx.ifr_ifindex));
  Napi::Array fds = Napi::Array::New(env, queueFds.size());
  for (size_t i = 0; i < queueFds.size(); i++)
    fds.Set(static_cast<uint32_t>(i), Napi::Number::New(env, queueFds[i].get()));
  result.Set("fds", fds);
  for (Fd& fd : queueFds) fd.Release();  // JavaScript owns them from here (lib/tap.ts)
  return result;
}

// tunSetPersist(fd, on): TUNSETPERSIST, to remove a persistent tap (persist off, then close).
Napi::Value TunSetPersist(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_INT32(0, fd);
  REQUIRE_ARGUMENT_BOOLEAN(1, on);
  if (ioctl(fd, TUNSETPERSIST, on ? 1UL : 0UL) < 0) throw SystemError(env, errno, "TUNSETPERSIST");
  return env.Undefined();
}

}  // namespace

void InitTun(Napi::Env env, Napi::Object exports, Addon&) {
  exports.Set("tunOpen", Napi::Function::New(env, TunOpen, "tunOpen"));
  exports.Set("tunSetPersist", Napi::Function::New(env, TunSetPersist, "tunSetPersist"));
  // The flags TypeScript combines (include/uapi/linux/if_tun.h), so they are not copied by hand.
  Napi::Object constants = Napi::Object::New(env);
  constants.Set("IFF_TAP", Napi::Number::New(env, IFF_TAP));
  constants.Set("IFF_NO_PI", Napi::Number::New(env, IFF_NO_PI));
  constants.Set("IFF_VNET_HDR", Napi::Number::New(env, IFF_VNET_HDR));
  constants.Set("IFF_MULTI_QUEUE", Napi::Number::New(env, IFF_MULTI_QUEUE));
  constants.Set("IFF_TUN_EXCL", Napi::Number::New(env, IFF_TUN_EXCL));
  exports.Set("tunConstants", constants);
}

}  // namespace vmplumb
