#include "json_writer.h"

#include <sodium.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "../errors.h"
#include "../secure_memory/secure_writer.h"
#include "json_scan.h"

namespace nomyo {
namespace {

constexpr size_t kMaxDepth = 512;

class JsonWriter {
 public:
  JsonWriter(Napi::Env env, size_t limit)
      : env_(env), out_(4096, limit), scratch_(MakeRegion(4096)) {}

  // Where a value sits, handed to its toJSON(key). Made into a JS string only
  // when a toJSON is there to call, which is rare.
  struct Holder {
    napi_value key = nullptr;  // an object member's key
    uint32_t index = 0;        // an array element's index, when key is null and in_array
    bool in_array = false;
  };

  // Returns false when `value` serializes to nothing (undefined, functions, symbols).
  bool Write(const Holder& holder, napi_value value) {
    napi_valuetype type;
    Check(napi_typeof(env_, value, &type));
    bool is_array = false;
    if (type == napi_object) {
      Check(napi_is_array(env_, value, &is_array));
      if (!is_array) {  // an array is never a boxed primitive
        value = UnboxPrimitive(value);
        Check(napi_typeof(env_, value, &type));
      }
    }
    if (type == napi_object) {
      napi_value to_json = ToJsonMethod(value);
      if (to_json != nullptr) {
        napi_value result;
        napi_value key = HolderKey(holder);
        Check(napi_call_function(env_, value, to_json, 1, &key, &result));
        value = result;
        Check(napi_typeof(env_, value, &type));
        if (type == napi_object) Check(napi_is_array(env_, value, &is_array));
      }
    }
    switch (type) {
      case napi_undefined:
      case napi_function:
      case napi_symbol:
      case napi_external: return false;
      case napi_null: out_.append("null"); return true;
      case napi_boolean: {
        bool b;
        Check(napi_get_value_bool(env_, value, &b));
        out_.append(b ? "true" : "false");
        return true;
      }
      case napi_number: WriteNumber(value); return true;
      case napi_string: WriteString(value); return true;
      case napi_bigint:
        throw MakeTypeError(env_, code::kNotSerializable, "a BigInt cannot be serialized to JSON");
      case napi_object: WriteObjectOrArray(value, is_array); return true;
    }
    return false;
  }

  SharedRegion Finish() {
    scratch_.reset();  // wiped and unlocked first, so the result can lock what it held
    return out_.finish();
  }

 private:
  void Check(napi_status status) {
    if (status == napi_ok) return;
    // Some calls (napi_get_property among them) report a throwing getter as a
    // generic failure with the exception pending: ask, rather than trust the status.
    bool pending = status == napi_pending_exception;
    if (!pending) napi_is_exception_pending(env_, &pending);
    if (pending) {
      // The caller's getter, toJSON or Proxy trap threw: say what failed, keep
      // their error as the cause, and never let its own `code` speak for the SDK.
      Napi::Error cause = env_.GetAndClearPendingException();
      Napi::Error error = MakeTypeError(env_, code::kNotSerializable,
                                        "the value cannot be serialized to JSON: reading it threw");
      error.Set("cause", cause.Value());
      throw error;
    }
    throw MakeTypeError(env_, code::kNotSerializable, "the value cannot be serialized to JSON");
  }

  napi_value EmptyString() {
    napi_value s;
    Check(napi_create_string_utf8(env_, "", 0, &s));
    return s;
  }

  napi_value Builtin(const char* constructor, const char* method) {
    napi_value global, ctor, prototype, function;
    Check(napi_get_global(env_, &global));
    Check(napi_get_named_property(env_, global, constructor, &ctor));
    Check(napi_get_named_property(env_, ctor, "prototype", &prototype));
    Check(napi_get_named_property(env_, prototype, method, &function));
    return function;
  }

  // Calls `function` with `self` as this; nullptr when it throws (the exception is cleared).
  napi_value TryCall(napi_value function, napi_value self) {
    napi_value result;
    if (napi_call_function(env_, self, function, 0, nullptr, &result) == napi_ok) return result;
    napi_value ignored;
    napi_get_and_clear_last_exception(env_, &ignored);
    return nullptr;
  }

  // JSON.stringify writes Number, String and Boolean objects as their primitive
  // values, and refuses BigInt objects. It goes by internal slot, not by
  // prototype, so objects from another realm (a vm context) count too: the tag
  // picks the candidate, and the builtin valueOf, which checks the slot, decides.
  napi_value UnboxPrimitive(napi_value value) {
    if (object_to_string_ == nullptr) object_to_string_ = Builtin("Object", "toString");
    napi_value tag_value = TryCall(object_to_string_, value);
    if (tag_value == nullptr) return value;
    char tag[24] = {0};
    size_t length = 0;
    if (napi_get_value_string_utf8(env_, tag_value, tag, sizeof tag, &length) != napi_ok)
      return value;
    const char* constructor = nullptr;
    if (strcmp(tag, "[object Number]") == 0) constructor = "Number";
    if (strcmp(tag, "[object String]") == 0) constructor = "String";
    if (strcmp(tag, "[object Boolean]") == 0) constructor = "Boolean";
    if (strcmp(tag, "[object BigInt]") == 0) constructor = "BigInt";
    if (constructor == nullptr) return value;
    napi_value primitive = TryCall(Builtin(constructor, "valueOf"), value);
    if (primitive == nullptr) return value;  // a tag without the slot: an ordinary object
    if (strcmp(constructor, "BigInt") == 0) {
      throw MakeTypeError(env_, code::kNotSerializable, "a BigInt cannot be serialized to JSON");
    }
    return primitive;
  }

