#include "json_scan.h"

#include <cstring>
#include <functional>

namespace nomyo {
namespace {

constexpr size_t kMaxDepth = 512;

class Scanner {
 public:
  Scanner(const uint8_t* data, size_t size) : data_(data), p_(data), end_(data + size) {}
  // For text already validated: strings are skipped by their closing quote alone.
  Scanner(const uint8_t* data, size_t size, bool validated) : Scanner(data, size) {
    validated_ = validated;
  }

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) p_++;
  }

  // A string literal at `span` (offsets in this scanner's text) that the caller
  // vouches is plain: crossed without reading it.
  void VouchFor(JsonSpan span) { vouched_ = span; }

  bool AtEnd() const { return p_ == end_; }
  size_t Offset() const { return static_cast<size_t>(p_ - data_); }

  // Skips one value; false on a syntax error.
  bool SkipValue(size_t depth) {
    if (p_ == end_ || depth > kMaxDepth) return false;
    switch (*p_) {
      case '{': return SkipObject(depth);
      case '[': return SkipArray(depth);
      case '"': return SkipString();
      case 't': return Literal("true");
      case 'f': return Literal("false");
      case 'n': return Literal("null");
      default: return SkipNumber();
    }
  }

  // Calls `visit` with each member of the object at the cursor (keys decoded,
  // value spans relative to `base`); false on a syntax error.
  bool Members(const uint8_t* base, size_t offset,
               const std::function<void(const std::string&, JsonSpan)>& visit) {
    SkipSpace();
    if (p_ == end_ || *p_ != '{') return false;
    p_++;
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      p_++;
      SkipSpace();
      return p_ == end_;
    }
    for (;;) {
      SkipSpace();
      size_t key_begin = Offset();
      if (p_ == end_ || *p_ != '"' || !SkipString()) return false;
      JsonSpan key{offset + key_begin, offset + Offset()};
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      p_++;
      SkipSpace();
      size_t value_begin = Offset();
      const size_t escapes_before = escapes_, jumps_before = jumps_;
      if (!SkipValue(1)) return false;
      // Free of escapes only if every byte of it was read: not over a jump.
      const JsonSpan value{offset + value_begin, offset + Offset(),
                           !validated_ && escapes_ == escapes_before && jumps_ == jumps_before};
      const char* raw = reinterpret_cast<const char*>(base + key.begin + 1);
      const size_t raw_size = key.end - key.begin - 2;
      if (memchr(raw, '\\', raw_size) == nullptr) {
        // No escapes: the key is its bytes (SkipString checked them).
        visit(std::string(raw, raw_size), value);
      } else {
        SecureWriter decoded(key.end - key.begin, key.end - key.begin + 1);
        if (!DecodeJsonString(base, key, decoded)) return false;
        SharedRegion key_bytes = decoded.finish();
        visit(std::string(reinterpret_cast<const char*>(key_bytes->data()), key_bytes->size()),
              value);
      }
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        p_++;
        continue;
      }
      if (*p_ != '}') return false;
      p_++;
      SkipSpace();
      return p_ == end_;
    }
  }

  // Walks `path` from the value at the cursor; on success the cursor is at the
  // target value's first byte.
  std::optional<JsonSpan> Find(const std::vector<JsonPathStep>& path, size_t step, size_t depth) {
    SkipSpace();
    if (step == path.size()) {
      size_t begin = Offset();
      if (!SkipValue(depth)) return std::nullopt;
      return JsonSpan{begin, Offset()};
    }
    const JsonPathStep& want = path[step];
    if (p_ == end_ || depth > kMaxDepth) return std::nullopt;
    if (want.is_index) {
      if (*p_ != '[') return std::nullopt;
      return FindInArray(path, step, depth);
    }
    if (*p_ != '{') return std::nullopt;
    return FindInObject(path, step, depth);
  }

 private:
  bool Literal(const char* word) {
    size_t n = strlen(word);
    if (static_cast<size_t>(end_ - p_) < n || memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  bool Digits() {
    const uint8_t* start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') p_++;
    return p_ != start;
  }

  bool SkipNumber() {
    if (p_ < end_ && *p_ == '-') p_++;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      p_++;
    } else if (*p_ >= '1' && *p_ <= '9') {
      Digits();
    } else {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      p_++;
      if (!Digits()) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      p_++;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) p_++;
      if (!Digits()) return false;
    }
    return true;
  }

  static bool IsHex(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  bool SkipString() {
    if (vouched_ && Offset() == vouched_->begin) {
      p_ = data_ + vouched_->end;
      jumps_++;
      return true;
    }
    if (validated_) return SkipValidatedString();
    p_++;  // opening quote
    while (p_ < end_) {
      bool ascii = true;
      p_ += JsonPlainRun(p_, static_cast<size_t>(end_ - p_), ascii);
      if (p_ == end_) return false;
      uint8_t c = *p_++;
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      escapes_++;
      if (p_ == end_) return false;
      uint8_t e = *p_++;
      if (e == 'u') {
        if (end_ - p_ < 4) return false;
        for (int i = 0; i < 4; i++) {
          if (!IsHex(p_[i])) return false;
        }
        p_ += 4;
      } else if (strchr("\"\\/bfnrt", e) == nullptr || e == 0) {
        return false;
      }
    }
    return false;
  }

  bool SkipArray(size_t depth) {
    p_++;
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      p_++;
      return true;
    }
    for (;;) {
      SkipSpace();
      if (!SkipValue(depth + 1)) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        p_++;
        continue;
      }
      if (*p_ == ']') {
        p_++;
        return true;
      }
      return false;
    }
  }

  bool SkipObject(size_t depth) {
    p_++;
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      p_++;
      return true;
    }
    for (;;) {
      SkipSpace();
      if (p_ == end_ || *p_ != '"' || !SkipString()) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      p_++;
      SkipSpace();
      if (!SkipValue(depth + 1)) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        p_++;
        continue;
      }
      if (*p_ == '}') {
        p_++;
        return true;
      }
      return false;
    }
  }

  // Compares a key literal (quotes included) with `want` after unescaping, in
  // secure scratch memory: keys of a response are not secret, but may be.
  bool KeyEquals(JsonSpan key, const std::string& want) {
    const uint8_t* raw = data_ + key.begin + 1;
    size_t raw_size = key.end - key.begin - 2;
    if (memchr(raw, '\\', raw_size) == nullptr) {
      return raw_size == want.size() && memcmp(raw, want.data(), raw_size) == 0;
    }
    SecureWriter decoded(want.size() + 16, end_ - data_);
    if (!DecodeJsonString(data_, key, decoded)) return false;
    SharedRegion bytes = decoded.finish();
    return bytes->size() == want.size() && memcmp(bytes->data(), want.data(), want.size()) == 0;
  }

  std::optional<JsonSpan> FindInObject(const std::vector<JsonPathStep>& path, size_t step,
                                       size_t depth) {
    p_++;
    std::optional<JsonSpan> found;
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      p_++;
      return found;
    }
    for (;;) {
      SkipSpace();
      size_t key_begin = Offset();
      if (p_ == end_ || *p_ != '"' || !SkipString()) return std::nullopt;
      JsonSpan key{key_begin, Offset()};
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return std::nullopt;
      p_++;
      SkipSpace();
      if (KeyEquals(key, path[step].key)) {
        // The last duplicate wins, so keep scanning the object after a match.
        const uint8_t* value_start = p_;
        found = Find(path, step + 1, depth + 1);
        p_ = value_start;
      }
      if (!SkipValue(depth + 1)) return std::nullopt;
      SkipSpace();
      if (p_ == end_) return std::nullopt;
      if (*p_ == ',') {
        p_++;
        continue;
      }
      if (*p_ == '}') {
        p_++;
        return found;
      }
      return std::nullopt;
    }
  }

  std::optional<JsonSpan> FindInArray(const std::vector<JsonPathStep>& path, size_t step,
                                      size_t depth) {
    p_++;
    std::optional<JsonSpan> found;
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      p_++;
      return found;
    }
    for (size_t i = 0;; i++) {
      SkipSpace();
      if (i == path[step].index) {
        const uint8_t* value_start = p_;
        found = Find(path, step + 1, depth + 1);
        p_ = value_start;
      }
      if (!SkipValue(depth + 1)) return std::nullopt;
      SkipSpace();
      if (p_ == end_) return std::nullopt;
      if (*p_ == ',') {
        p_++;
        continue;
      }
      if (*p_ == ']') {
        p_++;
        return found;
      }
      return std::nullopt;
    }
  }

  // In valid JSON a string ends at the first quote that is not escaped, that is
  // not preceded by an odd run of backslashes. memchr finds it far faster than
  // a validating walk: this is how a 14 MB base64 field is crossed a second time.
  bool SkipValidatedString() {
    const uint8_t* q = p_ + 1;
    for (;;) {
      q = static_cast<const uint8_t*>(memchr(q, '"', static_cast<size_t>(end_ - q)));
      if (q == nullptr) return false;
      size_t backslashes = 0;
      for (const uint8_t* b = q; b > p_ + 1 && b[-1] == '\\'; b--) backslashes++;
      if (backslashes % 2 == 0) {
        p_ = q + 1;
        return true;
      }
      q++;
    }
  }

  const uint8_t* data_;
  const uint8_t* p_;
  const uint8_t* end_;
  bool validated_ = false;
  std::optional<JsonSpan> vouched_;
  size_t escapes_ = 0;  // backslashes met in strings so far (validating walks only)
  size_t jumps_ = 0;    // vouched strings jumped over, unread
};

