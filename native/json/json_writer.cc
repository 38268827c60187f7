#include "json_writer.h"

#include <charconv>
#include <cmath>
#include <vector>

#include "../errors.h"
#include "../secure_memory/secure_writer.h"

namespace nomyo {
namespace {

constexpr size_t kMaxDepth = 512;

class JsonWriter {
 public:
  JsonWriter(Napi::Env env, size_t limit)
      : env_(env), out_(4096, limit), scratch_(MakeRegion(4096)) {}

  // Returns false when `value` serializes to nothing (undefined, functions, symbols).
  bool Write(napi_value holder_key, napi_value value) {
    napi_valuetype type;
    Check(napi_typeof(env_, value, &type));
    if (type == napi_object) {
      napi_value to_json = ToJsonMethod(value);
      if (to_json != nullptr) {
        napi_value result;
        napi_value key = holder_key != nullptr ? holder_key : EmptyString();
        Check(napi_call_function(env_, value, to_json, 1, &key, &result));
        value = result;
        Check(napi_typeof(env_, value, &type));
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
      case napi_object: WriteObjectOrArray(value); return true;
    }
    return false;
  }

  SharedRegion Finish() { return out_.finish(); }

 private:
  void Check(napi_status status) {
    if (status == napi_ok) return;
    if (status == napi_pending_exception) throw env_.GetAndClearPendingException();
    throw MakeTypeError(env_, code::kNotSerializable, "the value cannot be serialized to JSON");
  }

  napi_value EmptyString() {
    napi_value s;
    Check(napi_create_string_utf8(env_, "", 0, &s));
    return s;
  }

  napi_value ToJsonMethod(napi_value object) {
    napi_value method;
    Check(napi_get_named_property(env_, object, "toJSON", &method));
    napi_valuetype type;
    Check(napi_typeof(env_, method, &type));
    return type == napi_function ? method : nullptr;
  }

  void WriteNumber(napi_value value) {
    double d;
    Check(napi_get_value_double(env_, value, &d));
    if (!std::isfinite(d)) {
      out_.append("null");
      return;
    }
    char buf[32];
    std::to_chars_result r;
    if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0) {
      r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(d));
    } else {
      r = std::to_chars(buf, buf + sizeof buf, d);
    }
    out_.append(buf, static_cast<size_t>(r.ptr - buf));
  }

  void WriteString(napi_value value) {
    size_t length;
    Check(napi_get_value_string_utf8(env_, value, nullptr, 0, &length));
    if (length + 1 > scratch_->size()) scratch_ = MakeRegion(length + 1 + length / 2);
    Check(napi_get_value_string_utf8(env_, value, reinterpret_cast<char*>(scratch_->data()),
                                     length + 1, &length));
    WriteEscaped(scratch_->data(), length);
    // The scratch region stays allocated for the next string but must not keep this one.
    scratch_->wipe();
  }

  void WriteEscaped(const uint8_t* s, size_t n) {
    static const char kHex[] = "0123456789abcdef";
    out_.append('"');
    size_t run_start = 0;
    for (size_t i = 0; i < n; i++) {
      uint8_t c = s[i];
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s + run_start, i - run_start);
      run_start = i + 1;
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
    }
    out_.append(s + run_start, n - run_start);
    out_.append('"');
  }

  void WriteObjectOrArray(napi_value value) {
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
    bool is_array;
    Check(napi_is_array(env_, value, &is_array));
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
      napi_value element, index;
      Check(napi_get_element(env_, array, i, &element));
      Check(napi_create_uint32(env_, i, &index));
      napi_value index_key;
      Check(napi_coerce_to_string(env_, index, &index_key));
      if (!Write(index_key, element)) out_.append("null");
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
      if (Write(key, member)) {
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
};

}  // namespace

SharedRegion SerializeJson(Napi::Env env, Napi::Value value, size_t limit) {
  JsonWriter writer(env, limit);
  try {
    if (!writer.Write(nullptr, value)) {
      throw MakeTypeError(env, code::kNotSerializable, "the value has no JSON representation");
    }
  } catch (const LimitExceeded&) {
    throw MakeError(env, code::kTooLarge, "the serialized request exceeds the size limit");
  }
  return writer.Finish();
}

}  // namespace nomyo
