#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "addon.h"
#include "args.h"
#include "errors.h"

namespace vmplumb {

NetnsSpec NetnsSpecFromValue(const Napi::Value& value) {
  NetnsSpec spec;
  if (value.IsUndefined() || value.IsNull()) return spec;
  spec.current = false;
  if (value.IsString()) {
    // open(2) would stop at a NUL: "/run/netns/A\0x" would enter A.
    spec.path = args::String(value.Env(), value, "netns");
    if (spec.path.empty())
      args::Throw(value.Env(), "ERR_INVALID_ARG_VALUE", "The \"netns\" argument must not be empty");
  } else if (value.IsNumber()) {
    spec.fd = args::Int32(value.Env(), value, "netns");
  } else {
    args::WrongType(value.Env(), "netns", "a path, an fd or undefined");
  }
  return spec;
}

NetnsScope::NetnsScope(Napi::Env env, const NetnsSpec& spec) {
  if (spec.current) return;
  // On a throw below, the Fds close what is open (no destructor body: the thread has not moved).
  saved_.Reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!saved_.valid()) throw SystemError(env, errno, "open", "/proc/thread-self/ns/net");
  Fd opened;
  if (!spec.path.empty()) {
    opened.Reset(open(spec.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!opened.valid()) throw SystemError(env, errno, "open", spec.path);
  }
  if (setns(opened.valid() ? opened.get() : spec.fd, CLONE_NEWNET) < 0) {
    int err = errno;  // before building the detail string
    throw SystemError(env, err, "setns", spec.path.empty() ? "fd " + std::to_string(spec.fd) : spec.path);
  }
}

NetnsScope::~NetnsScope() {
  if (!saved_.valid()) return;
  if (setns(saved_.get(), CLONE_NEWNET) < 0) {
    std::perror("vmplumb: cannot return to the original network namespace");
    std::abort();
  }
}

}  // namespace vmplumb
