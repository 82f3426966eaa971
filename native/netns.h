// Entering another network namespace for the duration of a socket(2) or open(2).
//
// setns(2) with CLONE_NEWNET changes only the calling thread; sockets and tun devices keep the
// namespace they were created in. So the pattern is: enter, create, leave, all synchronously
// on the JS thread, and the descriptor works from the original namespace afterwards.
#pragma once

#include <napi.h>

#include <string>

#include "fd.h"

namespace vmplumb {

// A namespace given from JavaScript: undefined/null (the current one), a path such as
// /run/netns/NAME or /proc/PID/ns/net (TypeScript resolves bare names), or an open fd.
struct NetnsSpec {
  bool current = true;
  std::string path;
  int fd = -1;
};

// Reads a NetnsSpec from a JS value; throws a TypeError for anything else.
NetnsSpec NetnsSpecFromValue(const Napi::Value& value);

// RAII: enters the namespace in the constructor (throws a SystemError on failure) and
// returns to the original one in the destructor. Returning cannot fail in practice (we hold
// an fd of the original namespace); if it ever does, the process aborts rather than go on
// running the JS thread in the wrong namespace.
class NetnsScope {
 public:
  NetnsScope(Napi::Env env, const NetnsSpec& spec);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  Fd saved_;  // the thread's namespace before; closed after the way back
};

}  // namespace vmplumb
