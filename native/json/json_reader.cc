#include "json_reader.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <string>

#include "../errors.h"
#include "../secure_memory/secure_writer.h"

namespace nomyo {
namespace {

constexpr size_t kMaxDepth = 512;

class JsonReader {
 public:
  JsonReader(Napi::Env env, const SecureRegion& json)
      : env_(env), p_(json.data()), begin_(json.data()), end_(json.data() + json.size()) {}

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
    // from_chars reports overflow as out of range; JSON.parse yields ±Infinity.
    if (result.ec == std::errc::result_out_of_range) {
      bool tiny = false;
      for (const uint8_t* q = start; q < p_; q++) {
        if (*q == 'e' || *q == 'E') {
          tiny = q + 1 < p_ && q[1] == '-';
          break;
        }
      }
      d = tiny ? 0.0 : std::numeric_limits<double>::infinity();
      if (*start == '-') d = -d;
    } else if (result.ec != std::errc()) {
      Fail("bad number");
    }
    return Napi::Number::New(env_, d);
  }

  static void AppendUtf8(SecureWriter& out, uint32_t cp) {
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

  uint32_t ParseHex4() {
    if (end_ - p_ < 4) Fail("bad \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
      uint8_t c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        Fail("bad \\u escape");
    }
    return v;
  }

  Napi::String ParseString() {
    p_++;  // opening quote
    const uint8_t* start = p_;
    // Fast path: no escapes, so the bytes go to V8 straight from secure memory.
    while (p_ < end_ && *p_ != '"' && *p_ != '\\' && *p_ >= 0x20) p_++;
    if (p_ < end_ && *p_ == '"') {
      Napi::String s = Napi::String::New(env_, reinterpret_cast<const char*>(start),
                                         static_cast<size_t>(p_ - start));
      p_++;
      return s;
    }
    // Escapes are decoded into a secure scratch region, never a plain buffer.
    SecureWriter decoded(static_cast<size_t>(p_ - start) + 64, static_cast<size_t>(end_ - begin_));
    decoded.append(start, static_cast<size_t>(p_ - start));
    for (;;) {
      if (p_ == end_) Fail("unterminated string");
      uint8_t c = *p_;
      if (c == '"') {
        p_++;
        break;
      }
      if (c < 0x20) Fail("control character in string");
      if (c != '\\') {
        const uint8_t* run = p_;
        while (p_ < end_ && *p_ != '"' && *p_ != '\\' && *p_ >= 0x20) p_++;
        decoded.append(run, static_cast<size_t>(p_ - run));
        continue;
      }
      p_++;
      if (p_ == end_) Fail("unterminated escape");
      switch (*p_++) {
        case '"': decoded.append('"'); break;
        case '\\': decoded.append('\\'); break;
        case '/': decoded.append('/'); break;
        case 'b': decoded.append('\b'); break;
        case 'f': decoded.append('\f'); break;
        case 'n': decoded.append('\n'); break;
        case 'r': decoded.append('\r'); break;
        case 't': decoded.append('\t'); break;
        case 'u': {
          uint32_t cp = ParseHex4();
          if (cp >= 0xD800 && cp <= 0xDBFF && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
            const uint8_t* save = p_;
            p_ += 2;
            uint32_t low = ParseHex4();
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              p_ = save;
            }
          }
          // A lone surrogate has no UTF-8 form; it becomes U+FFFD, as V8 would make it.
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          AppendUtf8(decoded, cp);
          break;
        }
        default: Fail("bad escape");
      }
    }
    SharedRegion bytes = decoded.finish();
    return Napi::String::New(env_, reinterpret_cast<const char*>(bytes->data()), bytes->size());
  }

  Napi::Env env_;
  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
};

}  // namespace

Napi::Value ParseJson(Napi::Env env, const SecureRegion& json) {
  return JsonReader(env, json).ParseDocument();
}

}  // namespace nomyo
