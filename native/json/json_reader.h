// Parses JSON held in secure memory into JS values without first making a JS
// string of the whole document; strict RFC 8259, as JSON.parse.
#pragma once

#include <napi.h>

#include "../secure_memory/secure_region.h"

namespace nomyo {

// Throws a JS SyntaxError-like error (code NOMYO_JSON_INVALID) that names the
// offset, never the content.
Napi::Value ParseJson(Napi::Env env, const SecureRegion& json);

// The same for a document that will not be read again: strings with escapes are
// decoded over the document's own bytes instead of into fresh secure memory.
// The caller wipes the region afterwards.
Napi::Value ConsumeJson(Napi::Env env, SecureRegion& json);

}  // namespace nomyo
