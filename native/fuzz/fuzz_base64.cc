// libFuzzer: strict base64. Whatever decodes must re-encode to the same text.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "../crypto/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool ready = [] { return sodium_init() >= 0; }();
  if (!ready) abort();
  std::string text(reinterpret_cast<const char*>(data), size);
  auto decoded = nomyo::Base64DecodeStrict(text);
  if (decoded && nomyo::Base64Encode(decoded->data(), decoded->size()) != text) abort();
  return 0;
}