  napi_value HolderKey(const Holder& holder) {
    if (holder.key != nullptr) return holder.key;
    if (!holder.in_array) return EmptyString();
    napi_value index, key;
    Check(napi_create_uint32(env_, holder.index, &index));
    Check(napi_coerce_to_string(env_, index, &key));
    return key;
  }

  napi_value ToJsonMethod(napi_value object) {
    if (to_json_key_ == nullptr) {
      Check(napi_create_string_utf8(env_, "toJSON", NAPI_AUTO_LENGTH, &to_json_key_));
    }
    napi_value method;
    Check(napi_get_property(env_, object, to_json_key_, &method));
    napi_valuetype type;
    Check(napi_typeof(env_, method, &type));
    return type == napi_function ? method : nullptr;
  }

  // ECMAScript Number::toString, as JSON.stringify writes numbers: the shortest
  // digits that round-trip, placed by the rules of ECMA-262 6.1.6.1.20.
  void WriteNumber(napi_value value) {
    double d;
    Check(napi_get_value_double(env_, value, &d));
    if (!std::isfinite(d)) {
      out_.append("null");
      return;
    }
    if (d == 0) {
      out_.append('0');  // also for -0
      return;
    }
    char sci[40];
    std::to_chars_result r = std::to_chars(sci, sci + sizeof sci, d, std::chars_format::scientific);
    // sci is "[-]D[.DDD]e[+-]XX": split into sign, digits and exponent.
    const char* p = sci;
    if (*p == '-') {
      out_.append('-');
      p++;
    }
    char digits[24];
    int k = 0;
    while (p < r.ptr && *p != 'e') {
      if (*p != '.') digits[k++] = *p;
      p++;
    }
    int exponent = 0;
    std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), r.ptr, exponent);
    int n = exponent + 1;  // the decimal point sits after n digits
    if (k <= n && n <= 21) {
      out_.append(digits, static_cast<size_t>(k));
      for (int i = k; i < n; i++) out_.append('0');
    } else if (0 < n && n <= 21) {
      out_.append(digits, static_cast<size_t>(n));
      out_.append('.');
      out_.append(digits + n, static_cast<size_t>(k - n));
    } else if (-6 < n && n <= 0) {
      out_.append("0.");
      for (int i = n; i < 0; i++) out_.append('0');
      out_.append(digits, static_cast<size_t>(k));
    } else {
      out_.append(digits[0]);
      if (k > 1) {
        out_.append('.');
        out_.append(digits + 1, static_cast<size_t>(k - 1));
      }
      char tail[8];
      int written = snprintf(tail, sizeof tail, "e%c%d", n - 1 < 0 ? '-' : '+', std::abs(n - 1));
      out_.append(tail, static_cast<size_t>(written));
    }
  }

  // Strings are read as UTF-16 (into secure scratch memory) so that lone
  // surrogates survive as \uXXXX escapes, as JSON.stringify writes them; a
  // UTF-8 read would have replaced them with U+FFFD.
  void WriteString(napi_value value) {
    size_t units;
    Check(napi_get_value_string_utf16(env_, value, nullptr, 0, &units));
    size_t bytes_needed = (units + 1) * sizeof(char16_t);
    if (bytes_needed > scratch_->size()) scratch_ = MakeRegion(bytes_needed + bytes_needed / 2);
    auto* text = reinterpret_cast<char16_t*>(scratch_->data());
    Check(napi_get_value_string_utf16(env_, value, text, units + 1, &units));
    WriteEscaped(text, units);
    // The scratch region stays allocated for the next string but must not keep this one.
    sodium_memzero(scratch_->data(), units * sizeof(char16_t));
  }

  static bool PlainAscii(char16_t c) { return c < 0x80 && c >= 0x20 && c != '"' && c != '\\'; }

  // How many leading units of s are ASCII that JSON writes as is. Eight units at
  // a time where SSE2 is there: a 10 MiB message is mostly such a run.
  static size_t PlainAsciiRun(const char16_t* s, size_t n) {
    size_t i = 0;
#ifdef __SSE2__
    const __m128i space = _mm_set1_epi16(0x20);
    const __m128i ascii_max = _mm_set1_epi16(0x7F);
    const __m128i quote = _mm_set1_epi16('"');
    const __m128i backslash = _mm_set1_epi16('\\');
    for (; i + 8 <= n; i += 8) {
      __m128i units = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
      // Signed compares are right here: units >= 0x8000 read as negative, so "< 0x20" catches them.
      __m128i bad = _mm_or_si128(_mm_cmplt_epi16(units, space), _mm_cmpgt_epi16(units, ascii_max));
      bad = _mm_or_si128(
          bad, _mm_or_si128(_mm_cmpeq_epi16(units, quote), _mm_cmpeq_epi16(units, backslash)));
      const uint32_t mask = static_cast<uint32_t>(_mm_movemask_epi8(bad));
      // Two mask bits a unit: the first unit that needs attention ends the run here.
      if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask)) / 2;
    }
