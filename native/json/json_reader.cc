#include "json_reader.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <string>

#include "../errors.h"
#include "../secure_memory/secure_writer.h"
#include "json_scan.h"

namespace nomyo {
namespace {

constexpr size_t kMaxDepth = 512;

class JsonReader {
 public:
  JsonReader(Napi::Env env, const SecureRegion& json)
      : env_(env), p_(json.data()), begin_(json.data()), end_(json.data() + json.size()) {}
  // A reader that may overwrite the document as it goes (strings with escapes
  // are decoded in place); the caller wipes it afterwards.
  JsonReader(Napi::Env env, SecureRegion& json, bool consume) : JsonReader(env, json) {
    if (consume) writable_ = json.data();
  }

  Napi::Value ParseDocument() {
    SkipSpace();
    Napi::Value value = ParseValue(0);
    SkipSpace();
    if (p_ != end_) Fail("unexpected data after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void Fail(const char* what) {
    std::string message = std::string("invalid JSON at byte ") +
                          std::to_string(static_cast<size_t>(p_ - begin_)) + ": " + what;
    throw MakeError(env_, code::kJsonInvalid, message.c_str());
  }

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) p_++;
  }

  bool Consume(const char* literal) {
    size_t n = strlen(literal);
    if (static_cast<size_t>(end_ - p_) < n || memcmp(p_, literal, n) != 0) return false;
    p_ += n;
    return true;
  }

  Napi::Value ParseValue(size_t depth) {
    if (p_ == end_) Fail("unexpected end of input");
    switch (*p_) {
      case '{': return ParseObject(depth);
      case '[': return ParseArray(depth);
      case '"': return ParseString();
      case 't':
        if (Consume("true")) return Napi::Boolean::New(env_, true);
        break;
      case 'f':
        if (Consume("false")) return Napi::Boolean::New(env_, false);
        break;
      case 'n':
        if (Consume("null")) return env_.Null();
        break;
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return ParseNumber();
    }
    Fail("unexpected character");
  }

