// Passing file descriptors over a unix stream socket: socketpair(2) and sendmsg(2) with
// SCM_RIGHTS (unix(7), cmsg(3)).
//
// Used for QMP: one end of a socketpair becomes qemu's monitor (`-chardev socket,fd=N`), and
// hot-plug sends a tap fd along with the `getfd` command itself, which is how qemu's
// monitor expects to receive it (qemu-qmp-ref: getfd). Every fd made here is SOCK_CLOEXEC.
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"

namespace vmplumb {

namespace {

// socketPair() -> [fd, fd]: a connected AF_UNIX SOCK_STREAM pair, both ends close-on-exec.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw SystemError(env, errno, "socketpair");
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, sv[0]));
  out.Set(1u, Napi::Number::New(env, sv[1]));
  return out;
}

// sendWithFds(socketFd, data: Buffer, fds: number[]) -> bytes sent. One non-blocking sendmsg;
// the fds ride with the first byte, so a short write is completed by the caller's stream.
Napi::Value SendWithFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_INT32(0, sock);
  REQUIRE_ARGUMENT_BUFFER(1, data);
  REQUIRE_ARGUMENT_ARRAY(2, list);
  std::vector<int> fds;
  for (uint32_t i = 0; i < list.Length(); i++)
    fds.push_back(args::Int32(env, list.Get(i), "fds[" + std::to_string(i) + "]"));
  if (data.Length() == 0) throw Napi::RangeError::New(env, "data must not be empty");
  if (fds.size() > 253) throw Napi::RangeError::New(env, "too many fds (SCM_MAX_FD is 253)");

  struct iovec iov;
  iov.iov_base = data.Data();
  iov.iov_len = data.Length();
  std::vector<char> control(CMSG_SPACE(sizeof(int) * (fds.empty() ? 1 : fds.size())), 0);
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw SystemError(env, errno, "sendmsg");
  return Napi::Number::New(env, static_cast<double>(n));
}

}  // namespace

void InitScm(Napi::Env env, Napi::Object exports, Addon&) {
  exports.Set("socketPair", Napi::Function::New(env, SocketPair, "socketPair"));
  exports.Set("sendWithFds", Napi::Function::New(env, SendWithFds, "sendWithFds"));
}

}  // namespace vmplumb
