// Placeholder: filled in by its own change.
#include "addon.h"

namespace vmplumb {

void InitScm(Napi::Env, Napi::Object, Addon&) {}

}  // namespace vmplumb