  Napi::Value ParseObject(size_t depth) {
    if (depth >= kMaxDepth) Fail("nested too deeply");
    p_++;
    Napi::Object object = Napi::Object::New(env_);
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      p_++;
      return object;
    }
    for (;;) {
      SkipSpace();
      if (p_ == end_ || *p_ != '"') Fail("expected a string key");
      Napi::String key = ParseString();
      SkipSpace();
      if (p_ == end_ || *p_ != ':') Fail("expected ':'");
      p_++;
      SkipSpace();
      Napi::Value value = ParseValue(depth + 1);
      // A define, not a set: "__proto__" must become an own property as with
      // JSON.parse, not replace the object's prototype.
      napi_property_descriptor descriptor = {
          nullptr, key, nullptr, nullptr, nullptr, value, napi_default_jsproperty, nullptr};
      if (napi_define_properties(env_, object, 1, &descriptor) != napi_ok) {
        throw env_.GetAndClearPendingException();
      }
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        p_++;
        continue;
      }
      if (p_ < end_ && *p_ == '}') {
        p_++;
        return object;
      }
      Fail("expected ',' or '}'");
    }
  }

  Napi::Value ParseArray(size_t depth) {
    if (depth >= kMaxDepth) Fail("nested too deeply");
    p_++;
    Napi::Array array = Napi::Array::New(env_);
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      p_++;
      return array;
    }
    uint32_t index = 0;
    for (;;) {
      SkipSpace();
      array.Set(index++, ParseValue(depth + 1));
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        p_++;
        continue;
      }
      if (p_ < end_ && *p_ == ']') {
        p_++;
        return array;
      }
      Fail("expected ',' or ']'");
    }
  }

  // The decimal exponent of a validated JSON number's first significant digit
  // (1 for "5", 0 for "0.5", -400 for 1e-401); only its sign matters here.
  static long long DecimalMagnitude(const uint8_t* p, const uint8_t* end) {
    if (*p == '-') p++;
    long long integer_digits = 0, leading_fraction_zeros = 0;
    bool significant = false;
    while (p < end && *p >= '0' && *p <= '9') {
      if (*p != '0' || significant) {
        significant = true;
        integer_digits++;
      }
      p++;
    }
    if (p < end && *p == '.') {
      p++;
      while (p < end && *p >= '0' && *p <= '9') {
        if (!significant && *p == '0') {
          leading_fraction_zeros++;
        } else {
          significant = true;
        }
        p++;
      }
    }
    long long exponent = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
      p++;
      bool negative = *p == '-';
      if (*p == '+' || *p == '-') p++;
      for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (exponent < 1000000000) exponent = exponent * 10 + (*p - '0');
      }
      if (negative) exponent = -exponent;
    }
    long long base = integer_digits > 0 ? integer_digits : -leading_fraction_zeros;
    return base + exponent;
  }

  Napi::Value ParseNumber() {
    const uint8_t* start = p_;
    if (*p_ == '-') p_++;
    if (p_ == end_) Fail("bad number");
    if (*p_ == '0') {
      p_++;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') p_++;
    } else {
      Fail("bad number");
    }
    if (p_ < end_ && *p_ == '.') {
      p_++;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') Fail("bad number");
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') p_++;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      p_++;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) p_++;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') Fail("bad number");
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') p_++;
    }
    double d = 0;
    auto result =
        std::from_chars(reinterpret_cast<const char*>(start), reinterpret_cast<const char*>(p_), d);
    if (result.ec == std::errc::result_out_of_range) {
      // JSON.parse rounds to ±Infinity or ±0: which one depends on where the
      // first significant digit sits, not on the sign of the exponent alone.
      d = DecimalMagnitude(start, p_) > 0 ? std::numeric_limits<double>::infinity() : 0.0;
      if (*start == '-') d = -d;
    } else if (result.ec != std::errc()) {
      Fail("bad number");
    }
    return Napi::Number::New(env_, d);
  }

  static bool IsAscii(const uint8_t* p, size_t n) {
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++) any |= p[i];  // vectorized by the compiler
    return (any & 0x80) == 0;
  }

  // Pure ASCII goes to V8 as Latin-1, which it copies without decoding UTF-8.
  Napi::String MakeString(const char* text, size_t length, bool ascii) {
    if (!ascii) return Napi::String::New(env_, text, length);
    napi_value value;
    if (napi_create_string_latin1(env_, text, length, &value) != napi_ok) {
      throw env_.GetAndClearPendingException();
    }
    return Napi::String(env_, value);
  }

  Napi::String ParseString() {
    p_++;  // opening quote
    const uint8_t* start = p_;
    // Fast path: no escapes, so the bytes go to V8 straight from secure memory;
    // pure ASCII as Latin-1, which V8 copies without decoding UTF-8.
    bool ascii = true;
    p_ += JsonPlainRun(p_, static_cast<size_t>(end_ - p_), ascii);
    if (p_ < end_ && *p_ == '"') {
      Napi::String s =
          MakeString(reinterpret_cast<const char*>(start), static_cast<size_t>(p_ - start), ascii);
      p_++;
      return s;
    }
    const uint8_t* quote = start - 1;
    if (writable_ != nullptr) {
      // Consuming: decoded over the literal in the same pass that finds its end.
      size_t end = 0, length = 0;
      bool lone_surrogates = false, decoded_ascii = true;
      if (!DecodeJsonStringInPlace(writable_, static_cast<size_t>(end_ - begin_),
                                   static_cast<size_t>(quote - begin_), &end, &length,
                                   &lone_surrogates, &decoded_ascii)) {
        Fail("bad string");
      }
      p_ = begin_ + end;
      const uint8_t* text = writable_ + (quote - begin_) + 1;
      if (lone_surrogates) return Wtf8ToString(text, length);
      return MakeString(reinterpret_cast<const char*>(text), length, decoded_ascii);
    }
    // Escapes are decoded into a secure scratch region, never a plain buffer.
    while (p_ < end_ && *p_ != '"') {
      if (*p_ == '\\' && end_ - p_ >= 2) p_++;
      p_++;
      p_ += JsonPlainRun(p_, static_cast<size_t>(end_ - p_), ascii);
    }
    if (p_ == end_) Fail("unterminated string");
    p_++;
    JsonSpan span{static_cast<size_t>(quote - begin_), static_cast<size_t>(p_ - begin_)};
    bool lone_surrogates = false;
    SecureWriter decoded(span.end - span.begin, span.end - span.begin);
    if (!DecodeJsonString(begin_, span, decoded, &lone_surrogates)) Fail("bad string");
    SharedRegion bytes = decoded.finish();
    if (lone_surrogates) return Wtf8ToString(bytes->data(), bytes->size());
    return MakeString(reinterpret_cast<const char*>(bytes->data()), bytes->size(),
                      IsAscii(bytes->data(), bytes->size()));
  }

  // A string with lone surrogates, decoded as WTF-8, becomes a JS string through
  // UTF-16 (in secure scratch memory), keeping the surrogates as JSON.parse does.
  Napi::String Wtf8ToString(const uint8_t* wtf8, size_t size) {
    SharedRegion units = MakeRegion(size * sizeof(char16_t));
    auto* out = reinterpret_cast<char16_t*>(units->data());
    size_t n = 0;
    const uint8_t* p = wtf8;
    const uint8_t* end = p + size;
    while (p < end) {
      uint32_t cp;
      if (*p < 0x80) {
        cp = *p++;
      } else if ((*p & 0xE0) == 0xC0 && end - p >= 2) {
        cp = (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu);
        p += 2;
      } else if ((*p & 0xF0) == 0xE0 && end - p >= 3) {
        cp = (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
        p += 3;
      } else if ((*p & 0xF8) == 0xF0 && end - p >= 4) {
        cp = (p[0] & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
        p += 4;
      } else {
        cp = 0xFFFD;  // invalid UTF-8 in the document itself, as V8 would render it
        p++;
      }
      if (cp >= 0x10000) {
        out[n++] = static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
        out[n++] = static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
      } else {
        out[n++] = static_cast<char16_t>(cp);
      }
    }
    return Napi::String::New(env_, out, n);
  }

  Napi::Env env_;
  uint8_t* writable_ = nullptr;
  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
};

}  // namespace

Napi::Value ParseJson(Napi::Env env, const SecureRegion& json) {
  return JsonReader(env, json).ParseDocument();
}

Napi::Value ConsumeJson(Napi::Env env, SecureRegion& json) {
  return JsonReader(env, json, true).ParseDocument();
}

}  // namespace nomyo
