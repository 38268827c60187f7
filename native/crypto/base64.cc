#include "base64.h"

#include <openssl/evp.h>
#include <sodium.h>

namespace nomyo {

std::string Base64Encode(const uint8_t* data, size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  // EVP_EncodeBlock takes an int length; encode in int-sized slices of whole triples.
  constexpr size_t kSlice = size_t{3} << 28;
  size_t in = 0, written = 0;
  while (in < size) {
    size_t n = size - in < kSlice ? size - in : kSlice;
    written += EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[written]), data + in,
                               static_cast<int>(n));
    in += n;
  }
  out.resize(written);
  return out;
}

std::optional<std::vector<uint8_t>> Base64DecodeStrict(const std::string& text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<uint8_t> out(text.size() / 4 * 3);
  size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &decoded, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(decoded);
  return out;
}

}  // namespace nomyo
