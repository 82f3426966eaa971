// Per-environment state of the addon and the entry points of its modules.
//
// No static state: each Node environment (main thread, every worker) gets its own Addon via
// napi_set_instance_data, so the addon is safe in worker threads (vitest runs tests in them).
#pragma once

#include <napi.h>

#include <string>
#include <unordered_map>

namespace vmplumb {

struct Addon {
  // Constructors of the classes the modules export, by class name.
  std::unordered_map<std::string, Napi::FunctionReference> classes;
};

// Each module adds its functions and classes to `exports`.
void InitErrors(Napi::Env env, Napi::Object exports, Addon& addon);
void InitNetns(Napi::Env env, Napi::Object exports, Addon& addon);
void InitNetlink(Napi::Env env, Napi::Object exports, Addon& addon);  // netlink_socket.cc
void InitTun(Napi::Env env, Napi::Object exports, Addon& addon);      // tun.cc
void InitScm(Napi::Env env, Napi::Object exports, Addon& addon);      // scm.cc
void InitIcmp6(Napi::Env env, Napi::Object exports, Addon& addon);    // icmp6.cc
void InitPidfd(Napi::Env env, Napi::Object exports, Addon& addon);    // pidfd.cc
void InitRunFiles(Napi::Env env, Napi::Object exports, Addon& addon); // runfiles.cc
void InitNfnl(Napi::Env env, Napi::Object exports, Addon& addon);     // nfnl_socket.cc

}  // namespace vmplumb
