// libFuzzer: a package's four base64 fields, split from the input at '\n', go
// through the same Open the addon runs. It must never crash, and never open.
#include <openssl/evp.h>
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "../crypto/hybrid.h"
#include "../keys/rsa_key.h"

namespace {

nomyo::SharedPkey& Key() {
  static nomyo::SharedPkey key = [] {
    if (sodium_init() < 0) abort();
    return nomyo::GenerateRsaKey(2048);
  }();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string parts[4];
  size_t start = 0;
  for (int i = 0; i < 4; i++) {
    size_t end = i == 3 ? std::string::npos : input.find('\n', start);
    parts[i] = input.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  nomyo::PackageFields fields{parts[0], parts[1], parts[2], parts[3]};
  try {
    nomyo::Open(fields, Key().get());
    // Opening without the sender's key means forging GCM: it must not happen.
    abort();
  } catch (const nomyo::DecryptFailed&) {
  }
  return 0;
}
