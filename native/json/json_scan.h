// Finds values inside a JSON document held in secure memory, without building
// JS values: used to hand out one string of a response (still in locked memory)
// while the rest stays sealed away. Pure C++, so it can be fuzzed on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "../secure_memory/secure_writer.h"

namespace nomyo {

struct JsonSpan {
  size_t begin;  // offset of the value's first byte
  size_t end;    // one past its last byte
};

struct JsonPathStep {
  bool is_index;
  size_t index;
  std::string key;
};

// The span of the value at `path` (object keys and array indices), or nullopt
// when the document is not valid JSON or has no such value. As with JSON.parse,
// the last of duplicate keys wins.
std::optional<JsonSpan> FindJsonValue(const uint8_t* data, size_t size,
                                      const std::vector<JsonPathStep>& path);

// How many leading bytes of p (n bytes) need no attention inside a JSON string:
// no quote, backslash or control byte. Clears `ascii` if one of them is >= 0x80.
size_t JsonPlainRun(const uint8_t* p, size_t n, bool& ascii);

// Appends code point `cp` as UTF-8 (a surrogate code point as 3-byte WTF-8).
void AppendUtf8(SecureWriter& out, uint32_t cp);

// Calls `visit` for each member of the object at `object` (which must span
// exactly one object, surrounding whitespace allowed), with the decoded key and
// the value's span. False when it is not a valid object; duplicate keys are
// all visited, in order.
bool ForEachMember(const uint8_t* data, JsonSpan object,
                   const std::function<void(const std::string& key, JsonSpan value)>& visit);

// True when `data` is exactly one valid JSON value (surrounding whitespace allowed).
bool IsValidJson(const uint8_t* data, size_t size);

// Decodes the JSON string literal at span (quotes included) into `out` as UTF-8.
// Lone surrogate escapes have no UTF-8 form: with `lone_surrogates` null they
// become U+FFFD; otherwise they are written as 3-byte WTF-8 and the flag is set,
// so that a caller making a JS string can keep them, as JSON.parse does.
// Returns false when it is not a valid string.
bool DecodeJsonString(const uint8_t* data, JsonSpan span, SecureWriter& out,
                      bool* lone_surrogates = nullptr);

}  // namespace nomyo
