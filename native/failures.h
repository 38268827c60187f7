// Turns the C++ failures of the core into the error codes the JS layer knows.
#pragma once

#include <napi.h>

#include <exception>
#include <new>

#include "crypto/hybrid.h"
#include "crypto/package_envelope.h"
#include "errors.h"
#include "keys/rsa_key.h"

namespace nomyo {

inline NativeFailure ClassifyCurrentException() {
  try {
    throw;
  } catch (const KeyFailure& failure) {
    return {failure.code, failure.message};
  } catch (const PackageRejected& rejected) {
    return {code::kBadPackage, rejected.message};
  } catch (const DecryptFailed&) {
    return {code::kDecryptFailed, "decryption failed"};
  } catch (const EncryptFailed&) {
    return {code::kEncryptFailed, "encryption failed"};
  } catch (const std::bad_alloc&) {
    return {code::kOutOfMemory, "out of memory"};
  }
}

// Runs a core operation on the JS thread, raising its failure as a JS error.
template <typename F>
auto RunOrThrow(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    NativeFailure failure = ClassifyCurrentException();
    throw MakeError(env, failure.code, failure.message.c_str());
  }
}

}  // namespace nomyo
