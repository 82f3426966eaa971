// Netlink socket plumbing shared by rtnetlink and nfnetlink (see netlink_io.h).
#include "netlink_io.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "errors.h"
#include "netlink_attr.h"

namespace vmplumb {

namespace {

void SetBuffer(int fd, int forced, int plain, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, forced, &bytes, sizeof(bytes)) < 0)
    setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof(bytes));
}

// Where the NLMSGERR_ATTR_* attributes start in the payload of `h`: after the error code
// (NLMSG_DONE), or after struct nlmsgerr and, unless NLM_F_CAPPED, the request it echoes.
size_t ExtAckOffset(const nlmsghdr* h) {
  if (h->nlmsg_type != NLMSG_ERROR) return sizeof(int);
  size_t skip = sizeof(nlmsgerr);
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return skip;
  auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
  if (!(h->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > NLMSG_HDRLEN)
    skip += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
  return skip;
}

std::optional<uint32_t> U32Of(const nlattr* a) {
  if (AttrLen(a) < sizeof(uint32_t)) return std::nullopt;
  uint32_t value;
  std::memcpy(&value, AttrData(a), sizeof(value));
  return value;
}

}  // namespace

Fd OpenNetlink(Napi::Env env, const NetnsSpec& spec, int protocol, int flags, const char* what) {
  NetnsScope scope(env, spec);
  Fd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | flags, protocol));
  if (!fd.valid()) throw SystemError(env, errno, "socket", what);
  return fd;
}

void SetReceiveBuffer(int fd, int bytes) {
  SetBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, bytes);
}

void SetSendBuffer(int fd, int bytes) {
  SetBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, bytes);
}

uint32_t BindNetlink(Napi::Env env, int fd) {
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0)
    throw SystemError(env, errno, "bind", "AF_NETLINK");
  socklen_t len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) throw SystemError(env, errno, "getsockname");
  return local.nl_pid;
}

int SendToKernel(int fd, const void* data, size_t len) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  iovec iov{const_cast<void*>(data), len};
  msghdr msg{};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof(kernel);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? errno : 0;
}

int LinkIndex(int fd, const std::string& name) {
  if (name.size() >= IFNAMSIZ) return 0;
  ifreq req{};
  std::memcpy(req.ifr_name, name.c_str(), name.size());
  if (ioctl(fd, SIOCGIFINDEX, &req) < 0) return errno == ENODEV ? 0 : -errno;
  return req.ifr_ifindex;
}

int AnswerErrno(const nlmsghdr* h) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(int))) return -1;
  int err;
  std::memcpy(&err, NLMSG_DATA(h), sizeof(err));  // nlmsgerr.error, or NLMSG_DONE's int
  return err < 0 ? -err : 0;
}

ExtAck ParseExtAck(const nlmsghdr* h) {
  ExtAck ack;
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || h->nlmsg_len < NLMSG_HDRLEN) return ack;
  size_t payload = h->nlmsg_len - NLMSG_HDRLEN;
  size_t offset = ExtAckOffset(h);
  if (offset >= payload) return ack;
  for (const nlattr* a : NlAttrs(static_cast<const uint8_t*>(NLMSG_DATA(h)) + offset, payload - offset)) {
    switch (AttrType(a)) {
      case NLMSGERR_ATTR_MSG: {
        auto* text = reinterpret_cast<const char*>(AttrData(a));
        ack.message = std::string(text, strnlen(text, AttrLen(a)));
        break;
      }
      case NLMSGERR_ATTR_OFFS:
        ack.offset = U32Of(a);
        break;
      case NLMSGERR_ATTR_MISS_TYPE:
        ack.missingType = U32Of(a);
        break;
      case NLMSGERR_ATTR_MISS_NEST:
        if (auto nest = U32Of(a)) ack.missingNest = *nest;
        break;
      default:
        break;
    }
  }
  return ack;
}

Napi::Object NetlinkFailure(Napi::Env env, int err, const std::string& syscall, const ExtAck& ack) {
  Napi::Object e = ErrnoObject(env, err, syscall);
  if (ack.message) e.Set("extack", *ack.message);
  return e;
}

}  // namespace vmplumb
