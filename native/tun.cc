// Placeholder: filled in by its own change.
#include "addon.h"

namespace vmplumb {

void InitTun(Napi::Env, Napi::Object, Addon&) {}

}  // namespace vmplumb
