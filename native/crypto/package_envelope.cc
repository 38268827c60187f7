#include "package_envelope.h"

#include <atomic>
#include <cstring>
#include <exception>
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

bool IsString(const uint8_t* body, JsonSpan span) { return body[span.begin] == '"'; }

std::string DecodeString(const uint8_t* body, JsonSpan span) {
  SecureWriter out(span.end - span.begin, span.end - span.begin + 1);
  // Spans come from a validated object, or are OpenPackage's guess, whose
  // result is used only once a validated span is found to be the same.
  DecodeJsonString(body, span, out);
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

// Where encoders (this addon's, the reference server's) put encrypted_aes_key:
// after the payload, near the end. Found from the end without reading the
// rest of the body; a guess, never trusted until ReadEnvelope agrees.
std::optional<JsonSpan> GuessEncryptedKey(const uint8_t* body, size_t size) {
  static constexpr char kMember[] = "\"encrypted_aes_key\"";
  constexpr size_t kMemberSize = sizeof kMember - 1;
  constexpr size_t kTail = 8 * 1024;
  const uint8_t* end = body + size;
  const uint8_t* from = size > kTail ? end - kTail : body;
  const uint8_t* member = nullptr;
  for (const uint8_t* p = from; static_cast<size_t>(end - p) >= kMemberSize; p++) {
    p = static_cast<const uint8_t*>(memchr(p, '"', static_cast<size_t>(end - p)));
    if (p == nullptr || static_cast<size_t>(end - p) < kMemberSize) break;
    if (memcmp(p, kMember, kMemberSize) == 0) member = p;
  }
  if (member == nullptr) return std::nullopt;
  const uint8_t* p = member + kMemberSize;
  auto skip_space = [&] {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  };
  skip_space();
  if (p == end || *p++ != ':') return std::nullopt;
  skip_space();
  if (p == end || *p != '"') return std::nullopt;
  const uint8_t* close =
      static_cast<const uint8_t*>(memchr(p + 1, '"', static_cast<size_t>(end - p - 1)));
  if (close == nullptr) return std::nullopt;
  return JsonSpan{static_cast<size_t>(p - body), static_cast<size_t>(close + 1 - body)};
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
  auto ciphertext = DecodeBase64Field(body, envelope.ciphertext);
  auto nonce = DecodeBase64Field(body, envelope.nonce);
  auto tag = DecodeBase64Field(body, envelope.tag);
  auto wrapped = DecodeBase64Field(body, envelope.encrypted_key);
  if (!ciphertext || !nonce || !tag || !wrapped) throw DecryptFailed{};
  return OpenDecoded(*ciphertext, *nonce, *tag, *wrapped, private_key);
}

SharedRegion OpenPackage(const uint8_t* body, size_t size, EVP_PKEY* private_key,
                         PackageEnvelope& envelope, size_t overlap_from) {
  ErrorQueueGuard clear_errors;  // failed RSA or GCM steps leave errors on this thread's queue
  std::optional<JsonSpan> guess;
  std::optional<std::vector<uint8_t>> guessed_wrapped;
  if (size >= overlap_from) guess = GuessEncryptedKey(body, size);
  if (guess) guessed_wrapped = DecodeBase64Field(body, *guess);
  if (!guessed_wrapped) {
    envelope = ReadEnvelope(body, size);
    return OpenEnvelope(body, envelope, private_key);
  }

  // A large body: the RSA private operation starts at once on a second thread,
  // on the key found where encoders put it; this thread meanwhile checks the
  // envelope, makes (and locks) the plaintext's region and decodes into it as
  // much of the ciphertext as it can. The guess is used only if the checked
  // envelope agrees with it.
  // Failures stay what they are without the overlap: PackageRejected for the
  // envelope, one opaque DecryptFailed for anything cryptographic.
  SharedRegion aes_key;
  bool unwrapped = false;
  std::exception_ptr unwrap_failure;  // anything but DecryptFailed (out of memory), for this thread
  std::atomic<bool> unwrap_done{false};
  auto unwrap = [&] {
    ErrorQueueGuard clear_unwrap_errors;
    struct SayDone {
      std::atomic<bool>& done;
      ~SayDone() { done.store(true, std::memory_order_release); }
    } say_done{unwrap_done};
    try {
      aes_key = UnwrapAesKey(guessed_wrapped->data(), guessed_wrapped->size(), private_key);
      unwrapped = true;
    } catch (const DecryptFailed&) {
      unwrapped = false;
    } catch (...) {
      unwrap_failure = std::current_exception();
    }
  };
  std::thread helper;
  try {
    helper = std::thread(unwrap);
  } catch (const std::system_error&) {
    unwrap();  // no thread to be had: one after the other
  }
  // Joined on every way out, a throw included.
  struct JoinOnExit {
    std::thread& thread;
    ~JoinOnExit() {
      if (thread.joinable()) thread.join();
    }
  } join_on_exit{helper};

  envelope = ReadEnvelope(body, size);
  auto nonce = DecodeBase64Field(body, envelope.nonce);
  auto tag = DecodeBase64Field(body, envelope.tag);
  if (!nonce || !tag || nonce->size() != kGcmNonceBytes || tag->size() != kGcmTagBytes) {
    throw DecryptFailed{};
  }
  // Plain base64 (as every encoder writes it) is decoded straight into the
  // plaintext's region; a ciphertext written with escapes is unescaped and
  // decoded here.
  const char* text = reinterpret_cast<const char*>(body + envelope.ciphertext.begin + 1);
  const size_t text_size = envelope.ciphertext.end - envelope.ciphertext.begin - 2;
  std::optional<std::vector<uint8_t>> escaped;
  size_t ciphertext_size = 0;
  if (memchr(text, '\\', text_size) != nullptr) {
    escaped = DecodeBase64Field(body, envelope.ciphertext);
    if (!escaped) throw DecryptFailed{};
    ciphertext_size = escaped->size();
  } else {
    std::optional<size_t> length = Base64DecodedLength(text, text_size);
    if (!length) throw DecryptFailed{};
    ciphertext_size = *length;
  }
  // Made now, to overlap the RSA operation; a failure to map it counts only
  // once the key is known good, as it would one after the other.
  SharedRegion plaintext;
  std::exception_ptr region_failure;
  try {
    plaintext = MakeRegion(ciphertext_size);
  } catch (...) {
    region_failure = std::current_exception();
  }

  // Until the key is known, the ciphertext is decoded into the plaintext's
  // region, where the decryption turns it into plaintext; the rest is decoded a
  // slice at a time as it is decrypted.
  DecodedPrefix ahead;
  if (plaintext && !escaped) ahead = DecodeBase64Ahead(text, text_size, *plaintext, unwrap_done);
  if (helper.joinable()) helper.join();
  if (envelope.encrypted_key.begin != guess->begin || envelope.encrypted_key.end != guess->end) {
    // The guess was not the member the envelope names: unwrap that one.
    auto wrapped = DecodeBase64Field(body, envelope.encrypted_key);
    if (!wrapped) throw DecryptFailed{};
    aes_key = UnwrapAesKey(wrapped->data(), wrapped->size(), private_key);
  } else if (unwrap_failure) {
    std::rethrow_exception(unwrap_failure);
  } else if (!unwrapped) {
    throw DecryptFailed{};
  }
  if (region_failure) std::rethrow_exception(region_failure);
  if (escaped) {
    GcmDecryptInto(*aes_key, nonce->data(), escaped->data(), escaped->size(), tag->data(),
                   *plaintext);
  } else {
    GcmDecryptBase64Into(*aes_key, nonce->data(), text, text_size, tag->data(), *plaintext, ahead);
  }
  return plaintext;
}

}  // namespace nomyo
