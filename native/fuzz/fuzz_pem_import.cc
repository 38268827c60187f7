// libFuzzer: arbitrary bytes as a private key PEM (with and without a password)
// and as a public key PEM. Failures must be the typed KeyFailure, nothing else.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../keys/rsa_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool ready = [] { return sodium_init() >= 0; }();
  if (!ready) abort();
  nomyo::SecureRegion pem(size);
  memcpy(pem.data(), data, size);
  nomyo::SecureRegion password(8);
  memcpy(password.data(), "password", 8);
  for (const nomyo::SecureRegion* pass : {static_cast<const nomyo::SecureRegion*>(nullptr),
                                          static_cast<const nomyo::SecureRegion*>(&password)}) {
    try {
      nomyo::SharedPkey key = nomyo::ImportPrivateKeyPem(pem, pass);
      if (nomyo::KeyBits(key.get()) < nomyo::kMinRsaBits) abort();
    } catch (const nomyo::KeyFailure&) {
    }
  }
  try {
    nomyo::ImportPublicKeyPem(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const nomyo::KeyFailure&) {
  }
  return 0;
}
