// The two descriptors the run directory (lib/state/) needs that Node cannot make itself.
//
// - lockFile(path): open(2) + flock(2) LOCK_EX|LOCK_NB. The kernel drops the lock when the
//   last fd goes, including when the holder is SIGKILLed, so a lock never outlives its owner
//   and needs no stale-lock guessing. Returns the fd, or -1 when another holder has it.
// - lockFd(fd): flock(2) LOCK_EX|LOCK_NB on an fd the caller opened (in the thread pool: an
//   open(O_CREAT) waits for the file system's journal, flock does not). True when taken, false
//   when another holder has it; the fd stays the caller's either way.
// - unixListen(path, backlog): a bound, listening AF_UNIX SOCK_STREAM socket for qemu to
//   inherit (`-chardev socket,fd=N,server=on`): the socket exists before qemu starts, so a
//   client's connect(2) never races qemu's start-up, and the path stays for later attach.
// - unixConnect(path): the client end, as a raw fd so that QMP can pass fds (SCM_RIGHTS) on it.
//
// Both are O_CLOEXEC/SOCK_CLOEXEC: only child_process's stdio array hands them to qemu.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "fd.h"

namespace vmplumb {

namespace {

Napi::Value LockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_STRING(0, path);
  Fd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) throw SystemError(env, errno, "open", path);
  int rc;
  do {
    rc = flock(fd.get(), LOCK_EX | LOCK_NB);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    if (errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    throw SystemError(env, errno, "flock", path);
  }
  return Napi::Number::New(env, fd.Release());
}

Napi::Value LockFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_INT32(0, fd);
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    throw SystemError(env, errno, "flock", std::to_string(fd));
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value UnixListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_STRING(0, path);
  REQUIRE_ARGUMENT_INT32(1, backlog);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw SystemError(env, ENAMETOOLONG, "bind", path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw SystemError(env, errno, "socket", "AF_UNIX SOCK_STREAM");
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) throw SystemError(env, errno, "bind", path);
  if (listen(fd.get(), backlog) < 0) {
    int err = errno;
    unlink(path.c_str());
    throw SystemError(env, err, "listen", path);
  }
  return Napi::Number::New(env, fd.Release());
}

// unixConnect(path) -> fd: a connected AF_UNIX SOCK_STREAM socket, non-blocking (node's
// net.Socket takes it over) and close-on-exec. A unix connect(2) completes at once when the
// listener's backlog has room, even before the listener calls accept(2), which is what
// makes the inherited listening QMP socket race-free; EAGAIN means the backlog is full.
Napi::Value UnixConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_STRING(0, path);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw SystemError(env, ENAMETOOLONG, "connect", path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) throw SystemError(env, errno, "socket", "AF_UNIX SOCK_STREAM");
  int rc;
  do {
    rc = connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) throw SystemError(env, errno, "connect", path);
  return Napi::Number::New(env, fd.Release());
}

}  // namespace

void InitRunFiles(Napi::Env env, Napi::Object exports, Addon&) {
  exports.Set("lockFile", Napi::Function::New(env, LockFile, "lockFile"));
  exports.Set("lockFd", Napi::Function::New(env, LockFd, "lockFd"));
  exports.Set("unixListen", Napi::Function::New(env, UnixListen, "unixListen"));
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect, "unixConnect"));
}

}  // namespace vmplumb
