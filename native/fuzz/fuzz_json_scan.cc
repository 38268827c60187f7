// libFuzzer: the JSON scanner that finds values inside a decrypted response.
// Validation, path lookup and string decoding (into secure memory, and in place
// over a consumed document) must agree and never overrun.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../json/json_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool ready = [] { return sodium_init() >= 0; }();
  if (!ready) abort();
  // Any input that starts with a quote: the in-place decoder finds the end of
  // the string itself, and must agree with the span-based one on where and what.
  if (size > 0 && data[0] == '"') {
    std::vector<uint8_t> copy(data, data + size);
    size_t end = 0, length = 0;
    bool lone = false, ascii = true;
    bool in_place =
        nomyo::DecodeJsonStringInPlace(copy.data(), size, 0, &end, &length, &lone, &ascii);
    if (in_place) {
      if (end > size || length > end) abort();
      nomyo::SecureWriter out(64, size + 1);
      bool lone_too = false;
      if (!nomyo::DecodeJsonString(data, nomyo::JsonSpan{0, end}, out, &lone_too)) abort();
      nomyo::SharedRegion decoded = out.finish();
      if (decoded->size() != length || lone != lone_too) abort();
      if (length > 0 && memcmp(decoded->data(), copy.data() + 1, length) != 0) abort();
      bool any_high = false;
      for (size_t i = 1; i <= length; i++) any_high = any_high || copy[i] >= 0x80;
      if (ascii == any_high) abort();
    }
  }
  bool valid = nomyo::IsValidJson(data, size);
  std::optional<nomyo::JsonSpan> whole = nomyo::FindJsonValue(data, size, {});
  if (valid != whole.has_value()) abort();
  if (!valid) return 0;
  if (whole->end > size || whole->begin > whole->end) abort();
  const std::vector<std::vector<nomyo::JsonPathStep>> paths = {
      {{false, 0, "choices"}, {true, 0, ""}, {false, 0, "message"}, {false, 0, "content"}},
      {{true, 0, ""}},
      {{true, 1, ""}, {false, 0, "a"}},
      {{false, 0, ""}},
  };
  for (const auto& path : paths) {
    std::optional<nomyo::JsonSpan> span = nomyo::FindJsonValue(data, size, path);
    if (!span) continue;
    if (span->end > size || span->begin >= span->end) abort();
    if (!nomyo::IsValidJson(data + span->begin, span->end - span->begin)) abort();
    if (data[span->begin] == '"') {
      nomyo::SecureWriter out(64, size + 1);
      if (!nomyo::DecodeJsonString(data, *span, out)) abort();
    }
  }
  return 0;
}
