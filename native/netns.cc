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
  saved_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved_ < 0) throw SystemError(env, errno, "open", "/proc/thread-self/ns/net");
  int target = spec.fd;
  if (!spec.path.empty()) {
    target = open(spec.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      int err = errno;
      close(saved_);
      saved_ = -1;
      throw SystemError(env, err, "open", spec.path);
    }
  }
  int rc = setns(target, CLONE_NEWNET);
  int err = errno;
  if (!spec.path.empty()) close(target);
  if (rc < 0) {
    close(saved_);
    saved_ = -1;
    throw SystemError(env, err, "setns", spec.path.empty() ? "fd " + std::to_string(spec.fd) : spec.path);
  }
}

NetnsScope::~NetnsScope() {
  if (saved_ < 0) return;
  if (setns(saved_, CLONE_NEWNET) < 0) {
    std::perror("vmplumb: cannot return to the original network namespace");
    std::abort();
  }
  close(saved_);
}

}  // namespace vmplumb
