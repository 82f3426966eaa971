// System errors in the shape of Node's SystemError: `code` ('EEXIST'), `errno` (negative, as
// libuv and Node report it), `syscall`, and a message "syscall CODE: strerror (detail)".
#pragma once

#include <napi.h>

#include <string>

namespace vmplumb {

// `err` is a positive errno value as set by the C library.
Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall, const std::string& detail = "");

// The errno name libuv uses ("EEXIST"), or "E<number>" when libuv does not know it.
std::string ErrnoName(int err);

}  // namespace vmplumb
