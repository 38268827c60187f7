#include "hybrid_bindings.h"

#include "../async_promise.h"
#include "../keys/key_objects.h"
#include "../secure_memory/secure_buffer.h"
#include "hybrid.h"

namespace nomyo {
namespace {

// Wire names of the package's encrypted fields.
constexpr const char* kCiphertext = "ciphertext";
constexpr const char* kNonce = "nonce";
constexpr const char* kTag = "tag";
constexpr const char* kEncryptedKey = "encrypted_aes_key";

Napi::Value SealBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedRegionUse plaintext = UseRegion(SecureBuffer::FromArgument(info[0], "plaintext"));
  SharedPkey recipient = PublicKey::FromArgument(info[1], "recipient");
  return PromiseWorker<PackageFields>::Run(
      env, [plaintext, recipient] { return Seal(**plaintext, recipient.get()); },
      [](Napi::Env env, PackageFields& fields) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set(kCiphertext, fields.ciphertext);
        out.Set(kNonce, fields.nonce);
        out.Set(kTag, fields.tag);
        out.Set(kEncryptedKey, fields.encrypted_key);
        return out;
      });
}

std::string StringField(const Napi::Object& fields, const char* name) {
  Napi::Value value = fields.Get(name);
  // A missing or mistyped field is a failed decryption like any other: the
  // caller learns nothing about which part of the package was wrong.
  return value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string("!");
}

Napi::Value OpenBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "expected (fields, privateKey)");
  }
  Napi::Object object = info[0].As<Napi::Object>();
  PackageFields fields{StringField(object, kCiphertext), StringField(object, kNonce),
                       StringField(object, kTag), StringField(object, kEncryptedKey)};
  SharedPkey key = PrivateKey::FromArgument(info[1], "privateKey");
  return PromiseWorker<SharedRegion>::Run(
      env, [fields = std::move(fields), key] { return Open(fields, key.get()); },
      [](Napi::Env env, SharedRegion& plaintext) -> Napi::Value {
        return SecureBuffer::Create(env, std::move(plaintext));
      });
}

}  // namespace

void RegisterHybridCrypto(Napi::Env env, Napi::Object exports) {
  exports.Set("seal", Napi::Function::New<SealBinding>(env, "seal"));
  exports.Set("open", Napi::Function::New<OpenBinding>(env, "open"));
}

}  // namespace nomyo
