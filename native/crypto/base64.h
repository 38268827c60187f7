// Standard-alphabet, padded base64, as the protocol specifies. Decoding is strict:
// no whitespace, no URL alphabet, no missing or extra padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nomyo {

// 4 * ceil(n / 3): the exact size of the base64 text of n bytes.
constexpr size_t Base64EncodedLength(size_t n) { return n / 3 * 4 + (n % 3 != 0 ? 4 : 0); }

// Writes exactly Base64EncodedLength(n) characters (no NUL) and returns that count. Each
// group of 3 input bytes maps to its own 4 characters, so encoding consecutive slices whose
// lengths are multiples of 3 (all but the last) gives the same text as one call.
size_t Base64EncodeTo(const uint8_t* data, size_t n, char* out);

std::string Base64Encode(const uint8_t* data, size_t size);

// Room the decoder may need for `text_size` characters of text; it never writes more.
constexpr size_t Base64MaxDecodedLength(size_t text_size) { return text_size / 4 * 3; }

// Decodes into `out`, which has room for Base64MaxDecodedLength(size) bytes, and sets
// *out_size. False unless `text` is canonical base64 of some byte string; then the contents
// of `out` are unspecified and *out_size is untouched.
bool Base64DecodeStrictTo(const char* text, size_t size, uint8_t* out, size_t* out_size);

// What `text` decodes to in length, should it be canonical base64: nullopt when
// its length or padding alone rule that out. Its characters are not checked.
std::optional<size_t> Base64DecodedLength(const char* text, size_t size);

// nullopt unless `text` is canonical base64 of some byte string.
std::optional<std::vector<uint8_t>> Base64DecodeStrict(const char* text, size_t size);
inline std::optional<std::vector<uint8_t>> Base64DecodeStrict(const std::string& text) {
  return Base64DecodeStrict(text.data(), text.size());
}

// The public functions above take a vector path on CPUs that have one. The portable kernels
// are exposed so that tests and the fuzzer can check both paths on the same machine.
namespace base64_internal {
size_t EncodeToPortable(const uint8_t* data, size_t n, char* out);
bool DecodeStrictToPortable(const char* text, size_t size, uint8_t* out, size_t* out_size);
// "avx2" or "portable": what the public functions use on this CPU.
const char* Implementation();
}  // namespace base64_internal

}  // namespace nomyo
