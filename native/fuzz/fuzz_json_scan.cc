// libFuzzer: the JSON scanner that finds values inside a decrypted response.
// Validation, path lookup and string decoding must agree and never overrun.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>

#include "../json/json_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool ready = [] { return sodium_init() >= 0; }();
  if (!ready) abort();
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
