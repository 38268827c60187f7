// libFuzzer: a body sealed for the fuzzer's own key, so that it can open, with
// one patch from the input: some bytes replaced near its start, near its end
// or anywhere. OpenPackage's large-body path (guessed key and ciphertext, a walk
// that jumps over the ciphertext's text) must reach the very outcome of
// ReadEnvelope then OpenEnvelope: the same plaintext and envelope, or the same
// rejection, or DecryptFailed.
//
// Input: 4 bytes of position, 1 byte of how many bytes to replace, then the
// bytes that replace them.
#include <openssl/sha.h>
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../crypto/hybrid.h"
#include "../crypto/package_envelope.h"
#include "../keys/rsa_key.h"

namespace {

struct Sealed {
  nomyo::SharedPkey key;
  std::string body;
};

const Sealed& Fixture() {
  static const Sealed sealed = [] {
    if (sodium_init() < 0) abort();
    Sealed s{nomyo::GenerateRsaKey(2048), {}};
    // Three slices of base64 text and a padded end: decoded ahead, and in slices.
    nomyo::SecureRegion plaintext(nomyo::kOpenTextSlice / 4 * 3 * 3 + 1);
    for (size_t i = 0; i < plaintext.size(); i++) {
      plaintext.data()[i] = static_cast<uint8_t>(i * 7 + i / 251);
    }
    nomyo::PackageBody body = nomyo::SealPackageBody(plaintext, s.key.get());
    s.body.assign(body.bytes.get(), body.size);
    return s;
  }();
  return sealed;
}

std::string Describe(const nomyo::SharedRegion& plaintext, const nomyo::PackageEnvelope& e) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(plaintext->data(), plaintext->size(), digest);
  std::string out = "opened " + std::string(reinterpret_cast<char*>(digest), sizeof digest);
  out += "|" + e.algorithm + "|" + e.payload_id.value_or("-") + "|" +
         e.processed_at_json.value_or("-");
  for (const nomyo::JsonSpan& span : {e.ciphertext, e.nonce, e.tag, e.encrypted_key}) {
    out += "|" + std::to_string(span.begin) + "," + std::to_string(span.end);
  }
  return out;
}

template <typename Open>
std::string Outcome(Open open) {
  try {
    return open();
  } catch (const nomyo::PackageRejected& rejected) {
    return "rejected: " + rejected.message;
  } catch (const nomyo::DecryptFailed&) {
    return "decrypt failed";
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Sealed& sealed = Fixture();
  if (size < 5) return 0;
  const std::string& original = sealed.body;
  uint32_t where = 0;
  memcpy(&where, data, 4);
  // A third of the patches near the start, a third near the end, a third anywhere:
  // the guesses are made from the ends.
  size_t at = where % 3 == 0   ? (where / 3) % 512
              : where % 3 == 1 ? original.size() - 1 - (where / 3) % 1024
                               : (where / 3) % original.size();
  size_t cut = data[4] % 16;
  if (cut > original.size() - at) cut = original.size() - at;
  std::string body = original.substr(0, at);
  body.append(reinterpret_cast<const char*>(data + 5), size - 5);
  body.append(original, at + cut, std::string::npos);
  const auto* bytes = reinterpret_cast<const uint8_t*>(body.data());

  std::string sequential = Outcome([&] {
    nomyo::PackageEnvelope envelope = nomyo::ReadEnvelope(bytes, body.size());
    return Describe(nomyo::OpenEnvelope(bytes, envelope, sealed.key.get()), envelope);
  });
  std::string overlapped = Outcome([&] {
    nomyo::PackageEnvelope envelope;
    nomyo::SharedRegion plaintext =
        nomyo::OpenPackage(bytes, body.size(), sealed.key.get(), envelope, 0);
    return Describe(plaintext, envelope);
  });
  if (sequential != overlapped) abort();
  return 0;
}
