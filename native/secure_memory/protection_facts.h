// What memory protection is in force right now, measured rather than assumed.
#pragma once

#include <napi.h>

namespace nomyo {

void RegisterProtectionFacts(Napi::Env env, Napi::Object exports);

}  // namespace nomyo
