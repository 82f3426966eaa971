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
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <memory>

#include <uv.h>

#include "addon.h"
#include "errors.h"

namespace vmplumb {

namespace {

class PidFd : public Napi::ObjectWrap<PidFd> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PidFd",
                       {
                           InstanceMethod<&PidFd::SendSignal>("sendSignal"),
                           InstanceMethod<&PidFd::RefHandle>("ref"),
                           InstanceMethod<&PidFd::UnrefHandle>("unref"),
                           InstanceMethod<&PidFd::Close>("close"),
                       });
  }

  explicit PidFd(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PidFd>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsFunction()) throw Napi::TypeError::New(env, "PidFd(pid, onExit)");
    int pid = info[0].As<Napi::Number>().Int32Value();
    if (pid <= 0) throw Napi::RangeError::New(env, "pid must be positive");
    // pidfds are always close-on-exec (pidfd_open(2)): qemu never inherits one.
    fd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (fd_ < 0) throw SystemError(env, errno, "pidfd_open", std::to_string(pid));
    on_exit_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "vmplumb:PidFd");
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
      fd_ = -1;
      delete poll_;
      poll_ = nullptr;
      throw SystemError(env, -rc, "uv_poll_start");
    }
    Ref();  // alive while watched, so the exit callback has a target; close() drops it
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
    hooked_ = true;
  }

  ~PidFd() override {
    Shutdown();
    Unhook();
  }

 private:
  // sendSignal(signo) -> 0 or a positive errno. The signal reaches the process the pidfd
  // was opened for, or nobody (ESRCH once it has exited).
  Napi::Value SendSignal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "sendSignal(signo)");
    if (fd_ < 0) return Napi::Number::New(env, EBADF);
    int signo = info[0].As<Napi::Number>().Int32Value();
    long rc = syscall(SYS_pidfd_send_signal, fd_, signo, nullptr, 0);
    return Napi::Number::New(env, rc < 0 ? errno : 0);
  }

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
      on_exit_.Reset();
      context_.reset();
      Unref();
    }
    return info.Env().Undefined();
  }

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
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<PidFd*>(arg);
    self->hooked_ = false;
    self->Shutdown();
  }

  void Unhook() {
    if (!hooked_) return;
    hooked_ = false;
    napi_remove_env_cleanup_hook(Env(), OnEnvCleanup, this);
  }

  // Readable means the process exited (or the poll failed): report once, stop polling; the
  // fd stays open until close() so sendSignal answers ESRCH rather than EBADF.
  static void OnReadable(uv_poll_t* handle, int status, int) {
    auto* self = static_cast<PidFd*>(handle->data);
    if (self == nullptr) return;
    uv_poll_stop(handle);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    if (self->on_exit_.IsEmpty() || !self->context_) return;
    napi_value args[] = {Napi::Number::New(env, status < 0 ? -status : 0)};
    try {
      self->on_exit_.MakeCallback(self->Value(), 1, args, *self->context_);
    } catch (const Napi::Error& error) {
      napi_fatal_exception(env, error.Value());
    }
  }

  int fd_ = -1;
  bool hooked_ = false;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference on_exit_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

}  // namespace

void InitPidfd(Napi::Env env, Napi::Object exports, Addon&) {
  exports.Set("PidFd", PidFd::Define(env));
}

}  // namespace vmplumb