bool ReadHex4(const uint8_t*& p, const uint8_t* end, uint32_t& value) {
  if (end - p < 4) return false;
  value = 0;
  for (int i = 0; i < 4; i++) {
    uint8_t c = *p++;
    value <<= 4;
    if (c >= '0' && c <= '9')
      value |= c - '0';
    else if (c >= 'a' && c <= 'f')
      value |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      value |= c - 'A' + 10;
    else
      return false;
  }
  return true;
}

template <typename Out>
void AppendUtf8To(Out& out, uint32_t cp) {
  uint8_t b[4];
  size_t n;
  if (cp < 0x80) {
    b[0] = static_cast<uint8_t>(cp);
    n = 1;
  } else if (cp < 0x800) {
    b[0] = static_cast<uint8_t>(0xC0 | (cp >> 6));
    b[1] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    b[0] = static_cast<uint8_t>(0xE0 | (cp >> 12));
    b[1] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
    b[2] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    b[0] = static_cast<uint8_t>(0xF0 | (cp >> 18));
    b[1] = static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F));
    b[2] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
    b[3] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    n = 4;
  }
  out.append(b, n);
}

// Writes a decoded string over its own literal, from just after the opening
// quote: where the reader starts. An escape of k characters yields at most k
// bytes, so the writer never overtakes the reader, and until the first escape
// the two are at the same place and nothing moves.
class InPlaceOutput {
 public:
  explicit InPlaceOutput(uint8_t* at) : begin_(at), at_(at) {}
  void append(const void* bytes, size_t n) {
    if (at_ != bytes) memmove(at_, bytes, n);  // before the first escape, bytes are in place
    at_ += n;
  }
  void append(char c) { *at_++ = static_cast<uint8_t>(c); }
  size_t length() const { return static_cast<size_t>(at_ - begin_); }

