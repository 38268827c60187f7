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

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "../secure_memory/secure_writer.h"

namespace nomyo {

struct JsonSpan {
  size_t begin;  // offset of the value's first byte
  size_t end;    // one past its last byte
  // No backslash anywhere in the value's text, as a validating walk found it
  // reading every byte (see ForEachMember); false when not known.
  bool unescaped = false;
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

#ifdef __SSE2__
// 0xFF in each lane of `bytes` that holds a quote, a backslash or a control byte.
inline __m128i JsonStopLanes(__m128i bytes) {
  // Unsigned: b <= 0x1F exactly when min(b, 0x1F) == b.
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x1F)), bytes);
  return _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')),
                                            _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))));
}
#endif

// How many leading bytes of p (n bytes) need no attention inside a JSON string:
// no quote, backslash or control byte. Clears `ascii` if one of them is >= 0x80.
// Inline: the parsers call it once per escape, which in prose is once a line.
inline size_t JsonPlainRun(const uint8_t* p, size_t n, bool& ascii) {
  size_t i = 0;
#ifdef __SSE2__
  uint32_t high = 0;
  size_t stop = 0;
  // One block; true when it holds a stop, whose offset goes to `stop`.
  auto block = [&](size_t at) {
    __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    const uint32_t stop_bits = static_cast<uint32_t>(_mm_movemask_epi8(JsonStopLanes(bytes)));
    const uint32_t high_bits = static_cast<uint32_t>(_mm_movemask_epi8(bytes));
    if (stop_bits == 0) {
      high |= high_bits;
      return false;
    }
    // Found within the block (ctz), not byte by byte after it.
    const unsigned before = static_cast<unsigned>(__builtin_ctz(stop_bits));
    high |= high_bits & ((1u << before) - 1);
    stop = at + before;
    return true;
  };
  auto finish = [&](size_t at) {
    if (high != 0) ascii = false;
    return at;
  };
  // Prose has a stop (an escaped newline or quote) every line or so: the first
  // 64 bytes go block by block.
  const size_t first = n < 64 ? n : 64;
  for (; i + 16 <= first; i += 16) {
    if (block(i)) return finish(stop);
  }
  if (i == 64) {
    // A long run (base64, a long line): 64 bytes a step, then the block that stops it.
    __m128i any_high = _mm_setzero_si128();
    for (; i + 64 <= n; i += 64) {
      __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 16));
      __m128i b2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 32));
      __m128i b3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 48));
      __m128i any = _mm_or_si128(_mm_or_si128(JsonStopLanes(b0), JsonStopLanes(b1)),
                                 _mm_or_si128(JsonStopLanes(b2), JsonStopLanes(b3)));
      if (_mm_movemask_epi8(any) != 0) break;
      any_high = _mm_or_si128(any_high, _mm_or_si128(_mm_or_si128(b0, b1), _mm_or_si128(b2, b3)));
    }
    high |= static_cast<uint32_t>(_mm_movemask_epi8(any_high));
    for (; i + 16 <= n; i += 16) {
      if (block(i)) return finish(stop);
    }
  }
  finish(i);
#endif
  for (; i < n && p[i] != '"' && p[i] != '\\' && p[i] >= 0x20; i++) {
    if (p[i] >= 0x80) ascii = false;
  }
  return i;
}

// Appends code point `cp` as UTF-8 (a surrogate code point as 3-byte WTF-8).
void AppendUtf8(SecureWriter& out, uint32_t cp);

// Calls `visit` for each member of the object at `object` (which must span
// exactly one object, surrounding whitespace allowed), with the decoded key and
// the value's span. False when it is not a valid object; duplicate keys are
// all visited, in order.
// `validated`: the span lies in text a validating call (ForEachMember,
// IsValidJson) accepted already, so strings are crossed without checking them.
// A validating walk marks the values it found free of escapes (`unescaped`).
// `plain_string`: a string literal (quotes included) that the caller vouches
// holds no quote, backslash or control byte, and checks itself: the walk
// jumps over it without reading it.
bool ForEachMember(const uint8_t* data, JsonSpan object,
                   const std::function<void(const std::string& key, JsonSpan value)>& visit,
                   bool validated = false, std::optional<JsonSpan> plain_string = std::nullopt);

// True when `data` is exactly one valid JSON value (surrounding whitespace allowed).
bool IsValidJson(const uint8_t* data, size_t size);

// Decodes the JSON string literal at span (quotes included) into `out` as UTF-8.
// Lone surrogate escapes have no UTF-8 form: with `lone_surrogates` null they
// become U+FFFD; otherwise they are written as 3-byte WTF-8 and the flag is set,
// so that a caller making a JS string can keep them, as JSON.parse does.
// Returns false when it is not a valid string.
bool DecodeJsonString(const uint8_t* data, JsonSpan span, SecureWriter& out,
                      bool* lone_surrogates = nullptr);

// The same for a document that is being consumed, in one pass: the string
// whose opening quote is at data[begin] (its end not known yet; the text ends
// at data[size]) is decoded over itself, from data[begin + 1] on, as the
// decoded bytes are never longer, so that a long string needs no second buffer.
// Sets `end` past the closing quote, `length` to the decoded size and `ascii`.
// The bytes after the decoded ones, up to `end`, are left unspecified (the
// caller wipes the whole document).
bool DecodeJsonStringInPlace(uint8_t* data, size_t size, size_t begin, size_t* end, size_t* length,
                             bool* lone_surrogates, bool* ascii);

}  // namespace nomyo
