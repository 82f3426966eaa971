#include "errors.h"

#include <uv.h>

#include <cstring>

#include "addon.h"

namespace vmplumb {

std::string ErrnoName(int err) {
  const char* name = uv_err_name(-err);
  // libuv answers "Unknown system error N" for codes it has no name for.
  if (name != nullptr && std::strncmp(name, "Unknown", 7) != 0) return std::string(name);
  std::string fallback("E");
  fallback.append(std::to_string(err));
  return fallback;
}

Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall, const std::string& detail) {
  std::string code = ErrnoName(err);
  std::string message = syscall + " " + code + ": " + std::strerror(err);
  if (!detail.empty()) message += " (" + detail + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

}  // namespace vmplumb
