// Standard-alphabet, padded base64, as the protocol specifies. Decoding is strict:
// no whitespace, no URL alphabet, no missing or extra padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nomyo {

std::string Base64Encode(const uint8_t* data, size_t size);

// nullopt unless `text` is canonical base64 of some byte string.
std::optional<std::vector<uint8_t>> Base64DecodeStrict(const char* text, size_t size);
inline std::optional<std::vector<uint8_t>> Base64DecodeStrict(const std::string& text) {
  return Base64DecodeStrict(text.data(), text.size());
}

}  // namespace nomyo
