// The base of every JavaScript object around a descriptor that the event loop watches
// (NetlinkSocket, Icmp6Socket, PidFd): it owns the fd and its uv_poll_t, closes both once,
// holds the object alive the one way (Pin), and calls into JavaScript the one way
// (CallIntoJs). Modelled on node_netlink's FileDescriptor / UvHandle<Self, T> (src/binding.cc).
//
// Lifetimes (uv_poll(3) "uv_poll_t", uv_close(3)): libuv closes a handle asynchronously, so
// the uv_poll_t lives on the heap and is freed in its close callback; the JS object may be
// finalized before that callback runs, and once closed no readiness callback reaches it. The
// fd is closed after polling stopped (libuv must not watch a closed, possibly reused number).
// When the Node environment ends (worker exit, process exit) with the socket open, the
// cleanup hook closes it without JavaScript (OnEnvTeardown).
#pragma once

#include <napi.h>
#include <uv.h>

#include "errors.h"
#include "fd.h"

namespace vmplumb {

// A heap uv_poll_t that reports readiness to `owner` until Close().
class UvPoll {
 public:
  using Callback = void (*)(void* owner, int status, int events);

  UvPoll() = default;
  ~UvPoll() { Close(); }
  UvPoll(const UvPoll&) = delete;
  UvPoll& operator=(const UvPoll&) = delete;

  // uv_poll_init + uv_poll_start: 0, or a libuv error (a negative errno) with nothing left
  // behind (a handle initialised but not started is closed again).
  int Start(uv_loop_t* loop, int fd, int events, Callback callback, void* owner);
  // uv_poll_start again with the same events: libuv stops a handle after reporting an error
  // (POLLERR), and a socket with a pending error (ENOBUFS) must still be read.
  int Restart();
  // uv_poll_stop: no more callbacks until Restart(); the handle stays.
  void Stop();
  // Idempotent. The handle is freed by libuv's close callback; the owner is never called again.
  void Close();
  // Whether the handle keeps the event loop alive (uv_ref / uv_unref).
  void KeepLoopAlive(bool on);
  bool open() const { return watch_ != nullptr; }

 private:
  struct Watch;
  static void OnPoll(uv_poll_t* handle, int status, int events);
  Watch* watch_ = nullptr;
};

template <typename Derived>
class PollSocket : public Napi::ObjectWrap<Derived> {
 public:
  ~PollSocket() override {
    // Finalizer or environment teardown: no JavaScript. The members close the handle, then
    // the fd (declaration order).
    Unhook();
  }

 protected:
  PollSocket(const Napi::CallbackInfo& info, const char* resourceName)
      : Napi::ObjectWrap<Derived>(info), context_(info.Env(), resourceName) {}

  // Takes `fd`, watches it for `events` (UV_READABLE) and registers the environment cleanup
  // hook. Throws a SystemError (and closes `fd`) when libuv refuses the descriptor.
  void Watch(Napi::Env env, Fd fd, int events) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw SystemError(env, EINVAL, "napi_get_uv_event_loop");
    int rc = poll_.Start(loop, fd.get(), events, &PollSocket::Dispatch, this);
    if (rc != 0) throw SystemError(env, -rc, "uv_poll_start");
    fd_ = std::move(fd);
    napi_add_env_cleanup_hook(env, &PollSocket::OnEnvCleanup, this);
    hooked_ = true;
  }

  int fd() const { return fd_.get(); }
  bool watching() const { return poll_.open(); }
  int RestartWatch() { return poll_.Restart(); }
  void StopWatch() { poll_.Stop(); }
  void KeepLoopAlive(bool on) { poll_.KeepLoopAlive(on); }

  // Stops watching for good; closes the fd too unless `closeFd` is false (a pool thread still
  // sends on it: CloseFd() once it is done).
  void CloseWatch(bool closeFd = true) {
    poll_.Close();
    if (closeFd) fd_.Reset();
  }
  void CloseFd() { fd_.Reset(); }

  // Holds one reference to the JS object while `on`: callbacks and promises keep a target
  // even when JavaScript dropped every reference. Idempotent either way.
  void Pin(bool on) {
    if (on == pinned_) return;
    pinned_ = on;
    if (on) {
      this->Ref();
    } else {
      this->Unref();
    }
  }

  // Runs `body` (which settles promises and calls functions) as a callback from the event
  // loop: in a HandleScope and a CallbackScope of this object's async context, so async
  // hooks see the call and queued microtasks (promise reactions) and nextTicks run when the
  // scope closes, as after any of Node's own I/O callbacks. A CallbackScope rather than
  // MakeCallback, because a netlink reply settles promises without calling any function and
  // MakeCallback covers function calls only; one mechanism for all three classes. The caller
  // picks the unit: one datagram (as Node's dgram), or one read of a netlink socket. An
  // exception thrown by JavaScript becomes an uncaught exception, as from an EventEmitter.
  template <typename Body>
  void CallIntoJs(Body&& body) {
    Napi::Env env = this->Env();
    Napi::HandleScope scope(env);
    Napi::CallbackScope callbackScope(env, context_);
    try {
      body(env);
    } catch (const Napi::Error& error) {
      napi_fatal_exception(env, error.Value());
    }
  }

  // The JS methods ref() and unref(): whether the open socket keeps the event loop alive
  // (as net.Socket's). For the class's DefineClass list.
  static typename Napi::ObjectWrap<Derived>::PropertyDescriptor RefMethod() {
    return Napi::ObjectWrap<Derived>::InstanceMethod("ref", &PollSocket::RefHandle);
  }
  static typename Napi::ObjectWrap<Derived>::PropertyDescriptor UnrefMethod() {
    return Napi::ObjectWrap<Derived>::InstanceMethod("unref", &PollSocket::UnrefHandle);
  }

  // A readiness callback: `status` is 0 or a libuv error (then libuv stopped the handle).
  virtual void OnReadable(int status, int events) = 0;
  // The environment ends with the socket open: close without JavaScript.
  virtual void OnEnvTeardown() { CloseWatch(); }

 private:
  Napi::Value RefHandle(const Napi::CallbackInfo& info) {
    KeepLoopAlive(true);
    return info.Env().Undefined();
  }
  Napi::Value UnrefHandle(const Napi::CallbackInfo& info) {
    KeepLoopAlive(false);
    return info.Env().Undefined();
  }

  static void Dispatch(void* owner, int status, int events) {
    static_cast<PollSocket*>(owner)->OnReadable(status, events);
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<PollSocket*>(arg);
    self->hooked_ = false;  // node drops the hook after running it
    self->OnEnvTeardown();
  }

  void Unhook() {
    if (!hooked_) return;
    hooked_ = false;
    napi_remove_env_cleanup_hook(this->Env(), &PollSocket::OnEnvCleanup, this);
  }

  Fd fd_;        // declared before poll_: destroyed after it
  UvPoll poll_;  // closed before the fd
  Napi::AsyncContext context_;
  bool hooked_ = false;
  bool pinned_ = false;
};

}  // namespace vmplumb
