// Placeholder: filled in by its own change.
#include "addon.h"

namespace vmplumb {

void InitIcmp6(Napi::Env, Napi::Object, Addon&) {}

}  // namespace vmplumb
