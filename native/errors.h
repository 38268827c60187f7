// JS errors with the codes of error_codes.h. Messages never carry key material,
// plaintext or passwords.
#pragma once

#include <napi.h>

#include "error_codes.h"

namespace nomyo {

inline Napi::Error MakeError(Napi::Env env, const char* error_code, const char* message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, error_code));
  return error;
}

inline Napi::Error MakeTypeError(Napi::Env env, const char* error_code, const char* message) {
  Napi::Error error = Napi::TypeError::New(env, message);
  error.Set("code", Napi::String::New(env, error_code));
  return error;
}

}  // namespace nomyo
