// Module registration only; each concept lives in its own folder.
#include <napi.h>
#include <sodium.h>

#include "addon_data.h"
#include "attestation/attestation_bindings.h"
#include "crypto/hybrid_bindings.h"
#include "keys/key_objects.h"
#include "keys/rsa_key.h"
#include "secure_memory/protection_facts.h"
#include "secure_memory/secure_buffer.h"
#ifdef NOMYO_TEST_HOOKS
#include "testing/test_hooks.h"
#endif

namespace nomyo {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (sodium_init() < 0) throw Napi::Error::New(env, "libsodium failed to initialise");
  EnsureOpenSslSecureHeap();

  auto* data = new AddonData();
  env.SetInstanceData(data);
  Napi::Function secure_buffer = SecureBuffer::Define(env);
  Napi::Function private_key = PrivateKey::Define(env);
  Napi::Function public_key = PublicKey::Define(env);
  data->secure_buffer = Napi::Persistent(secure_buffer);
  data->private_key = Napi::Persistent(private_key);
  data->public_key = Napi::Persistent(public_key);
  exports.Set("SecureBuffer", secure_buffer);
  exports.Set("PrivateKey", private_key);
  exports.Set("PublicKey", public_key);

  RegisterHybridCrypto(env, exports);
  RegisterProtectionFacts(env, exports);
  RegisterAttestation(env, exports);
#ifdef NOMYO_TEST_HOOKS
  RegisterTestHooks(env, exports);
#endif
  return exports;
}

}  // namespace nomyo

static Napi::Object InitNomyo(Napi::Env env, Napi::Object exports) {
  return nomyo::Init(env, exports);
}

NODE_API_MODULE(nomyo, InitNomyo)
