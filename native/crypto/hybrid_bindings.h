// seal() and open(): the hybrid scheme, run on the crypto threads.
#pragma once

#include <napi.h>

namespace nomyo {

void RegisterHybridCrypto(Napi::Env env, Napi::Object exports);

}  // namespace nomyo
