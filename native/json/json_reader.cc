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
    const uint8_t* quote = start - 1;
    while (p_ < end_ && *p_ != '"') {
      if (*p_ == '\\' && end_ - p_ >= 2) p_++;
      p_++;
    }
    if (p_ == end_) Fail("unterminated string");
    p_++;
    JsonSpan span{static_cast<size_t>(quote - begin_), static_cast<size_t>(p_ - begin_)};
    SecureWriter decoded(span.end - span.begin, span.end - span.begin);
    if (!DecodeJsonString(begin_, span, decoded)) Fail("bad string");
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
