#include "base64.h"

#include <cstring>

// The vector path needs GCC or clang for target attributes and __builtin_cpu_supports; other
// compilers and other CPUs get the portable code only.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NOMYO_BASE64_AVX2 1
#include <immintrin.h>
#endif

namespace nomyo {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr bool kLittleEndian = true;
#else
constexpr bool kLittleEndian = false;
#endif

// Two characters per 12 bits of input: four lookups, not eight, per 6 bytes.
struct EncodeTable {
  char pair[4096][2];
  constexpr EncodeTable() : pair() {
    for (int i = 0; i < 4096; i++) {
      pair[i][0] = kAlphabet[i >> 6];
      pair[i][1] = kAlphabet[i & 63];
    }
  }
};
constexpr EncodeTable kEncode;

// One table per position in a group of four characters. Each entry holds the character's
// bits already in place in the 3 output bytes (byte k at bits 8k), so a group decodes to
// the OR of four lookups. No valid character sets bit 31: invalid bytes (anything outside
// the alphabet, '=' included, and every byte >= 0x80) set it, so one test of an
// OR-accumulator checks a whole run of groups.
constexpr uint32_t kBad = 0x80000000u;
struct DecodeTables {
  uint32_t at[4][256];
  constexpr DecodeTables() : at() {
    for (auto& table : at) {
      for (uint32_t& entry : table) entry = kBad;
    }
    for (uint32_t v = 0; v < 64; v++) {
      const auto c = static_cast<uint8_t>(kAlphabet[v]);
      at[0][c] = v << 2;
      at[1][c] = v >> 4 | (v & 0x0F) << 12;
      at[2][c] = v >> 2 << 8 | (v & 0x03) << 22;
      at[3][c] = v << 16;
    }
  }
};
constexpr DecodeTables kDecode;

inline uint32_t DecodeGroup(const uint8_t* p) {
  return kDecode.at[0][p[0]] | kDecode.at[1][p[1]] | kDecode.at[2][p[2]] | kDecode.at[3][p[3]];
}

// Writes the 3 bytes of a decoded group, and one byte of garbage after them on
// little-endian machines (a single store), so only where the output has room for 4.
inline void Store3Plus1(uint8_t* o, uint32_t group) {
  if (kLittleEndian) {
    memcpy(o, &group, 4);
  } else {
    o[0] = static_cast<uint8_t>(group);
    o[1] = static_cast<uint8_t>(group >> 8);
    o[2] = static_cast<uint8_t>(group >> 16);
  }
}

inline uint64_t LoadBigEndian64(const uint8_t* p) {
#if defined(__GNUC__) || defined(__clang__)
  uint64_t v;
  memcpy(&v, p, 8);
  return kLittleEndian ? __builtin_bswap64(v) : v;
#else
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
#endif
}

inline void EncodeTriple(uint32_t v, char* o) {
  memcpy(o, kEncode.pair[v >> 12], 2);
  memcpy(o + 2, kEncode.pair[v & 0xFFF], 2);
}

// Encodes all of in[0, n) and returns the number of characters written.
size_t EncodePortable(const uint8_t* in, size_t n, char* out) {
  const uint8_t* p = in;
  char* o = out;
  // 64-bit loads: each one reads 8 bytes and uses the first 6.
  while (n - static_cast<size_t>(p - in) >= 14) {
    uint64_t a = LoadBigEndian64(p), b = LoadBigEndian64(p + 6);
    EncodeTriple(static_cast<uint32_t>(a >> 40), o);
    EncodeTriple(static_cast<uint32_t>(a >> 16) & 0xFFFFFF, o + 4);
    EncodeTriple(static_cast<uint32_t>(b >> 40), o + 8);
    EncodeTriple(static_cast<uint32_t>(b >> 16) & 0xFFFFFF, o + 12);
    p += 12;
    o += 16;
  }
  while (n - static_cast<size_t>(p - in) >= 3) {
    EncodeTriple(uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2], o);
    p += 3;
    o += 4;
  }
  const size_t rest = n - static_cast<size_t>(p - in);
  if (rest > 0) {
    const uint32_t v = uint32_t{p[0]} << 16 | (rest == 2 ? uint32_t{p[1]} << 8 : 0);
    EncodeTriple(v, o);
    o[3] = '=';
    if (rest == 1) o[2] = '=';
    o += 4;
  }
  return static_cast<size_t>(o - out);
}

// Decodes the groups in [p, end), all free of padding, to o. The caller guarantees room for
// one more byte past their output. False on any invalid byte.
bool DecodeBodyPortable(const uint8_t* p, const uint8_t* end, uint8_t* o) {
  uint32_t seen = 0;
  while (end - p >= 32) {
    for (int g = 0; g < 8; g++) {
      const uint32_t group = DecodeGroup(p + 4 * g);
      seen |= group;
      Store3Plus1(o + 3 * g, group);
    }
    if (seen & kBad) return false;
    p += 32;
    o += 24;
  }
  for (; p < end; p += 4, o += 3) {
    const uint32_t group = DecodeGroup(p);
    seen |= group;
    Store3Plus1(o, group);
  }
  return (seen & kBad) == 0;
}

