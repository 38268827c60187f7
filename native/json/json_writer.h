// Serializes a JS value to JSON straight into secure memory, with
// JSON.stringify's rules, so that no JS string of the request ever exists.
#pragma once

#include <napi.h>

#include "../secure_memory/secure_region.h"

namespace nomyo {

// Throws a JS error (code NOMYO_TOO_LARGE past `limit` bytes, NOMYO_NOT_SERIALIZABLE
// for cycles, BigInt and over-deep nesting).
SharedRegion SerializeJson(Napi::Env env, Napi::Value value, size_t limit);

}  // namespace nomyo