  // Copies the plain run at `p` (the reader, at or ahead of the writer) and
  // returns where it stops. Prose stops every line or so, for an escaped
  // newline: once the writer is a block behind, each block is stored whole
  // instead of a copy of the run's exact length. The bytes stored past the stop
  // are overwritten by what follows, or, past the closing quote, left beyond
  // the decoded length.
  const uint8_t* CopyPlainRun(const uint8_t* p, const uint8_t* end, bool& ascii) {
#ifdef __SSE2__
    uint32_t high = 0;
    while (end - p >= 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const uint32_t stops = static_cast<uint32_t>(_mm_movemask_epi8(JsonStopLanes(bytes)));
      const uint32_t highs = static_cast<uint32_t>(_mm_movemask_epi8(bytes));
      const size_t gap = static_cast<size_t>(p - at_);
      // A whole block fits behind the reader: nothing unread is overwritten.
      if (gap >= 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(at_), bytes);
      const size_t n = stops == 0 ? 16 : static_cast<size_t>(__builtin_ctz(stops));
      if (gap != 0 && gap < 16) memmove(at_, p, n);
      high |= stops == 0 ? highs : highs & ((1u << n) - 1);
      p += n;
      at_ += n;
      if (stops != 0) break;
    }
    if (high != 0) ascii = false;
    if (end - p >= 16) return p;
#endif
    const uint8_t* run = p;
    p += JsonPlainRun(p, static_cast<size_t>(end - p), ascii);
    append(run, static_cast<size_t>(p - run));
    return p;
  }

 private:
  uint8_t* begin_;
  uint8_t* at_;
};