// The last group, the only one that may hold padding. Returns the number of bytes it
// decodes to, or -1. `o` has room for exactly 3 bytes.
int DecodeLastGroup(const uint8_t* p, uint8_t* o) {
  uint32_t group;
  int bytes;
  if (p[3] != '=') {
    group = DecodeGroup(p);
    if (group & kBad) return -1;
    bytes = 3;
  } else if (p[2] == '=') {
    // "xy==": the low 4 bits of y are unused and must be zero for the text to be
    // canonical, which here means that nothing lands in the second output byte.
    group = kDecode.at[0][p[0]] | kDecode.at[1][p[1]];
    if (group & 0xFFFFFF00u) return -1;
    bytes = 1;
  } else {
    // "xyz=": likewise the low 2 bits of z, which would land in the third byte.
    group = kDecode.at[0][p[0]] | kDecode.at[1][p[1]] | kDecode.at[2][p[2]];
    if (group & 0xFFFF0000u) return -1;
    bytes = 2;
  }
  for (int i = 0; i < bytes; i++) o[i] = static_cast<uint8_t>(group >> (8 * i));
  return bytes;
}

#ifdef NOMYO_BASE64_AVX2

// Encodes 24 bytes per step while the loads (28 bytes) stay inside the input; the 32-byte
// stores then stay inside the output too. Returns the number of bytes consumed, a multiple
// of 3, for the portable code to continue from.
__attribute__((target("avx2"))) size_t EncodeBulkAvx2(const uint8_t* in, size_t n, char* out) {
  // Each lane takes 12 bytes; every 3 bytes s0 s1 s2 become a 32-bit word whose bytes are
  // s1 s0 s2 s1, i.e. 16-bit halves s0:s1 and s1:s2 holding the four 6-bit fields at bits
  // 10, 4 (first half) and 6, 0 (second half).
  const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10, 1, 0,
                                          2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  // Fields at bits 10 and 6 are shifted down to bits 0 of their halves with a high multiply;
  // those at 4 and 0 up to bit 8 with a low one; together one field per byte, in order.
  const __m256i high_fields = _mm256_set1_epi32(0x0FC0FC00);
  const __m256i high_shift = _mm256_set1_epi32(0x04000040);
  const __m256i low_fields = _mm256_set1_epi32(0x003F03F0);
  const __m256i low_shift = _mm256_set1_epi32(0x01000010);
  // Field to character: what to add, by range. Index 13 is 0-25 ('A'), 0 is 26-51 ('a'),
  // 1-10 are the digits, 11 is '+' and 12 is '/'.
  const __m256i offsets =
      _mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0, 71, -4, -4,
                       -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
  size_t i = 0;
  char* o = out;
  while (n - i >= 28) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 12));
    __m256i x = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    x = _mm256_shuffle_epi8(x, spread);
    const __m256i fields =
        _mm256_or_si256(_mm256_mulhi_epu16(_mm256_and_si256(x, high_fields), high_shift),
                        _mm256_mullo_epi16(_mm256_and_si256(x, low_fields), low_shift));
    __m256i range = _mm256_subs_epu8(fields, _mm256_set1_epi8(51));
    const __m256i upper = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), fields);
    range = _mm256_or_si256(range, _mm256_and_si256(upper, _mm256_set1_epi8(13)));
    const __m256i chars = _mm256_add_epi8(fields, _mm256_shuffle_epi8(offsets, range));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), chars);
    i += 24;
    o += 32;
  }
  return i;
}

