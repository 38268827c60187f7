#include "package_envelope.h"

#include <cstring>
#include <memory>
#include <system_error>
#include <thread>

#include "base64.h"
#include "hybrid.h"

namespace nomyo {
namespace {

constexpr char kVersion[] = "1.0";
constexpr char kAlgorithm[] = "hybrid-aes256-rsa4096";
constexpr char kKeyAlgorithm[] = "RSA-OAEP-SHA256";
constexpr char kPayloadAlgorithm[] = "AES-256-GCM";

// From about here a payload's base64 decoding takes as long as the RSA private
// operation, and a second thread for the latter pays for itself.
constexpr size_t kOverlapCiphertextChars = size_t{512} << 10;

bool IsString(const uint8_t* body, JsonSpan span) { return body[span.begin] == '"'; }

std::string DecodeString(const uint8_t* body, JsonSpan span) {
  SecureWriter out(span.end - span.begin, span.end - span.begin + 1);
  DecodeJsonString(body, span, out);  // spans come from a validated object
  SharedRegion bytes = out.finish();
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

std::optional<std::vector<uint8_t>> DecodeBase64Field(const uint8_t* body, JsonSpan span) {
  const char* raw = reinterpret_cast<const char*>(body + span.begin + 1);
  size_t raw_size = span.end - span.begin - 2;
  // Some encoders escape '/' or '+' ("\/", "\u002B"): what counts is the
  // string's value, as JSON.parse would give it. Without escapes, decode in place.
  if (memchr(raw, '\\', raw_size) == nullptr) return Base64DecodeStrict(raw, raw_size);
  return Base64DecodeStrict(DecodeString(body, span));
}

}  // namespace

PackageEnvelope ReadEnvelope(const uint8_t* body, size_t size) {
  std::optional<JsonSpan> version, algorithm, key_algorithm, payload_algorithm, payload, key,
      payload_id, processed_at;
  bool object =
      ForEachMember(body, JsonSpan{0, size}, [&](const std::string& name, JsonSpan value) {
        // As with JSON.parse, the last of duplicate keys wins.
        if (name == "version")
          version = value;
        else if (name == "algorithm")
          algorithm = value;
        else if (name == "key_algorithm")
          key_algorithm = value;
        else if (name == "payload_algorithm")
          payload_algorithm = value;
        else if (name == "encrypted_payload")
          payload = value;
        else if (name == "encrypted_aes_key")
          key = value;
        else if (name == "payload_id")
          payload_id = value;
        else if (name == "processed_at")
          processed_at = value;
      });
  if (!object) {
    throw PackageRejected{IsValidJson(body, size) ? "the package is not a JSON object"
                                                  : "the package is not valid JSON"};
  }
  auto required_string = [&](const std::optional<JsonSpan>& span, const char* name) {
    if (!span || !IsString(body, *span))
      throw PackageRejected{std::string("the package lacks ") + name};
    return DecodeString(body, *span);
  };
  if (required_string(version, "version") != kVersion) {
    throw PackageRejected{"unsupported package version"};
  }
  PackageEnvelope envelope;
  envelope.algorithm = required_string(algorithm, "algorithm");
  if (envelope.algorithm != kAlgorithm) throw PackageRejected{"unsupported package algorithm"};
  if (key_algorithm &&
      (!IsString(body, *key_algorithm) || DecodeString(body, *key_algorithm) != kKeyAlgorithm)) {
    throw PackageRejected{"unsupported key_algorithm"};
  }
  if (payload_algorithm && (!IsString(body, *payload_algorithm) ||
                            DecodeString(body, *payload_algorithm) != kPayloadAlgorithm)) {
    throw PackageRejected{"unsupported payload_algorithm"};
  }
  if (!payload || body[payload->begin] != '{')
    throw PackageRejected{"the package lacks encrypted_payload"};
  std::optional<JsonSpan> ciphertext, nonce, tag;
  // The first walk validated the whole body, this object included.
  ForEachMember(
      body, *payload,
      [&](const std::string& name, JsonSpan value) {
        if (name == "ciphertext")
          ciphertext = value;
        else if (name == "nonce")
          nonce = value;
        else if (name == "tag")
          tag = value;
      },
      true);
  for (auto [span, name] :
       {std::pair{&ciphertext, "encrypted_payload.ciphertext"},
        std::pair{&nonce, "encrypted_payload.nonce"}, std::pair{&tag, "encrypted_payload.tag"},
        std::pair{&key, "encrypted_aes_key"}}) {
    if (!*span || !IsString(body, **span))
      throw PackageRejected{std::string("the package lacks ") + name};
  }
  envelope.ciphertext = *ciphertext;
  envelope.nonce = *nonce;
  envelope.tag = *tag;
  envelope.encrypted_key = *key;
  if (payload_id) {
    if (!IsString(body, *payload_id)) throw PackageRejected{"payload_id is not a string"};
    envelope.payload_id = DecodeString(body, *payload_id);
  }
  if (processed_at) {
    envelope.processed_at_json.emplace(reinterpret_cast<const char*>(body + processed_at->begin),
                                       processed_at->end - processed_at->begin);
  }
  return envelope;
}

SharedRegion OpenEnvelope(const uint8_t* body, const PackageEnvelope& envelope,
                          EVP_PKEY* private_key) {
  auto nonce = DecodeBase64Field(body, envelope.nonce);
  auto tag = DecodeBase64Field(body, envelope.tag);
  auto wrapped = DecodeBase64Field(body, envelope.encrypted_key);
  if (!nonce || !tag || !wrapped) throw DecryptFailed{};
  const char* text = reinterpret_cast<const char*>(body + envelope.ciphertext.begin + 1);
  const size_t text_size = envelope.ciphertext.end - envelope.ciphertext.begin - 2;
  if (text_size < kOverlapCiphertextChars || memchr(text, '\\', text_size) != nullptr) {
    auto ciphertext = DecodeBase64Field(body, envelope.ciphertext);
    if (!ciphertext) throw DecryptFailed{};
    return OpenDecoded(*ciphertext, *nonce, *tag, *wrapped, private_key);
  }
  if (nonce->size() != kGcmNonceBytes || tag->size() != kGcmTagBytes) throw DecryptFailed{};

  // A large payload: the RSA private operation (and making and locking the
  // plaintext's region) on a second thread, while this one decodes the
  // ciphertext; then AES-GCM here. On two cores the two halves overlap.
  // Decryption failures stay one opaque DecryptFailed, whichever half failed.
  const size_t max_size = Base64MaxDecodedLength(text_size);
  SharedRegion aes_key, plaintext;
  bool unwrapped = false;
  auto unwrap = [&] {
    try {
      aes_key = UnwrapAesKey(wrapped->data(), wrapped->size(), private_key);
      plaintext = MakeRegion(max_size);
      unwrapped = true;
    } catch (...) {
      unwrapped = false;
    }
  };
  std::unique_ptr<uint8_t[]> ciphertext(new uint8_t[max_size == 0 ? 1 : max_size]);
  size_t size = 0;
  bool decoded;
  {
    std::thread helper;
    try {
      helper = std::thread(unwrap);
    } catch (const std::system_error&) {
      unwrap();  // no thread to be had: one after the other
    }
    decoded = Base64DecodeStrictTo(text, text_size, ciphertext.get(), &size);
    if (helper.joinable()) helper.join();
  }
  if (!decoded || !unwrapped) throw DecryptFailed{};
  GcmDecryptInto(*aes_key, nonce->data(), ciphertext.get(), size, tag->data(), *plaintext);
  plaintext->truncate(size);
  return plaintext;
}

}  // namespace nomyo
