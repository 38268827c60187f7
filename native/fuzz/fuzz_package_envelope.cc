// libFuzzer: a whole response body through the envelope reader and Open, as the
// addon's openPackage runs them. Every outcome must be PackageRejected or
// DecryptFailed: a body sealed for another key must never open.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>

#include "../crypto/hybrid.h"
#include "../crypto/package_envelope.h"
#include "../keys/rsa_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nomyo::SharedPkey key = [] {
    if (sodium_init() < 0) abort();
    return nomyo::GenerateRsaKey(2048);
  }();
  try {
    nomyo::PackageEnvelope envelope = nomyo::ReadEnvelope(data, size);
    nomyo::OpenEnvelope(data, envelope, key.get());
    abort();  // opening without the sender's key means forging GCM
  } catch (const nomyo::PackageRejected&) {
  } catch (const nomyo::DecryptFailed&) {
  }
  return 0;
}
