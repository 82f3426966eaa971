// The uv_poll_t half of PollSocket (see poll_socket.h).
#include "poll_socket.h"

namespace vmplumb {

// The handle first: libuv hands its address back to OnPoll and to the close callback.
struct UvPoll::Watch {
  uv_poll_t handle;
  Callback callback;
  void* owner;  // null once closed
  int events;
};

int UvPoll::Start(uv_loop_t* loop, int fd, int events, Callback callback, void* owner) {
  Close();
  auto* watch = new Watch{};
  watch->callback = callback;
  watch->owner = owner;
  watch->events = events;
  int rc = uv_poll_init(loop, &watch->handle, fd);
  if (rc != 0) {
    delete watch;  // never registered with the loop
    return rc;
  }
  watch->handle.data = watch;
  watch_ = watch;
  rc = uv_poll_start(&watch->handle, events, &UvPoll::OnPoll);
  if (rc != 0) Close();  // registered: only libuv may free it now
  return rc;
}

int UvPoll::Restart() {
  if (watch_ == nullptr) return UV_EBADF;
  return uv_poll_start(&watch_->handle, watch_->events, &UvPoll::OnPoll);
}

void UvPoll::Stop() {
  if (watch_ != nullptr) uv_poll_stop(&watch_->handle);
}

void UvPoll::Close() {
  if (watch_ == nullptr) return;
  Watch* watch = watch_;
  watch_ = nullptr;
  watch->owner = nullptr;
  uv_poll_stop(&watch->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->handle),
           [](uv_handle_t* handle) { delete static_cast<Watch*>(handle->data); });
}

void UvPoll::KeepLoopAlive(bool on) {
  if (watch_ == nullptr) return;
  auto* handle = reinterpret_cast<uv_handle_t*>(&watch_->handle);
  if (on) {
    uv_ref(handle);
  } else {
    uv_unref(handle);
  }
}

void UvPoll::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* watch = static_cast<Watch*>(handle->data);
  if (watch->owner == nullptr) return;
  watch->callback(watch->owner, status, events);
}

}  // namespace vmplumb
