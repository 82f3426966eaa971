// Netlink socket plumbing shared by NETLINK_ROUTE (netlink_socket.cc) and NETLINK_NETFILTER
// (nfnl_socket.cc): opening a socket in a namespace, buffer sizes, bind, sendmsg to the
// kernel, and reading the kernel's answer to a request: NLMSG_ERROR (an ack, or an errno
// with the extended ack) and NLMSG_DONE (netlink(7) "NETLINK_EXT_ACK", include/uapi/linux/
// netlink.h "enum nlmsgerr_attrs").
#pragma once

#include <linux/netlink.h>
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fd.h"
#include "netns.h"

namespace vmplumb {

// socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | `flags`, `protocol`) inside `spec` (the socket
// keeps that namespace). Throws a SystemError naming `what` ("AF_NETLINK NETLINK_ROUTE").
Fd OpenNetlink(Napi::Env env, const NetnsSpec& spec, int protocol, int flags, const char* what);

// SO_RCVBUFFORCE / SO_SNDBUFFORCE pass rmem_max / wmem_max with CAP_NET_ADMIN; without it,
// the plain option (capped by the sysctl). Best effort: a smaller buffer still works.
void SetReceiveBuffer(int fd, int bytes);
void SetSendBuffer(int fd, int bytes);

// bind(2) to a kernel-chosen port id; returns it (getsockname). Throws a SystemError.
uint32_t BindNetlink(Napi::Env env, int fd);

// One sendmsg(2) of [data, data+len) to the kernel (port 0), retried on EINTR: 0 or an errno.
int SendToKernel(int fd, const void* data, size_t len);

// SIOCGIFINDEX on `fd`, which answers from the socket's namespace without the rtnl lock
// (dev_ioctl): the ifindex, 0 when there is no such link (or the name cannot be one), or a
// negative errno.
int LinkIndex(int fd, const std::string& name);

// The errno of an NLMSG_ERROR or NLMSG_DONE message as a positive number (0: an ack, or a
// dump's successful end); -1 when the message is too short to carry one.
int AnswerErrno(const nlmsghdr* h);

// The extended ack of an NLMSG_ERROR (or a failed NLMSG_DONE): the NLMSGERR_ATTR_*
// attributes, present when the kernel set NLM_F_ACK_TLVS.
struct ExtAck {
  std::optional<std::string> message;   // NLMSGERR_ATTR_MSG
  std::optional<uint32_t> offset;       // NLMSGERR_ATTR_OFFS: the offending attribute's offset
  std::optional<uint32_t> missingType;  // NLMSGERR_ATTR_MISS_TYPE
  uint32_t missingNest = 0;             // NLMSGERR_ATTR_MISS_NEST (0: top level)
};
ExtAck ParseExtAck(const nlmsghdr* h);

// ErrnoObject(err, syscall) with `extack` when the kernel said something.
Napi::Object NetlinkFailure(Napi::Env env, int err, const std::string& syscall, const ExtAck& ack);

}  // namespace vmplumb
