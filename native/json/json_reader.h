// Parses JSON held in secure memory into JS values without first making a JS
// string of the whole document; strict RFC 8259, as JSON.parse.
#pragma once

#include <napi.h>

#include "../secure_memory/secure_region.h"

namespace nomyo {

// Throws a JS SyntaxError-like error (code NOMYO_JSON_INVALID) that names the
// offset, never the content.
Napi::Value ParseJson(Napi::Env env, const SecureRegion& json);

}  // namespace nomyo
