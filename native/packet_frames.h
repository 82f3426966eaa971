// Whole Ethernet frames sent to many interfaces of one namespace through packet(7) sockets:
// one bound to each interface, and one unbound for an interface that has none.
//
// Why one per interface: a packet socket told the interface per frame (sendto with
// sll_ifindex) has the kernel look the device up on every frame (dev_get_by_index, a walk of
// one of 256 hash chains: 32 devices long at 4,096 networks, each one a cache miss when the
// frames are spread over time). perf of bench:scale serving 4,096 networks put half of the
// kernel's time per periodic RA there. A socket bound to the interface keeps its device
// (packet_cached_dev_get) and sends without an address.
//
// The sockets are SOCK_RAW with protocol 0: they receive nothing (no protocol hook is
// registered), and the frame carries its own link-layer header, whose EtherType the kernel
// reads (packet_parse_headers). A bound socket whose device is deleted stays bound to nothing
// (the kernel unbinds it: ENXIO), never to another device that gets the same index.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "fd.h"
#include "netns.h"

namespace vmplumb {

class PacketFrames {
 public:
  // Opens the unbound socket in the namespace of `spec` and keeps a handle on that namespace
  // for later binds (a path could name another namespace by then). Throws a SystemError.
  PacketFrames(Napi::Env env, const NetnsSpec& spec);

  // The namespace the sockets are in, held open: whatever else must be made there (the raw
  // ICMPv6 socket) is made through this, not through a path that may name another by then.
  NetnsSpec netns() const;

  // Opens a socket bound to interface `ifindex` (replacing one it had): 0 or the errno, and
  // then the unbound socket goes on sending its frames.
  int Bind(int ifindex);

  // Closes interface `ifindex`'s socket: its interface went away or is no longer served.
  void Release(int ifindex);

  // Sends frames[i] on interface index[i], through its bound socket if it has one; result[i]
  // = 0 or the errno. Returns the failures.
  int Send(const int32_t* index, const iovec* frames, size_t n, int32_t* result);

 private:
  int SendUnbound(int ifindex, const iovec& frame);

  Fd netns_;  // the namespace's handle; invalid when it is the thread's own
  Fd unbound_;
  std::unordered_map<int, Fd> bound_;  // ifindex -> its bound socket
};

}  // namespace vmplumb
