#include "key_objects.h"

#include "../addon_data.h"
#include "../async_promise.h"
#include "../errors.h"
#include "../failures.h"
#include "../secure_memory/secure_buffer.h"
#include "rsa_key.h"

namespace nomyo {

Napi::Function PrivateKey::Define(Napi::Env env) {
  return DefineClass(env, "PrivateKey",
                     {
                         StaticMethod<&PrivateKey::Generate>("generate"),
                         StaticMethod<&PrivateKey::ImportPem>("importPem"),
                         InstanceAccessor<&PrivateKey::Bits>("bits"),
                         InstanceAccessor<&PrivateKey::Disposed>("disposed"),
                         InstanceMethod<&PrivateKey::PublicKeyPem>("publicKeyPem"),
                         InstanceMethod<&PrivateKey::ExportPem>("exportPem"),
                         InstanceMethod<&PrivateKey::Dispose>("dispose"),
                     });
}

Napi::Object PrivateKey::Create(Napi::Env env, SharedPkey key) {
  auto* holder = new SharedPkey(std::move(key));
  auto external =
      Napi::External<SharedPkey>::New(env, holder, [](Napi::Env, SharedPkey* h) { delete h; });
  return GetAddonData(env).private_key.New({external});
}

PrivateKey::PrivateKey(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PrivateKey>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "PrivateKey is not constructible; use its factories");
  }
  key_ = std::move(*info[0].As<Napi::External<SharedPkey>>().Data());
  napi_type_tag_object(info.Env(), info.This(), &kTypeTag);
}

const SharedPkey& PrivateKey::Key(Napi::Env env) const {
  if (!key_) throw MakeError(env, code::kDisposed, "the private key was disposed");
  return key_;
}

SharedPkey PrivateKey::FromArgument(Napi::Value value, const char* name) {
  PrivateKey* key = UnwrapTagged<PrivateKey>(value);
  if (key == nullptr) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a PrivateKey");
  }
  return key->Key(value.Env());
}

Napi::Value PrivateKey::Generate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int bits =
      info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 4096;
  return PromiseWorker<SharedPkey>::Run(
      env, [bits] { return GenerateRsaKey(bits); },
      [](Napi::Env env, SharedPkey& key) -> Napi::Value { return Create(env, std::move(key)); });
}

Napi::Value PrivateKey::ImportPem(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedRegionUse pem = UseRegion(SecureBuffer::FromArgument(info[0], "pem"));
  SharedRegionUse password;
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    password = UseRegion(SecureBuffer::FromArgument(info[1], "password"));
  }
  return PromiseWorker<SharedPkey>::Run(
      env,
      [pem, password] { return ImportPrivateKeyPem(**pem, password ? password->get() : nullptr); },
      [](Napi::Env env, SharedPkey& key) -> Napi::Value { return Create(env, std::move(key)); });
}

Napi::Value PrivateKey::Bits(const Napi::CallbackInfo& info) {
  CheckReceiver(info, this);
  return Napi::Number::New(info.Env(), KeyBits(Key(info.Env()).get()));
}

Napi::Value PrivateKey::Disposed(const Napi::CallbackInfo& info) {
  CheckReceiver(info, this);
  return Napi::Boolean::New(info.Env(), !key_);
}

Napi::Value PrivateKey::PublicKeyPem(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EVP_PKEY* key = Key(env).get();
  return Napi::String::New(env, RunOrThrow(env, [key] { return ExportPublicKeyPem(key); }));
}

Napi::Value PrivateKey::ExportPem(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedPkey key = Key(env);
  SharedRegionUse password;
  if (info.Length() > 0 && !info[0].IsUndefined() && !info[0].IsNull()) {
    password = UseRegion(SecureBuffer::FromArgument(info[0], "password"));
  }
  return PromiseWorker<SharedRegion>::Run(
      env,
      [key, password] {
        return ExportPrivateKeyPem(key.get(), password ? password->get() : nullptr);
      },
      [](Napi::Env env, SharedRegion& pem) -> Napi::Value {
        return SecureBuffer::Create(env, std::move(pem));
      });
}

Napi::Value PrivateKey::Dispose(const Napi::CallbackInfo& info) {
  key_.reset();
  return info.Env().Undefined();
}

Napi::Function PublicKey::Define(Napi::Env env) {
  return DefineClass(env, "PublicKey",
                     {
                         StaticMethod<&PublicKey::ImportPem>("importPem"),
                         InstanceAccessor<&PublicKey::Bits>("bits"),
                         InstanceMethod<&PublicKey::ToPem>("toPem"),
                     });
}

PublicKey::PublicKey(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PublicKey>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "PublicKey is not constructible; use importPem");
  }
  key_ = std::move(*info[0].As<Napi::External<SharedPkey>>().Data());
  napi_type_tag_object(info.Env(), info.This(), &kTypeTag);
}

SharedPkey PublicKey::FromArgument(Napi::Value value, const char* name) {
  if (PublicKey* key = UnwrapTagged<PublicKey>(value)) return key->key_;
  if (UnwrapTagged<PrivateKey>(value) != nullptr) return PrivateKey::FromArgument(value, name);
  throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a PublicKey");
}

Napi::Value PublicKey::ImportPem(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "expected a PEM string");
  std::string pem = info[0].As<Napi::String>();
  SharedPkey key = RunOrThrow(env, [&] { return ImportPublicKeyPem(pem); });
  auto* holder = new SharedPkey(std::move(key));
  auto external =
      Napi::External<SharedPkey>::New(env, holder, [](Napi::Env, SharedPkey* h) { delete h; });
  return GetAddonData(env).public_key.New({external});
}

Napi::Value PublicKey::Bits(const Napi::CallbackInfo& info) {
  CheckReceiver(info, this);
  return Napi::Number::New(info.Env(), KeyBits(key_.get()));
}

Napi::Value PublicKey::ToPem(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EVP_PKEY* key = key_.get();
  return Napi::String::New(env, RunOrThrow(env, [key] { return ExportPublicKeyPem(key); }));
}

}  // namespace nomyo
