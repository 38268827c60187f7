// JS handles to RSA keys. A PrivateKey's numbers never leave native memory
// except as a PEM in a SecureBuffer.
#pragma once

#include <napi.h>

#include "../crypto/openssl_ptr.h"

namespace nomyo {

class PrivateKey : public Napi::ObjectWrap<PrivateKey> {
 public:
  static constexpr napi_type_tag kTypeTag = {0x6e6f6d796f2d706bULL, 0x507269766174654bULL};
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Create(Napi::Env env, SharedPkey key);
  static SharedPkey FromArgument(Napi::Value value, const char* name);
  explicit PrivateKey(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Generate(const Napi::CallbackInfo& info);
  static Napi::Value ImportPem(const Napi::CallbackInfo& info);
  Napi::Value Bits(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value PublicKeyPem(const Napi::CallbackInfo& info);
  Napi::Value ExportPem(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  const SharedPkey& Key(Napi::Env env) const;

  SharedPkey key_;
};

class PublicKey : public Napi::ObjectWrap<PublicKey> {
 public:
  static constexpr napi_type_tag kTypeTag = {0x6e6f6d796f2d7075ULL, 0x5075626c69634b65ULL};
  static Napi::Function Define(Napi::Env env);
  // Accepts a PublicKey, or a PrivateKey (whose public half is used).
  static SharedPkey FromArgument(Napi::Value value, const char* name);
  explicit PublicKey(const Napi::CallbackInfo& info);

 private:
  static Napi::Value ImportPem(const Napi::CallbackInfo& info);
  Napi::Value Bits(const Napi::CallbackInfo& info);
  Napi::Value ToPem(const Napi::CallbackInfo& info);

  SharedPkey key_;
};

}  // namespace nomyo
