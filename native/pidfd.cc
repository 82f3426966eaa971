// Process file descriptors (pidfd_open(2), pidfd_send_signal(2)): how a process that is not
// qemu's parent proves it talks to the qemu it means and learns when that qemu exits.
//
// A pid alone can be recycled between "check /proc/PID/cmdline" and kill(2). A pidfd refers
// to one process for its whole life: once it is opened and the process is checked, every
// signal sent through it reaches that process or fails with ESRCH, never a newcomer with the
// same pid. The pidfd becomes readable when the process exits (poll(2) POLLIN), which is the
// only exit notification a non-parent gets; it is watched with uv_poll.
//
//   const p = new native.PidFd(pid, onExit);   // throws ESRCH for a pid that is gone
//   p.sendSignal(9)                            // 0 or a positive errno (ESRCH once it exited)
//   p.ref() / p.unref() / p.close()
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <uv.h>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "poll_socket.h"

namespace vmplumb {

namespace {

class PidFd : public PollSocket<PidFd> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PidFd",
                       {
                           InstanceMethod<&PidFd::SendSignal>("sendSignal"),
                           RefMethod(),
                           UnrefMethod(),
                           InstanceMethod<&PidFd::Close>("close"),
                       });
  }

  explicit PidFd(const Napi::CallbackInfo& info) : PollSocket(info, "vmplumb:PidFd") {
    Napi::Env env = info.Env();
    REQUIRE_ARGUMENT_INT32(0, pid);
    Napi::Function onExit = args::Function(env, info[1], "onExit");
    if (pid <= 0) throw Napi::RangeError::New(env, "pid must be positive");
    // pidfds are always close-on-exec (pidfd_open(2)): qemu never inherits one.
    Fd fd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (!fd.valid()) throw SystemError(env, errno, "pidfd_open", std::to_string(pid));
    Watch(env, std::move(fd), UV_READABLE);
    on_exit_ = Napi::Persistent(onExit);
    Pin(true);  // alive while watched, so the exit callback has a target; close() lets it go
  }

 private:
  // sendSignal(signo) -> 0 or a positive errno. The signal reaches the process the pidfd
  // was opened for, or nobody (ESRCH once it has exited).
  Napi::Value SendSignal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    REQUIRE_ARGUMENT_INT32(0, signo);
    if (fd() < 0) return Napi::Number::New(env, EBADF);
    long rc = syscall(SYS_pidfd_send_signal, fd(), signo, nullptr, 0);
    return Napi::Number::New(env, rc < 0 ? errno : 0);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (watching()) {
      CloseWatch();
      on_exit_.Reset();
      Pin(false);
    }
    return info.Env().Undefined();
  }

  // Readable means the process exited (or the poll failed): report once, stop polling; the
  // fd stays open until close() so sendSignal answers ESRCH rather than EBADF.
  void OnReadable(int status, int) override {
    StopWatch();
    CallIntoJs([&](Napi::Env env) {
      if (on_exit_.IsEmpty()) return;
      on_exit_.Call(Value(), {Napi::Number::New(env, status < 0 ? -status : 0)});
    });
  }

  Napi::FunctionReference on_exit_;
};

}  // namespace

void InitPidfd(Napi::Env env, Napi::Object exports, Addon&) {
  exports.Set("PidFd", PidFd::Define(env));
}

}  // namespace vmplumb
