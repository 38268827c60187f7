// Releases a large secret's region on the threadpool: the wipe and the
// unmapping of megabytes need not hold up the JS thread once nothing can read
// the bytes any more (the secret's JS handle is already disposed).
#pragma once

#include <napi.h>

#include "secure_region.h"

namespace nomyo {

// Regions from this size on are released in the background; smaller ones at once.
constexpr size_t kBackgroundReleaseBytes = size_t{1} << 20;

// Wipes (as dispose() does) and drops `region`: on the threadpool when it is
// large, right here otherwise or when no work can be queued.
void ReleaseRegion(Napi::Env env, SharedRegion region);

}  // namespace nomyo
