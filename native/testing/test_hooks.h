// Hooks that let tests see what production code must never show: whether a
// region was zero at release, and where a secret lives. Compiled only when
// NOMYO_TEST_HOOKS is defined (the CMake test-hooks target), never by binding.gyp.
#pragma once

#include <napi.h>

namespace nomyo {

void RegisterTestHooks(Napi::Env env, Napi::Object exports);

}  // namespace nomyo
