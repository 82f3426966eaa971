// Errors that keep the errno, in the two shapes the addon hands JavaScript:
// - SystemError: a thrown Error shaped as Node's SystemError: `code` ('EEXIST'), `errno`
//   (negative, as libuv and Node report it), `syscall`, and a message "syscall CODE: strerror
//   (detail)".
// - ErrnoObject: the plain object an asynchronous failure (a netlink request, an nf_tables
//   transaction) rejects with, the same fields plus `description` (strerror's text); TypeScript
//   turns it into a NetlinkError carrying the caller's stack (lib/native.ts
//   NativeNetlinkFailure).
#pragma once

#include <napi.h>

#include <string>

namespace vmplumb {

// `err` is a positive errno value as set by the C library.
Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall, const std::string& detail = "");

// { errno: -err, code, syscall, description }.
Napi::Object ErrnoObject(Napi::Env env, int err, const std::string& syscall);

// The errno name libuv uses ("EEXIST"), or "E<number>" when libuv does not know it.
std::string ErrnoName(int err);

}  // namespace vmplumb
