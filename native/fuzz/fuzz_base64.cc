// libFuzzer: strict base64. Both decoders (the dispatched one, which may take a vector path,
// and the portable one) must accept exactly what an obvious reference decoder accepts, with
// the same bytes, and whatever decodes must re-encode to the same text. The input is also
// encoded as data, whole and in two slices, by both encoders, and must decode back. The
// length the decoder predicts from length and padding alone must match whenever it decodes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../crypto/base64.h"

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Written for obviousness, not speed: a bit accumulator fed one character at a time.
bool ReferenceDecode(const uint8_t* text, size_t size, std::vector<uint8_t>* out) {
  out->clear();
  if (size % 4 != 0) return false;
  size_t padding = 0;
  if (size > 0 && text[size - 1] == '=') padding = text[size - 2] == '=' ? 2 : 1;
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < size - padding; i++) {
    const void* hit = memchr(kAlphabet, text[i], 64);
    if (hit == nullptr) return false;
    bits = bits << 6 | static_cast<uint32_t>(static_cast<const char*>(hit) - kAlphabet);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out->push_back(static_cast<uint8_t>(bits >> count));
      bits &= (1u << count) - 1;
    }
  }
  // Canonical text leaves the bits that no output byte uses zero.
  return bits == 0;
}

using Encoder = size_t (*)(const uint8_t*, size_t, char*);
using Decoder = bool (*)(const char*, size_t, uint8_t*, size_t*);
const Encoder kEncoders[] = {nomyo::Base64EncodeTo, nomyo::base64_internal::EncodeToPortable};
const Decoder kDecoders[] = {nomyo::Base64DecodeStrictTo,
                             nomyo::base64_internal::DecodeStrictToPortable};

bool Same(const std::vector<char>& a, const char* b, size_t size) {
  return a.size() == size && std::equal(a.begin(), a.end(), b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  std::vector<uint8_t> want;
  const bool valid = ReferenceDecode(data, size, &want);

  for (Decoder decode : kDecoders) {
    // Exactly the promised room, so ASan sees any write past it.
    std::vector<uint8_t> out(nomyo::Base64MaxDecodedLength(size));
    size_t n = SIZE_MAX;
    const bool ok = decode(text, size, out.data(), &n);
    if (ok != valid) abort();
    if (!ok) {
      if (n != SIZE_MAX) abort();
      continue;
    }
    if (n != want.size() || !std::equal(want.begin(), want.end(), out.begin())) abort();
  }
  const auto decoded = nomyo::Base64DecodeStrict(text, size);
  if (decoded.has_value() != valid || (valid && *decoded != want)) abort();
  // The length known from the text's length and padding alone: exact whenever it decodes.
  const auto length = nomyo::Base64DecodedLength(text, size);
  if (valid && (!length || *length != want.size())) abort();

  if (valid) {
    for (Encoder encode : kEncoders) {
      std::vector<char> again(nomyo::Base64EncodedLength(want.size()));
      if (encode(want.data(), want.size(), again.data()) != again.size()) abort();
      if (!Same(again, text, size)) abort();
    }
    if (nomyo::Base64Encode(want.data(), want.size()) != std::string(text, size)) abort();
  }

  // The input as data. The first byte picks where to cut it, at a multiple of 3.
  const size_t cut = size == 0 ? 0 : std::min(size, size_t{3} * data[0]);
  std::vector<char> first(nomyo::Base64EncodedLength(size));
  for (Encoder encode : kEncoders) {
    std::vector<char> whole(first.size()), sliced(first.size());
    if (encode(data, size, whole.data()) != whole.size()) abort();
    size_t written = encode(data, cut, sliced.data());
    written += encode(data + cut, size - cut, sliced.data() + written);
    if (written != sliced.size() || sliced != whole) abort();
    if (encode == kEncoders[0]) first = whole;
    if (whole != first) abort();
  }
  for (Decoder decode : kDecoders) {
    std::vector<uint8_t> back(nomyo::Base64MaxDecodedLength(first.size()));
    size_t n = 0;
    if (!decode(first.data(), first.size(), back.data(), &n)) abort();
    if (n != size ||
        !std::equal(back.begin(), back.begin() + static_cast<std::ptrdiff_t>(n), data)) {
      abort();
    }
  }
  return 0;
}
