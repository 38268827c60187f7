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
  // Spans come from a checked envelope: one read in full, or one whose walk
  // jumped over a guessed ciphertext, used only once that text decoded as
  // base64 and so was a plain string all along.
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

namespace {

// ReadEnvelope, jumping over the string at `plain_string` if there is one (see ForEachMember).
PackageEnvelope ReadEnvelopeVouching(const uint8_t* body, size_t size,
                                     std::optional<JsonSpan> plain_string) {
  std::optional<JsonSpan> version, algorithm, key_algorithm, payload_algorithm, payload, key,
      payload_id, processed_at;
  auto top_member = [&](const std::string& name, JsonSpan value) {
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
  };
  if (!ForEachMember(body, JsonSpan{0, size}, top_member, false, plain_string)) {
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
  // The first walk validated the whole body, this object included, but for a
  // string vouched for, which this walk jumps over too.
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
      true, plain_string);
  for (auto [span, name] :
       {std::pair{&ciphertext, "encrypted_payload.ciphertext"},
        std::pair{&nonce, "encrypted_payload.nonce"}, std::pair{&tag, "encrypted_payload.tag"},
        std::pair{&key, "encrypted_aes_key"}}) {
    if (!*span || !IsString(body, **span))
      throw PackageRejected{std::string("the package lacks ") + name};
  }
  envelope.ciphertext = *ciphertext;
  // The first walk crossed every byte of the payload object: none of its members
  // holds an escape if it held none.
  envelope.ciphertext.unescaped = payload->unescaped;
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

}  // namespace

PackageEnvelope ReadEnvelope(const uint8_t* body, size_t size) {
  return ReadEnvelopeVouching(body, size, std::nullopt);
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

namespace {

// The RSA private operation on the wrapped key found where encoders put it
// (GuessEncryptedKey), started on a thread of its own at construction and
// joined at destruction, whatever happens in between.
class GuessedKeyUnwrap {
 public:
  GuessedKeyUnwrap(JsonSpan guess, std::vector<uint8_t> wrapped, EVP_PKEY* private_key)
      : guess_(guess), wrapped_(std::move(wrapped)), private_key_(private_key) {
    try {
      thread_ = std::thread([this] { Run(); });
    } catch (const std::system_error&) {
      Run();  // no thread to be had: one after the other
    }
  }
  ~GuessedKeyUnwrap() { Join(); }
  GuessedKeyUnwrap(const GuessedKeyUnwrap&) = delete;
  GuessedKeyUnwrap& operator=(const GuessedKeyUnwrap&) = delete;

  // Set once the operation is over, whatever its outcome.
  const std::atomic<bool>& done() const { return done_; }

  // The AES key that the checked envelope's encrypted_aes_key carries: the
  // guess's, if the envelope names that very member, or else unwrapped now
  // (once: a fallback that asks again gets the same answer).
  SharedRegion KeyFor(const uint8_t* body, const PackageEnvelope& envelope) {
    Join();
    const JsonSpan named = envelope.encrypted_key;
    if (named.begin != guess_.begin || named.end != guess_.end) {
      if (!named_ || named_->begin != named.begin || named_->end != named.end) {
        named_ = named;
        named_key_ = nullptr;
        if (auto wrapped = DecodeBase64Field(body, named)) {
          try {
            named_key_ = UnwrapAesKey(wrapped->data(), wrapped->size(), private_key_);
          } catch (const DecryptFailed&) {
            // left null
          }
        }
      }
      if (!named_key_) throw DecryptFailed{};
      return named_key_;
    }
    if (failure_) std::rethrow_exception(failure_);
    if (!aes_key_) throw DecryptFailed{};
    return aes_key_;
  }

 private:
  void Run() {
    ErrorQueueGuard clear_errors;
    try {
      aes_key_ = UnwrapAesKey(wrapped_.data(), wrapped_.size(), private_key_);
    } catch (const DecryptFailed&) {
      // left null: the envelope may name another member, which KeyFor tries
    } catch (...) {
      failure_ = std::current_exception();  // out of memory: for the caller's thread
    }
    done_.store(true, std::memory_order_release);
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  const JsonSpan guess_;
  const std::vector<uint8_t> wrapped_;
  EVP_PKEY* const private_key_;
  SharedRegion aes_key_;
  std::exception_ptr failure_;
  std::optional<JsonSpan> named_;  // another member the envelope named, and its key
  SharedRegion named_key_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Where encoders put the ciphertext: the first member of encrypted_payload,
// near the start of the body, its closing quote just before the nonce member
// near the end. Found without reading the text between; a guess.
std::optional<JsonSpan> GuessCiphertext(const uint8_t* body, size_t size) {
  static constexpr char kMember[] = "\"ciphertext\"";
  static constexpr char kNext[] = "\"nonce\"";
  constexpr size_t kHead = 1024;
  constexpr size_t kTail = 8 * 1024;
  auto is_space = [](uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  const uint8_t* end = body + size;
  const auto* member = static_cast<const uint8_t*>(
      memmem(body, size < kHead ? size : kHead, kMember, sizeof kMember - 1));
  if (member == nullptr) return std::nullopt;
  const uint8_t* open = member + sizeof kMember - 1;
  while (open < end && is_space(*open)) open++;
  if (open == end || *open++ != ':') return std::nullopt;
  while (open < end && is_space(*open)) open++;
  if (open == end || *open != '"') return std::nullopt;

  const uint8_t* from = end - open > static_cast<ptrdiff_t>(kTail) ? end - kTail : open + 1;
  const uint8_t* next = nullptr;
  for (const uint8_t* p = from;; p++) {
    p = static_cast<const uint8_t*>(
        memmem(p, static_cast<size_t>(end - p), kNext, sizeof kNext - 1));
    if (p == nullptr) break;
    next = p;
  }
  if (next == nullptr) return std::nullopt;
  const uint8_t* close = next - 1;
  while (close > open && is_space(*close)) close--;
  if (close <= open || *close-- != ',') return std::nullopt;
  while (close > open && is_space(*close)) close--;
  if (close <= open || *close != '"') return std::nullopt;
  return JsonSpan{static_cast<size_t>(open - body), static_cast<size_t>(close + 1 - body)};
}

// The body as encoders write it: the text of the guessed ciphertext is decoded
// into the plaintext's region while the key is unwrapped, and the walk over the
// envelope jumps over that text instead of reading it, so that a 14 MB body is
// read once, not three times. The jump is sound only if the text holds no
// quote, backslash or control byte, which its decoding proves: every character
// of it decoded as base64. Until then nothing here is an outcome: whatever goes
// wrong (the guess, the envelope, the key) leaves it to OpenChecked, which
// reads everything. The one failure kept is a tag that does not verify over a
// text that decoded in full. A text found to be no base64 while the key is
// still being unwrapped (a ciphertext written with escapes) is given up at
// once, so that the full walk still overlaps the RSA operation.
std::optional<SharedRegion> OpenAsGuessed(const uint8_t* body, size_t size, JsonSpan guess,
                                          GuessedKeyUnwrap& unwrap, PackageEnvelope& envelope) {
  bool text_decoded = false;
  try {
    const char* text = reinterpret_cast<const char*>(body + guess.begin + 1);
    const size_t text_size = guess.end - guess.begin - 2;
    std::optional<size_t> length = Base64DecodedLength(text, text_size);
    if (!length) return std::nullopt;
    SharedRegion plaintext = MakeRegion(*length);
    DecodedPrefix ahead = DecodeBase64Ahead(text, text_size, *plaintext, unwrap.done());
    if (ahead.malformed) return std::nullopt;
    PackageEnvelope read = ReadEnvelopeVouching(body, size, guess);
    if (read.ciphertext.begin != guess.begin || read.ciphertext.end != guess.end) {
      return std::nullopt;
    }
    auto nonce = DecodeBase64Field(body, read.nonce);
    auto tag = DecodeBase64Field(body, read.tag);
    if (!nonce || !tag || nonce->size() != kGcmNonceBytes || tag->size() != kGcmTagBytes) {
      return std::nullopt;
    }
    SharedRegion aes_key = unwrap.KeyFor(body, read);
    GcmDecryptBase64Into(*aes_key, nonce->data(), text, text_size, tag->data(), *plaintext, ahead,
                         &text_decoded);
    envelope = std::move(read);
    return plaintext;
  } catch (const DecryptFailed&) {
    if (text_decoded) throw;
    return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
}

// Any large body: the envelope is read and checked in full (while the key is
// unwrapped, unless OpenAsGuessed waited for it already); then the plaintext's
// region is made and, until the key is known, the ciphertext decoded into it.
SharedRegion OpenChecked(const uint8_t* body, size_t size, GuessedKeyUnwrap& unwrap,
                         PackageEnvelope& envelope) {
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
  if (!envelope.ciphertext.unescaped && memchr(text, '\\', text_size) != nullptr) {
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
  if (plaintext && !escaped) ahead = DecodeBase64Ahead(text, text_size, *plaintext, unwrap.done());
  SharedRegion aes_key = unwrap.KeyFor(body, envelope);
  if (region_failure) std::rethrow_exception(region_failure);
  if (escaped) {
    GcmDecryptInto(*aes_key, nonce->data(), escaped->data(), escaped->size(), tag->data(),
                   *plaintext);
  } else {
    GcmDecryptBase64Into(*aes_key, nonce->data(), text, text_size, tag->data(), *plaintext, ahead);
  }
  return plaintext;
}

}  // namespace

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
  // on the key found where encoders put it, while this thread reads the rest.
  // The guessed key is used only if the checked envelope names that member, the
  // guessed ciphertext only once its text proved plain (see OpenAsGuessed); and
  // outcomes stay what they are without them: PackageRejected for the
  // envelope, one opaque DecryptFailed for anything cryptographic.
  GuessedKeyUnwrap unwrap(*guess, std::move(*guessed_wrapped), private_key);
  if (std::optional<JsonSpan> ciphertext = GuessCiphertext(body, size)) {
    if (auto opened = OpenAsGuessed(body, size, *ciphertext, unwrap, envelope)) return *opened;
  }
  return OpenChecked(body, size, unwrap, envelope);
}

}  // namespace nomyo