// Decodes the escape whose backslash is just before `p` into `out`; returns the
// position past it, or null when it is not a valid escape. Clears `ascii` if
// it decodes to anything >= 0x80.
template <typename Out>
const uint8_t* DecodeEscape(const uint8_t* p, const uint8_t* end, Out& out, bool* lone_surrogates,
                            bool& ascii) {
  if (p == end) return nullptr;
  switch (*p++) {
    case '"': out.append('"'); break;
    case '\\': out.append('\\'); break;
    case '/': out.append('/'); break;
    case 'b': out.append('\b'); break;
    case 'f': out.append('\f'); break;
    case 'n': out.append('\n'); break;
    case 'r': out.append('\r'); break;
    case 't': out.append('\t'); break;
    case 'u': {
      uint32_t cp;
      if (!ReadHex4(p, end, cp)) return nullptr;
      if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
        const uint8_t* save = p;
        p += 2;
        uint32_t low;
        if (ReadHex4(p, end, low) && low >= 0xDC00 && low <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else {
          p = save;
        }
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) {
        if (lone_surrogates == nullptr) {
          cp = 0xFFFD;
        } else {
          *lone_surrogates = true;
        }
      }
      if (cp >= 0x80) ascii = false;
      AppendUtf8To(out, cp);  // a surrogate code point comes out as WTF-8
      break;
    }
    default: return nullptr;
  }
  return p;
}

// Decodes a string literal's contents from `p` (just past its opening quote)
// into `out`; returns the position past its closing quote, or null when the
// text up to `end` holds no valid rest of a string. Clears `ascii` if anything
// decoded is >= 0x80.
template <typename Out>
const uint8_t* DecodeUntilQuote(const uint8_t* p, const uint8_t* end, Out& out,
                                bool* lone_surrogates, bool& ascii) {
  for (;;) {
    const uint8_t* run = p;
    p += JsonPlainRun(p, static_cast<size_t>(end - p), ascii);
    out.append(run, static_cast<size_t>(p - run));
    if (p == end) return nullptr;
    if (*p == '"') return p + 1;
    if (*p != '\\') return nullptr;  // a raw control character
    p = DecodeEscape(p + 1, end, out, lone_surrogates, ascii);
    if (p == nullptr) return nullptr;
  }
}

}  // namespace

void AppendUtf8(SecureWriter& out, uint32_t cp) { AppendUtf8To(out, cp); }

std::optional<JsonSpan> FindJsonValue(const uint8_t* data, size_t size,
                                      const std::vector<JsonPathStep>& path) {
  if (!IsValidJson(data, size)) return std::nullopt;
  Scanner scanner(data, size);
  return scanner.Find(path, 0, 0);
}

bool ForEachMember(const uint8_t* data, JsonSpan object,
                   const std::function<void(const std::string& key, JsonSpan value)>& visit,
                   bool validated, std::optional<JsonSpan> plain_string) {
  Scanner scanner(data + object.begin, object.end - object.begin, validated);
  if (plain_string && plain_string->begin >= object.begin && plain_string->end <= object.end &&
      plain_string->end - plain_string->begin >= 2) {
    scanner.VouchFor(
        JsonSpan{plain_string->begin - object.begin, plain_string->end - object.begin});
  }
  return scanner.Members(data, object.begin, visit);
}

bool IsValidJson(const uint8_t* data, size_t size) {
  Scanner scanner(data, size);
  scanner.SkipSpace();
  if (!scanner.SkipValue(0)) return false;
  scanner.SkipSpace();
  return scanner.AtEnd();
}

bool DecodeJsonString(const uint8_t* data, JsonSpan span, SecureWriter& out,
                      bool* lone_surrogates) {
  if (span.end - span.begin < 2 || data[span.begin] != '"' || data[span.end - 1] != '"') {
    return false;
  }
  bool ascii = true;
  return DecodeUntilQuote(data + span.begin + 1, data + span.end, out, lone_surrogates, ascii) ==
         data + span.end;
}

bool DecodeJsonStringInPlace(uint8_t* data, size_t size, size_t begin, size_t* end, size_t* length,
                             bool* lone_surrogates, bool* ascii) {
  if (begin >= size || data[begin] != '"') return false;
  InPlaceOutput out(data + begin + 1);
  bool all_ascii = true;
  const uint8_t* p = data + begin + 1;
  const uint8_t* text_end = data + size;
  for (;;) {
    p = out.CopyPlainRun(p, text_end, all_ascii);
    if (p == text_end) return false;
    if (*p == '"') break;
    if (*p != '\\') return false;  // a raw control character
    p = DecodeEscape(p + 1, text_end, out, lone_surrogates, all_ascii);
    if (p == nullptr) return false;
  }
  *end = static_cast<size_t>(p + 1 - data);
  *length = out.length();
  *ascii = all_ascii;
  return true;
}

}  // namespace nomyo