// Decodes 32 characters per step while at least 48 remain, so that the last group (which
// may hold padding) is left to the portable code and the 32-byte stores (24 of them output)
// stay inside the output. Returns the number of characters consumed, a multiple of 4, or
// SIZE_MAX if it met an invalid byte.
__attribute__((target("avx2"))) size_t DecodeBulkAvx2(const uint8_t* in, size_t n, uint8_t* out) {
  // A byte is valid when its high nibble's class bit is clear in its low nibble's mask.
  // Classes: 0x01 high nibble 2 (valid low nibbles B, F: '+', '/'), 0x02 high 3 (0-9),
  // 0x04 high 4 and 6 (1-F), 0x08 high 5 and 7 (0-A), 0x10 every other high nibble
  // (never valid), which covers all bytes >= 0x80.
  const __m256i class_of_high =
      _mm256_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10,
                       0x10, 0x10, 0x10, 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10,
                       0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  const __m256i invalid_for_low =
      _mm256_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B,
                       0x1B, 0x1B, 0x1A, 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                       0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
  // What to add to a valid character to get its value, by high nibble; '/' shares '+''s
  // high nibble and is moved to the otherwise unused slot 1.
  const __m256i value_offset =
      _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 19, 4, -65,
                       -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  // Four 6-bit values a b c d per 32-bit word become a<<18 | b<<12 | c<<6 | d in two
  // multiply-adds; the shuffle then takes its 3 bytes most significant first, and the
  // permute closes the gap between the lanes.
  const __m256i pair_values = _mm256_set1_epi32(0x01400140);
  const __m256i join_pairs = _mm256_set1_epi32(0x00011000);
  const __m256i gather = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2,
                                          1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i close_gap = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  size_t i = 0;
  uint8_t* o = out;
  while (n - i >= 48) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    const __m256i high = _mm256_and_si256(_mm256_srli_epi32(c, 4), nibble);
    const __m256i low = _mm256_and_si256(c, nibble);
    const __m256i invalid = _mm256_and_si256(_mm256_shuffle_epi8(invalid_for_low, low),
                                             _mm256_shuffle_epi8(class_of_high, high));
    if (!_mm256_testz_si256(invalid, invalid)) return SIZE_MAX;
    const __m256i slot = _mm256_add_epi8(high, _mm256_cmpeq_epi8(c, _mm256_set1_epi8('/')));
    const __m256i values = _mm256_add_epi8(c, _mm256_shuffle_epi8(value_offset, slot));
    const __m256i words = _mm256_madd_epi16(_mm256_maddubs_epi16(values, pair_values), join_pairs);
    const __m256i bytes =
        _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(words, gather), close_gap);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), bytes);
    i += 32;
    o += 24;
  }
  return i;
}

bool HaveAvx2() {
  // The CPU model is filled in by a constructor; a first call from another file's static
  // initialisation could otherwise see it empty.
  static const bool have = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return have;
}

#else

bool HaveAvx2() { return false; }
size_t EncodeBulkAvx2(const uint8_t*, size_t, char*) { return 0; }
size_t DecodeBulkAvx2(const uint8_t*, size_t, uint8_t*) { return 0; }

#endif

size_t Encode(const uint8_t* data, size_t n, char* out, bool vector) {
  if (n == 0) return 0;
  const size_t done = vector ? EncodeBulkAvx2(data, n, out) : 0;
  const size_t written = done / 3 * 4;
  return written + EncodePortable(data + done, n - done, out + written);
}

bool Decode(const char* text, size_t size, uint8_t* out, size_t* out_size, bool vector) {
  if (size % 4 != 0) return false;
  if (size == 0) {
    *out_size = 0;
    return true;
  }
  const auto* in = reinterpret_cast<const uint8_t*>(text);
  size_t done = vector ? DecodeBulkAvx2(in, size, out) : 0;
  if (done == SIZE_MAX) return false;
  const size_t body = size - 4;
  uint8_t* o = out + done / 4 * 3;
  if (!DecodeBodyPortable(in + done, in + body, o)) return false;
  const int last = DecodeLastGroup(in + body, out + body / 4 * 3);
  if (last < 0) return false;
  *out_size = body / 4 * 3 + static_cast<size_t>(last);
  return true;
}

}  // namespace

size_t Base64EncodeTo(const uint8_t* data, size_t n, char* out) {
  return Encode(data, n, out, HaveAvx2());
}

std::string Base64Encode(const uint8_t* data, size_t size) {
  std::string out(Base64EncodedLength(size), '\0');
  if (size > 0) Base64EncodeTo(data, size, &out[0]);
  return out;
}

bool Base64DecodeStrictTo(const char* text, size_t size, uint8_t* out, size_t* out_size) {
  return Decode(text, size, out, out_size, HaveAvx2());
}

std::optional<size_t> Base64DecodedLength(const char* text, size_t size) {
  if (size % 4 != 0) return std::nullopt;
  size_t padding = 0;
  while (padding < size && padding < 3 && text[size - 1 - padding] == '=') padding++;
  if (padding > 2) return std::nullopt;
  return size / 4 * 3 - padding;
}

std::optional<std::vector<uint8_t>> Base64DecodeStrict(const char* text, size_t size) {
  if (size % 4 != 0) return std::nullopt;  // before allocating for it
  std::vector<uint8_t> out(Base64MaxDecodedLength(size));
  size_t n = 0;
  if (!Base64DecodeStrictTo(text, size, out.data(), &n)) return std::nullopt;
  out.resize(n);
  return out;
}

namespace base64_internal {

size_t EncodeToPortable(const uint8_t* data, size_t n, char* out) {
  return Encode(data, n, out, false);
}

bool DecodeStrictToPortable(const char* text, size_t size, uint8_t* out, size_t* out_size) {
  return Decode(text, size, out, out_size, false);
}

const char* Implementation() { return HaveAvx2() ? "avx2" : "portable"; }

}  // namespace base64_internal

}  // namespace nomyo
