// libFuzzer: a whole response body through the envelope reader and Open, as the
// addon's openPackage runs them. Every outcome must be PackageRejected or
// DecryptFailed: a body sealed for another key must never open. OpenPackage's
// overlapped path (the RSA operation started on a guessed key member, on a
// second thread) must reach the very same outcome, message included.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "../crypto/hybrid.h"
#include "../crypto/package_envelope.h"
#include "../keys/rsa_key.h"

namespace {

// "rejected: <message>" or "decrypt failed"; aborts if the body opened.
template <typename Open>
std::string Outcome(Open open) {
  try {
    open();
  } catch (const nomyo::PackageRejected& rejected) {
    return "rejected: " + rejected.message;
  } catch (const nomyo::DecryptFailed&) {
    return "decrypt failed";
  }
  abort();  // opening without the sender's key means forging GCM
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nomyo::SharedPkey key = [] {
    if (sodium_init() < 0) abort();
    return nomyo::GenerateRsaKey(2048);
  }();
  std::string sequential = Outcome([&] {
    nomyo::PackageEnvelope envelope = nomyo::ReadEnvelope(data, size);
    nomyo::OpenEnvelope(data, envelope, key.get());
  });
  std::string overlapped = Outcome([&] {
    nomyo::PackageEnvelope envelope;
    nomyo::OpenPackage(data, size, key.get(), envelope, 0);
  });
  if (sequential != overlapped) abort();
  return 0;
}
