#include "hybrid_bindings.h"

#include "../async_promise.h"
#include "../keys/key_objects.h"
#include "../secure_memory/secure_buffer.h"
#include "crypto_threads.h"
#include "hybrid.h"
#include "package_envelope.h"

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
      env,
      [plaintext, recipient] {
        return OnCryptoThread([&] { return Seal(**plaintext, recipient.get()); });
      },
      [](Napi::Env env, PackageFields& fields) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set(kCiphertext, fields.ciphertext);
        out.Set(kNonce, fields.nonce);
        out.Set(kTag, fields.tag);
        out.Set(kEncryptedKey, fields.encrypted_key);
        return out;
      });
}

// Plaintexts this small are sealed on the JS thread: the RSA public operation
// and AES over them take less time than a round trip to a crypto thread.
constexpr size_t kSealInlineBytes = 64 * 1024;

Napi::Value BodyToBuffer(Napi::Env env, PackageBody& body) {
  char* bytes = body.bytes.get();
  napi_value buffer;
  // The body is ciphertext, not a secret: hand the allocation to V8 as is.
  if (napi_create_external_buffer(
          env, body.size, bytes,
          [](napi_env, void* data, void*) { delete[] static_cast<char*>(data); }, nullptr,
          &buffer) == napi_ok) {
    body.bytes.release();
    return Napi::Value(env, buffer);
  }
  return Napi::Buffer<char>::Copy(env, bytes, body.size);  // runtimes without external buffers
}

// sealPackage(plaintext, recipient) -> Promise<Buffer>: the whole request body.
Napi::Value SealPackageBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedRegionUse plaintext = UseRegion(SecureBuffer::FromArgument(info[0], "plaintext"));
  SharedPkey recipient = PublicKey::FromArgument(info[1], "recipient");
  if ((**plaintext).size() <= kSealInlineBytes) {
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    try {
      PackageBody body = SealPackageBody(**plaintext, recipient.get());
      deferred.Resolve(BodyToBuffer(env, body));
    } catch (...) {
      NativeFailure failure = ClassifyCurrentException();
      deferred.Reject(MakeError(env, failure.code, failure.message.c_str()).Value());
    }
    return deferred.Promise();
  }
  return PromiseWorker<PackageBody>::Run(
      env,
      [plaintext, recipient] {
        return OnCryptoThread([&] { return SealPackageBody(**plaintext, recipient.get()); });
      },
      [](Napi::Env env, PackageBody& body) { return BodyToBuffer(env, body); });
}

struct OpenedPackage {
  SharedRegion plaintext;
  PackageEnvelope envelope;
};

OpenedPackage OpenBody(const uint8_t* data, size_t size, EVP_PKEY* key) {
  PackageEnvelope envelope;
  SharedRegion plaintext = OpenPackage(data, size, key, envelope);
  return OpenedPackage{std::move(plaintext), std::move(envelope)};
}

Napi::Value OpenedToJs(Napi::Env env, OpenedPackage& opened) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("plaintext", SecureBuffer::Create(env, std::move(opened.plaintext)));
  out.Set("algorithm", opened.envelope.algorithm);
  if (opened.envelope.payload_id) out.Set("payload_id", *opened.envelope.payload_id);
  if (opened.envelope.processed_at_json) {
    out.Set("processed_at", *opened.envelope.processed_at_json);
  }
  return out;
}

struct OpenArguments {
  Napi::Buffer<uint8_t> body;
  SharedPkey key;
};

OpenArguments ReadOpenArguments(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsBuffer()) {
    throw Napi::TypeError::New(info.Env(), "expected (body: Buffer, privateKey)");
  }
  return {info[0].As<Napi::Buffer<uint8_t>>(), PrivateKey::FromArgument(info[1], "privateKey")};
}

// openPackage(body: Buffer, privateKey) -> Promise<{ plaintext, algorithm, payload_id?,
// processed_at? (JSON text) }>: the envelope is read and the payload decrypted on
// a crypto thread, straight from the body's bytes.
Napi::Value OpenPackageBinding(const Napi::CallbackInfo& info) {
  OpenArguments args = ReadOpenArguments(info);
  // The reference keeps the body alive until the worker is done with its bytes;
  // it is released with the worker, on this thread.
  auto body =
      std::make_shared<Napi::ObjectReference>(Napi::Persistent(args.body.As<Napi::Object>()));
  const uint8_t* data = args.body.Data();
  size_t size = args.body.Length();
  return PromiseWorker<OpenedPackage>::Run(
      info.Env(),
      [body, data, size, key = std::move(args.key)] {
        return OnCryptoThread([&] { return OpenBody(data, size, key.get()); });
      },
      OpenedToJs);
}

// openPackageSync(body, privateKey): the same on the JS thread, for a lone small
// response, where a round trip to a crypto thread costs more than the loop would gain.
Napi::Value OpenPackageSyncBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  OpenArguments args = ReadOpenArguments(info);
  OpenedPackage opened = RunOrThrow(
      env, [&] { return OpenBody(args.body.Data(), args.body.Length(), args.key.get()); });
  return OpenedToJs(env, opened);
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
      env,
      [fields = std::move(fields), key] {
        return OnCryptoThread([&] { return Open(fields, key.get()); });
      },
      [](Napi::Env env, SharedRegion& plaintext) -> Napi::Value {
        return SecureBuffer::Create(env, std::move(plaintext));
      });
}

}  // namespace

void RegisterHybridCrypto(Napi::Env env, Napi::Object exports) {
  exports.Set("seal", Napi::Function::New<SealBinding>(env, "seal"));
  exports.Set("open", Napi::Function::New<OpenBinding>(env, "open"));
  exports.Set("sealPackage", Napi::Function::New<SealPackageBinding>(env, "sealPackage"));
  exports.Set("openPackage", Napi::Function::New<OpenPackageBinding>(env, "openPackage"));
  exports.Set("openPackageSync",
              Napi::Function::New<OpenPackageSyncBinding>(env, "openPackageSync"));
}

}  // namespace nomyo
