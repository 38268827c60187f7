#include "base64.h"

#include <openssl/evp.h>

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

namespace {

constexpr uint8_t kInvalid = 0xFF;

// The decoding table of the standard alphabet; every other byte is invalid. (A
// table of our own: libsodium 1.0.18's decoder accepts some bytes >= 0x80, as
// fuzzing showed.)
struct DecodeTable {
  uint8_t value[256];
  constexpr DecodeTable() : value() {
    for (int i = 0; i < 256; i++) value[i] = kInvalid;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; i++) value[static_cast<uint8_t>(alphabet[i])] = static_cast<uint8_t>(i);
  }
};
constexpr DecodeTable kDecode;

}  // namespace

std::optional<std::vector<uint8_t>> Base64DecodeStrict(const char* text, size_t size) {
  const size_t n = size;
  if (n % 4 != 0) return std::nullopt;
  if (n == 0) return std::vector<uint8_t>();
  const auto* in = reinterpret_cast<const uint8_t*>(text);
  const size_t padding = in[n - 1] == '=' ? (in[n - 2] == '=' ? 2 : 1) : 0;
  std::vector<uint8_t> out(n / 4 * 3 - padding);
  uint8_t* o = out.data();
  const size_t full_quads = padding == 0 ? n / 4 : n / 4 - 1;
  uint8_t bad = 0;
  for (size_t q = 0; q < full_quads; q++, in += 4, o += 3) {
    uint8_t a = kDecode.value[in[0]], b = kDecode.value[in[1]];
    uint8_t c = kDecode.value[in[2]], d = kDecode.value[in[3]];
    bad |= static_cast<uint8_t>((a | b | c | d) & 0xC0);
    o[0] = static_cast<uint8_t>(a << 2 | b >> 4);
    o[1] = static_cast<uint8_t>(b << 4 | c >> 2);
    o[2] = static_cast<uint8_t>(c << 6 | d);
  }
  if (bad) return std::nullopt;
  if (padding > 0) {
    uint8_t a = kDecode.value[in[0]], b = kDecode.value[in[1]];
    if ((a | b) & 0xC0) return std::nullopt;
    o[0] = static_cast<uint8_t>(a << 2 | b >> 4);
    if (padding == 2) {
      // "xy==": the unused low 4 bits of y must be zero, or the text is not canonical.
      if (b & 0x0F) return std::nullopt;
    } else {
      uint8_t c = kDecode.value[in[2]];
      if ((c & 0xC0) || (c & 0x03)) return std::nullopt;
      o[1] = static_cast<uint8_t>(b << 4 | c >> 2);
    }
  }
  return out;
}

}  // namespace nomyo
