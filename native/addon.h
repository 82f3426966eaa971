// Per-environment state of the addon and the entry points of its modules.
//
// No static state: each Node environment (main thread, every worker) gets its own Addon via
// napi_set_instance_data, so the addon is safe in worker threads (vitest runs tests in them).
#pragma once

#include <napi.h>

namespace vmplumb {

// Nothing yet: the modules keep their state in their objects. The struct stays as the one
// place per-environment state goes (never a static).
struct Addon {};

// Each module adds its functions and classes to `exports`.
void InitNetlink(Napi::Env env, Napi::Object exports, Addon& addon);   // netlink_socket.cc
void InitTun(Napi::Env env, Napi::Object exports, Addon& addon);       // tun.cc
void InitScm(Napi::Env env, Napi::Object exports, Addon& addon);       // scm.cc
void InitIcmp6(Napi::Env env, Napi::Object exports, Addon& addon);     // icmp6.cc
void InitPidfd(Napi::Env env, Napi::Object exports, Addon& addon);     // pidfd.cc
void InitRunFiles(Napi::Env env, Napi::Object exports, Addon& addon);  // runfiles.cc
void InitNfnl(Napi::Env env, Napi::Object exports, Addon& addon);      // nfnl_socket.cc
// Membership-only sockets for the router advertiser's ff02::2 joins.
void InitIpv6Membership(Napi::Env env, Napi::Object exports, Addon& addon);  // ipv6_membership.cc
// The codecs without a socket, for the codec tests (rtnlEncode, nfnlDecode, …).
void InitTestExports(Napi::Env env, Napi::Object exports, Addon& addon);  // test_exports.cc

}  // namespace vmplumb
