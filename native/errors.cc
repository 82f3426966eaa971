#include "errors.h"

#include <uv.h>

#include <cstring>

namespace vmplumb {

namespace {

// The fields both shapes share, in the order Node's SystemError has them.
void SetErrnoFields(Napi::Object target, int err, const std::string& syscall) {
  Napi::Env env = target.Env();
  target.Set("errno", Napi::Number::New(env, -err));
  target.Set("code", Napi::String::New(env, ErrnoName(err)));
  target.Set("syscall", Napi::String::New(env, syscall));
}

}  // namespace

std::string ErrnoName(int err) {
  const char* name = uv_err_name(-err);
  // libuv answers "Unknown system error N" for codes it has no name for.
  if (name != nullptr && std::strncmp(name, "Unknown", 7) != 0) return std::string(name);
  std::string fallback("E");
  fallback.append(std::to_string(err));
  return fallback;
}

Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall, const std::string& detail) {
  std::string message = syscall + " " + ErrnoName(err) + ": " + std::strerror(err);
  if (!detail.empty()) message += " (" + detail + ")";
  Napi::Error error = Napi::Error::New(env, message);
  SetErrnoFields(error.Value(), err, syscall);
  return error;
}

Napi::Object ErrnoObject(Napi::Env env, int err, const std::string& syscall) {
  Napi::Object e = Napi::Object::New(env);
  SetErrnoFields(e, err, syscall);
  e.Set("description", Napi::String::New(env, std::strerror(err)));
  return e;
}

}  // namespace vmplumb
