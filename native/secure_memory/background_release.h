// Gives a large secret's pages back on the threadpool. The wipe is done here,
// on the calling thread, before anything else returns; only the unlocking and
// unmapping of megabytes, which hold nothing any more, are left to a
// threadpool thread so that they do not hold up the JS thread.
#pragma once

#include <napi.h>

#include "secure_region.h"

namespace nomyo {

// Regions from this size on are unmapped in the background; smaller ones at once.
constexpr size_t kBackgroundReleaseBytes = size_t{1} << 20;

// Wipes `region` (as dispose() does) and drops this reference to it: for a
// large one, on the threadpool. Never throws; call it with no JS exception
// pending.
void ReleaseRegion(Napi::Env env, SharedRegion region);

}  // namespace nomyo
