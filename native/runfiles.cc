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
// - fileOps(ops) -> Promise<([errno, syscall] | null)[]>: a list of run-directory file system
//   calls made one after the other in ONE thread-pool job (lib/state/record-journal.ts): a
//   batch of 128 record writes is 3 jobs instead of ~700 (open, write, fdatasync, close,
//   rename each), every one of which woke a pool thread and then the event loop, which on a
//   loaded 2-core host was where creating 1,024 networks spent its JavaScript time. Ops:
//     ["write", path, text, mode]  open(O_WRONLY|O_CREAT|O_TRUNC), write all, fdatasync, close;
//                                  a missing parent folder is made (0700) and the open retried;
//                                  on failure the file is unlinked
//     ["rename", from, to]         on failure `from` is unlinked
//     ["unlink", path]             a missing file is fine
//     ["fsyncDir", path]           open(O_RDONLY|O_DIRECTORY), fsync, close
//     ["rmdir", path]              failures ignored (not empty, gone)
//     ["lock", path]               lockFile's open(O_CREAT) + flock(LOCK_EX|LOCK_NB): its outcome
//                                  is the fd, or -1 when another holder has the lock
//     ["read", path]               open(O_RDONLY), read all, close: its outcome is the content
//                                  (UTF-8); a missing file is [ENOENT, "open"]. Creating a
//                                  thousand networks reads a thousand (mostly missing) records:
//                                  one job, not a thousand fs.promises.readFile calls, each a
//                                  pool job and two Error objects with stack traces on ENOENT.
//   Each op's outcome: null (a lock's: its fd or -1; a read's: the text), or [errno (positive),
//   the failed call].
//
// All are O_CLOEXEC/SOCK_CLOEXEC: only child_process's stdio array hands them to qemu.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <utility>
#include <vector>

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

// One op of fileOps (see the file comment) and its outcome.
struct FileOp {
  std::string kind;
  std::string path;
  std::string arg;  // write: the text; rename: the destination
  mode_t mode = 0600;
  int err = 0;
  const char* syscall = nullptr;
  int fd = -1;  // lock: the held lock's fd (-1: held elsewhere)
};

// mkdir -p of `dir` with mode 0700; true when it exists afterwards.
bool MakeFolders(const std::string& dir) {
  if (dir.empty() || mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return true;
  if (errno != ENOENT) return false;
  size_t slash = dir.find_last_of('/');
  if (slash == std::string::npos || slash == 0 || !MakeFolders(dir.substr(0, slash))) return false;
  return mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST;
}

void Fail(FileOp& op, const char* syscall) {
  op.err = errno;
  op.syscall = syscall;
}

void WriteFile(FileOp& op) {
  int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  Fd fd(open(op.path.c_str(), flags, op.mode));
  if (!fd.valid() && errno == ENOENT) {
    size_t slash = op.path.find_last_of('/');
    if (slash != std::string::npos && slash > 0) MakeFolders(op.path.substr(0, slash));
    fd.Reset(open(op.path.c_str(), flags, op.mode));
  }
  if (!fd.valid()) return Fail(op, "open");
  const char* data = op.arg.data();
  size_t left = op.arg.size();
  while (left > 0) {
    ssize_t n = write(fd.get(), data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Fail(op, "write");
      break;
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  if (op.err == 0 && fdatasync(fd.get()) < 0) Fail(op, "fdatasync");
  if (close(fd.Release()) < 0 && op.err == 0) Fail(op, "close");
  if (op.err != 0) unlink(op.path.c_str());
}

void RunFileOp(FileOp& op) {
  if (op.kind == "write") {
    WriteFile(op);
  } else if (op.kind == "rename") {
    if (rename(op.path.c_str(), op.arg.c_str()) < 0) {
      Fail(op, "rename");
      unlink(op.path.c_str());
    }
  } else if (op.kind == "unlink") {
    if (unlink(op.path.c_str()) < 0 && errno != ENOENT) Fail(op, "unlink");
  } else if (op.kind == "fsyncDir") {
    Fd fd(open(op.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return Fail(op, "open");
    if (fsync(fd.get()) < 0) Fail(op, "fsync");
  } else if (op.kind == "rmdir") {
    rmdir(op.path.c_str());
  } else if (op.kind == "read") {
    Fd fd(open(op.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Fail(op, "open");
    char buffer[16384];
    for (;;) {
      ssize_t n = read(fd.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(op, "read");
      if (n == 0) break;
      op.arg.append(buffer, static_cast<size_t>(n));
    }
  } else if (op.kind == "lock") {
    Fd fd(open(op.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid()) return Fail(op, "open");
    int rc;
    do {
      rc = flock(fd.get(), LOCK_EX | LOCK_NB);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      op.fd = fd.Release();
    } else if (errno != EWOULDBLOCK) {
      Fail(op, "flock");
    }
  }
}

class FileOpsWorker : public Napi::AsyncWorker {
 public:
  FileOpsWorker(Napi::Env env, std::vector<FileOp>&& ops)
      : Napi::AsyncWorker(env, "vmplumb:file-ops"),
        deferred_(Napi::Promise::Deferred::New(env)),
        ops_(std::move(ops)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    for (FileOp& op : ops_) RunFileOp(op);
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array out = Napi::Array::New(env, ops_.size());
    for (uint32_t i = 0; i < ops_.size(); i++) {
      if (ops_[i].err == 0) {
        if (ops_[i].kind == "lock") {
          out.Set(i, Napi::Number::New(env, ops_[i].fd));
        } else if (ops_[i].kind == "read") {
          out.Set(i, Napi::String::New(env, ops_[i].arg));
        } else {
          out.Set(i, env.Null());
        }
        continue;
      }
      Napi::Array failure = Napi::Array::New(env, 2);
      failure.Set(0u, Napi::Number::New(env, ops_[i].err));
      failure.Set(1u, Napi::String::New(env, ops_[i].syscall));
      out.Set(i, failure);
    }
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<FileOp> ops_;
};

Napi::Value FileOps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_ARGUMENT_ARRAY(0, ops);
  std::vector<FileOp> list(ops.Length());
  for (uint32_t i = 0; i < ops.Length(); i++) {
    Napi::Array a = args::Array(env, ops.Get(i), "ops[i]");
    FileOp& op = list[i];
    op.kind = args::String(env, a.Get(0u), "ops[i][0]");
    op.path = args::String(env, a.Get(1u), "ops[i][1]");
    if (op.kind == "write" || op.kind == "rename") op.arg = args::String(env, a.Get(2u), "ops[i][2]");
    if (op.kind == "write") op.mode = args::Uint32(env, a.Get(3u), "ops[i][3]");
    if (op.kind != "write" && op.kind != "rename" && op.kind != "unlink" && op.kind != "fsyncDir" &&
        op.kind != "rmdir" && op.kind != "lock" && op.kind != "read") {
      throw Napi::TypeError::New(env, "fileOps: unknown op " + op.kind);
    }
  }
  auto* worker = new FileOpsWorker(env, std::move(list));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitRunFiles(Napi::Env env, Napi::Object exports, Addon&) {
  exports.Set("lockFile", Napi::Function::New(env, LockFile, "lockFile"));
  exports.Set("lockFd", Napi::Function::New(env, LockFd, "lockFd"));
  exports.Set("unixListen", Napi::Function::New(env, UnixListen, "unixListen"));
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect, "unixConnect"));
  exports.Set("fileOps", Napi::Function::New(env, FileOps, "fileOps"));
}

}  // namespace vmplumb
