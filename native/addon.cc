// The addon's entry point: creates the per-environment state and lets every module register.
#include "addon.h"

namespace vmplumb {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* addon = new Addon();
  env.SetInstanceData<Addon>(addon);  // deleted by node-addon-api when the environment ends
  InitNetlink(env, exports, *addon);
  InitTun(env, exports, *addon);
  InitScm(env, exports, *addon);
  InitIcmp6(env, exports, *addon);
  InitIpv6Membership(env, exports, *addon);
  InitPidfd(env, exports, *addon);
  InitRunFiles(env, exports, *addon);
  InitNfnl(env, exports, *addon);
  InitTestExports(env, exports, *addon);
  return exports;
}

}  // namespace vmplumb

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return vmplumb::Init(env, exports);
}

NODE_API_MODULE(vmplumb, InitAddon)
