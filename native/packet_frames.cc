#include "packet_frames.h"

#include <fcntl.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <utility>

#include "errors.h"

namespace vmplumb {
namespace {

int PacketSocket() {
  return socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

// bind(2) to `ifindex` with protocol 0: the socket sends there and receives nothing.
int BindTo(int fd, int ifindex) {
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_ifindex = ifindex;
  return bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof(at)) < 0 ? errno : 0;
}

}  // namespace

PacketFrames::PacketFrames(Napi::Env env, const NetnsSpec& spec) {
  if (!spec.current) {
    netns_.Reset(spec.path.empty() ? fcntl(spec.fd, F_DUPFD_CLOEXEC, 0)
                                   : open(spec.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns_.valid())
      throw SystemError(env, errno, "open", spec.path.empty() ? "fd " + std::to_string(spec.fd) : spec.path);
  }
  Fd saved;
  if (netns_.valid()) {
    int err = EnterNetns(netns_.get(), &saved);
    if (err != 0) throw SystemError(env, err, "setns", spec.path.empty() ? "fd " + std::to_string(spec.fd) : spec.path);
  }
  unbound_.Reset(PacketSocket());
  int err = errno;
  LeaveNetns(&saved);
  if (!unbound_.valid()) throw SystemError(env, err, "socket", "AF_PACKET SOCK_RAW");
}

NetnsSpec PacketFrames::netns() const {
  NetnsSpec spec;
  spec.current = !netns_.valid();
  spec.fd = netns_.get();
  return spec;
}

int PacketFrames::Bind(int ifindex) {
  bound_.erase(ifindex);
  // socket(2) makes it in the thread's namespace; bind(2) then resolves the index in the
  // socket's, from anywhere.
  Fd saved;
  if (netns_.valid()) {
    int err = EnterNetns(netns_.get(), &saved);
    if (err != 0) return err;
  }
  Fd fd(PacketSocket());
  int err = fd.valid() ? 0 : errno;
  LeaveNetns(&saved);
  if (err == 0) err = BindTo(fd.get(), ifindex);
  if (err == 0) bound_.emplace(ifindex, std::move(fd));
  return err;
}

int PacketFrames::SendUnbound(int ifindex, const iovec& frame) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex;
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof(to);
  msg.msg_iov = const_cast<iovec*>(&frame);
  msg.msg_iovlen = 1;
  for (;;) {
    if (sendmsg(unbound_.get(), &msg, MSG_DONTWAIT) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

int PacketFrames::Send(const int32_t* index, const iovec* frames, size_t n, int32_t* result) {
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    auto entry = bound_.find(index[i]);
    int err;
    if (entry != bound_.end()) {
      ssize_t sent;
      do {
        sent = send(entry->second.get(), frames[i].iov_base, frames[i].iov_len, MSG_DONTWAIT);
      } while (sent < 0 && errno == EINTR);
      err = sent < 0 ? errno : 0;
    } else {
      err = SendUnbound(index[i], frames[i]);
    }
    result[i] = err;
    failures += err != 0 ? 1 : 0;
  }
  return failures;
}

void PacketFrames::Release(int ifindex) {
  bound_.erase(ifindex);
}

}  // namespace vmplumb
