// Placeholder: filled in by its own change.
#include "addon.h"

namespace vmplumb {

void InitNetlink(Napi::Env, Napi::Object, Addon&) {}

}  // namespace vmplumb