#endif
    while (i < n && PlainAscii(s[i])) i++;
    return i;
  }

  static void NarrowAscii(const char16_t* s, size_t n, uint8_t* out) {
    size_t i = 0;
#ifdef __SSE2__
    for (; i + 16 <= n; i += 16) {
      __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
      __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 8));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(low, high));
    }
#endif
    for (; i < n; i++) out[i] = static_cast<uint8_t>(s[i]);
  }

  void WriteEscaped(const char16_t* s, size_t n) {
    static const char kHex[] = "0123456789abcdef";
    out_.append('"');
    size_t i = 0;
    while (i < n) {
      // Runs of ASCII that needs no escaping are narrowed straight into the output.
      size_t run = PlainAsciiRun(s + i, n - i);
      if (run > 0) {
        uint8_t* dst = out_.reserve(run);
        NarrowAscii(s + i, run, dst);
        out_.commit(run);
        i += run;
        continue;
      }
      char32_t c = s[i++];
      if (c < 0x20 || c == '"' || c == '\\') {
        switch (c) {
          case '"': out_.append("\\\""); break;
          case '\\': out_.append("\\\\"); break;
          case '\b': out_.append("\\b"); break;
          case '\f': out_.append("\\f"); break;
          case '\n': out_.append("\\n"); break;
          case '\r': out_.append("\\r"); break;
          case '\t': out_.append("\\t"); break;
          default: {
            char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
            out_.append(esc, sizeof esc);
          }
        }
        continue;
      }
      if (c >= 0xD800 && c <= 0xDBFF && i < n && s[i] >= 0xDC00 && s[i] <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (s[i++] - 0xDC00);
      } else if (c >= 0xD800 && c <= 0xDFFF) {
        char esc[6] = {'\\',         'u', kHex[c >> 12], kHex[(c >> 8) & 0xf], kHex[(c >> 4) & 0xf],
                       kHex[c & 0xf]};
        out_.append(esc, sizeof esc);
        continue;
      }
      AppendUtf8(out_, c);
    }
    out_.append('"');
  }

  void WriteObjectOrArray(napi_value value, bool is_array) {
    for (napi_value seen : stack_) {
      bool same;
      Check(napi_strict_equals(env_, seen, value, &same));
      if (same) {
        throw MakeTypeError(env_, code::kNotSerializable,
                            "a value with a cycle cannot be serialized to JSON");
      }
    }
    if (stack_.size() >= kMaxDepth) {
      throw MakeTypeError(env_, code::kNotSerializable, "the value is nested too deeply");
    }
    stack_.push_back(value);
    if (is_array) {
      WriteArray(value);
    } else {
      WriteObject(value);
    }
    stack_.pop_back();
  }

  void WriteArray(napi_value array) {
    uint32_t length;
    Check(napi_get_array_length(env_, array, &length));
    out_.append('[');
    for (uint32_t i = 0; i < length; i++) {
      if (i > 0) out_.append(',');
      napi_value element;
      Check(napi_get_element(env_, array, i, &element));
      Holder holder;
      holder.index = i;
      holder.in_array = true;
      if (!Write(holder, element)) out_.append("null");
    }
    out_.append(']');
  }

  void WriteObject(napi_value object) {
    napi_value keys;
    Check(napi_get_all_property_names(
        env_, object, napi_key_own_only,
        static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
        napi_key_numbers_to_strings, &keys));
    uint32_t count;
    Check(napi_get_array_length(env_, keys, &count));
    out_.append('{');
    bool first = true;
    for (uint32_t i = 0; i < count; i++) {
      napi_value key, member;
      Check(napi_get_element(env_, keys, i, &key));
      Check(napi_get_property(env_, object, key, &member));
      size_t mark = out_.length();
      if (!first) out_.append(',');
      WriteString(key);
      out_.append(':');
      Holder holder;
      holder.key = key;
      if (Write(holder, member)) {
        first = false;
      } else {
        out_.rewind(mark);  // the member serialized to nothing
      }
    }
    out_.append('}');
  }

  Napi::Env env_;
  SecureWriter out_;
  SharedRegion scratch_;
  std::vector<napi_value> stack_;
  napi_value object_to_string_ = nullptr;
  napi_value to_json_key_ = nullptr;
};

}  // namespace

SharedRegion SerializeJson(Napi::Env env, Napi::Value value, size_t limit) {
  JsonWriter writer(env, limit);
  try {
    if (!writer.Write({}, value)) {
      throw MakeTypeError(env, code::kNotSerializable, "the value has no JSON representation");
    }
  } catch (const LimitExceeded&) {
    throw MakeError(env, code::kTooLarge, "the serialized request exceeds the size limit");
  }
  return writer.Finish();
}

}  // namespace nomyo
