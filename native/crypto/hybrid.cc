#include "hybrid.h"

#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <atomic>
#include <climits>
#include <cstring>
#include <vector>

#include "base64.h"
#include "openssl_ptr.h"

namespace nomyo {
namespace {

// AES-GCM updates take an int length; feed large payloads in slices.
constexpr size_t kGcmSlice = size_t{1} << 30;

std::atomic<AesKeyObserver> g_key_observer{nullptr};

void ObserveKey(const SecureRegion& key) {
  if (AesKeyObserver observer = g_key_observer.load()) observer(key.data(), key.size());
}

bool ConfigureOaep(EVP_PKEY_CTX* ctx) {
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0;
}

std::vector<uint8_t> WrapKey(const SecureRegion& aes_key, EVP_PKEY* recipient) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(recipient, nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 || !ConfigureOaep(ctx.get())) {
    throw EncryptFailed{};
  }
  size_t out_len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &out_len, aes_key.data(), aes_key.size()) <= 0) {
    throw EncryptFailed{};
  }
  std::vector<uint8_t> wrapped(out_len);
  if (EVP_PKEY_encrypt(ctx.get(), wrapped.data(), &out_len, aes_key.data(), aes_key.size()) <= 0) {
    throw EncryptFailed{};
  }
  wrapped.resize(out_len);
  return wrapped;
}

}  // namespace

SharedRegion UnwrapAesKey(const uint8_t* wrapped, size_t wrapped_size, EVP_PKEY* private_key) {
  // RFC 8017 7.1.2: the ciphertext is exactly as long as the modulus. OpenSSL
  // also takes a shorter one (as the number it spells, leading zero bytes
  // left out), which would let a package with a cut key open.
  if (wrapped_size != static_cast<size_t>(EVP_PKEY_get_size(private_key))) throw DecryptFailed{};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(private_key, nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) <= 0 || !ConfigureOaep(ctx.get())) {
    throw DecryptFailed{};
  }
  // The output buffer is sized for the modulus; OAEP yields at most that.
  SharedRegion key = MakeRegion(static_cast<size_t>(EVP_PKEY_get_size(private_key)));
  size_t out_len = key->size();
  if (EVP_PKEY_decrypt(ctx.get(), key->data(), &out_len, wrapped, wrapped_size) <= 0 ||
      out_len != kAesKeyBytes) {
    throw DecryptFailed{};
  }
  key->truncate(out_len);
  ObserveKey(*key);
  return key;
}

void GcmEncrypt(const SecureRegion& key, const uint8_t* nonce, const uint8_t* plaintext,
                size_t size, uint8_t* ciphertext, uint8_t* tag) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (key.size() != kAesKeyBytes || !ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1) {
    throw EncryptFailed{};
  }
  size_t done = 0;
  while (done < size) {
    size_t n = size - done < kGcmSlice ? size - done : kGcmSlice;
    int out_len = 0;
    if (EVP_EncryptUpdate(ctx.get(), ciphertext + done, &out_len, plaintext + done,
                          static_cast<int>(n)) != 1) {
      throw EncryptFailed{};
    }
    done += static_cast<size_t>(out_len);
  }
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), ciphertext + done, &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagBytes, tag) != 1) {
    throw EncryptFailed{};
  }
}

SharedRegion GcmDecrypt(const SecureRegion& key, const uint8_t* nonce, const uint8_t* ciphertext,
                        size_t size, const uint8_t* tag) {
  SharedRegion plaintext = MakeRegion(size);
  GcmDecryptInto(key, nonce, ciphertext, size, tag, *plaintext);
  return plaintext;
}

namespace {

CipherCtxPtr StartGcmDecrypt(const SecureRegion& key, const uint8_t* nonce) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (key.size() != kAesKeyBytes || !ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1) {
    throw DecryptFailed{};
  }
  return ctx;
}

// Decrypts `size` bytes to `out`; returns how many it wrote (all of them: GCM is a stream mode).
size_t GcmDecryptUpdate(EVP_CIPHER_CTX* ctx, const uint8_t* ciphertext, size_t size, uint8_t* out) {
  size_t done = 0;
  while (done < size) {
    size_t n = size - done < kGcmSlice ? size - done : kGcmSlice;
    int out_len = 0;
    if (EVP_DecryptUpdate(ctx, out + done, &out_len, ciphertext + done, static_cast<int>(n)) != 1) {
      throw DecryptFailed{};
    }
    done += static_cast<size_t>(out_len);
  }
  return done;
}

void FinishGcmDecrypt(EVP_CIPHER_CTX* ctx, const uint8_t* tag, uint8_t* out) {
  int final_len = 0;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagBytes, const_cast<uint8_t*>(tag)) !=
          1 ||
      EVP_DecryptFinal_ex(ctx, out, &final_len) != 1) {
    throw DecryptFailed{};
  }
}

}  // namespace

void GcmDecryptInto(const SecureRegion& key, const uint8_t* nonce, const uint8_t* ciphertext,
                    size_t size, const uint8_t* tag, SecureRegion& plaintext) {
  CipherCtxPtr ctx = StartGcmDecrypt(key, nonce);
  // Plaintext is written only into secure memory, and the caller wipes the
  // region if the tag does not verify; nothing is released before that check.
  if (plaintext.size() < size) throw DecryptFailed{};
  size_t done = GcmDecryptUpdate(ctx.get(), ciphertext, size, plaintext.data());
  FinishGcmDecrypt(ctx.get(), tag, plaintext.data() + done);
}

DecodedPrefix DecodeBase64Ahead(const char* text, size_t text_size, SecureRegion& plaintext,
                                const std::atomic<bool>& stop) {
  DecodedPrefix prefix;
  // Only whole slices before the last: they decode to exactly 3/4 of their
  // length, so they never write past what the whole text decodes to.
  while (prefix.text + kOpenTextSlice < text_size && !stop.load(std::memory_order_acquire)) {
    size_t decoded = 0;
    if (prefix.bytes + Base64MaxDecodedLength(kOpenTextSlice) > plaintext.size() ||
        !Base64DecodeStrictTo(text + prefix.text, kOpenTextSlice, plaintext.data() + prefix.bytes,
                              &decoded) ||
        decoded != Base64MaxDecodedLength(kOpenTextSlice)) {
      prefix.malformed = true;
      break;
    }
    prefix.text += kOpenTextSlice;
    prefix.bytes += decoded;
  }
  return prefix;
}

void GcmDecryptBase64Into(const SecureRegion& key, const uint8_t* nonce, const char* text,
                          size_t text_size, const uint8_t* tag, SecureRegion& plaintext,
                          DecodedPrefix decoded, bool* text_decoded) {
  std::optional<size_t> size = Base64DecodedLength(text, text_size);
  if (!size || plaintext.size() < *size || decoded.text > text_size || decoded.bytes > *size) {
    throw DecryptFailed{};
  }
  CipherCtxPtr ctx = StartGcmDecrypt(key, nonce);
  // The prefix is ciphertext until this step turns it into plaintext where it lies.
  size_t done = GcmDecryptUpdate(ctx.get(), plaintext.data(), decoded.bytes, plaintext.data());
  std::vector<uint8_t> slice(
      Base64MaxDecodedLength(text_size < kOpenTextSlice ? text_size : kOpenTextSlice));
  for (size_t at = decoded.text; at < text_size;) {
    size_t take = text_size - at < kOpenTextSlice ? text_size - at : kOpenTextSlice;
    size_t decoded_now = 0;
    // Padding belongs at the very end: a slice before the last must decode to its full length.
    if (!Base64DecodeStrictTo(text + at, take, slice.data(), &decoded_now) ||
        (at + take < text_size && decoded_now != Base64MaxDecodedLength(take)) ||
        done + decoded_now > *size) {
      throw DecryptFailed{};
    }
    done += GcmDecryptUpdate(ctx.get(), slice.data(), decoded_now, plaintext.data() + done);
    at += take;
  }
  if (done != *size) throw DecryptFailed{};
  if (text_decoded != nullptr) *text_decoded = true;
  FinishGcmDecrypt(ctx.get(), tag, plaintext.data() + done);
}

void SetAesKeyObserver(AesKeyObserver observer) { g_key_observer.store(observer); }

namespace {

// Every seal: a fresh AES key, generated straight into secure memory, and a fresh nonce.
void FreshKeyAndNonce(SecureRegion& aes_key, uint8_t (&nonce)[kGcmNonceBytes]) {
  if (RAND_bytes(aes_key.data(), kAesKeyBytes) != 1 || RAND_bytes(nonce, kGcmNonceBytes) != 1) {
    throw EncryptFailed{};
  }
  ObserveKey(aes_key);
}

}  // namespace

PackageFields Seal(const SecureRegion& plaintext, EVP_PKEY* recipient) {
  ErrorQueueGuard clear_errors;
  SecureRegion aes_key(kAesKeyBytes);
  uint8_t nonce[kGcmNonceBytes];
  uint8_t tag[kGcmTagBytes];
  FreshKeyAndNonce(aes_key, nonce);
  std::vector<uint8_t> ciphertext(plaintext.size());
  GcmEncrypt(aes_key, nonce, plaintext.data(), plaintext.size(), ciphertext.data(), tag);
  std::vector<uint8_t> wrapped = WrapKey(aes_key, recipient);
  return PackageFields{Base64Encode(ciphertext.data(), ciphertext.size()),
                       Base64Encode(nonce, sizeof nonce), Base64Encode(tag, sizeof tag),
                       Base64Encode(wrapped.data(), wrapped.size())};
}

namespace {

// Protocol 1.0 body, split around its variable parts.
constexpr char kBodyHead[] =
    "{\"version\":\"1.0\",\"algorithm\":\"hybrid-aes256-rsa4096\","
    "\"encrypted_payload\":{\"ciphertext\":\"";
constexpr char kBodyNonce[] = "\",\"nonce\":\"";
constexpr char kBodyTag[] = "\",\"tag\":\"";
constexpr char kBodyKey[] = "\"},\"encrypted_aes_key\":\"";
constexpr char kBodyTail[] =
    "\",\"key_algorithm\":\"RSA-OAEP-SHA256\",\"payload_algorithm\":\"AES-256-GCM\"}";

// A multiple of 3, so that the base64 of the slices concatenates into the base64 of the whole.
constexpr size_t kSealSlice = 3 * 16 * 1024;

class BodyWriter {
 public:
  explicit BodyWriter(char* out) : out_(out) {}
  void Text(const char* text, size_t n) {
    memcpy(out_ + at_, text, n);
    at_ += n;
  }
  template <size_t N>
  void Text(const char (&text)[N]) {
    Text(text, N - 1);
  }
  void Base64(const uint8_t* data, size_t n) { at_ += Base64EncodeTo(data, n, out_ + at_); }
  size_t size() const { return at_; }

 private:
  char* out_;
  size_t at_ = 0;
};

}  // namespace

PackageBody SealPackageBody(const SecureRegion& plaintext, EVP_PKEY* recipient) {
  ErrorQueueGuard clear_errors;
  SecureRegion aes_key(kAesKeyBytes);
  uint8_t nonce[kGcmNonceBytes];
  uint8_t tag[kGcmTagBytes];
  FreshKeyAndNonce(aes_key, nonce);
  std::vector<uint8_t> wrapped = WrapKey(aes_key, recipient);

  const size_t n = plaintext.size();
  PackageBody body;
  size_t capacity = sizeof kBodyHead + Base64EncodedLength(n) + sizeof kBodyNonce +
                    Base64EncodedLength(kGcmNonceBytes) + sizeof kBodyTag +
                    Base64EncodedLength(kGcmTagBytes) + sizeof kBodyKey +
                    Base64EncodedLength(wrapped.size()) + sizeof kBodyTail;
  body.bytes.reset(new char[capacity]);
  BodyWriter out(body.bytes.get());
  out.Text(kBodyHead);

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, aes_key.data(), nonce) != 1) {
    throw EncryptFailed{};
  }
  // Sized for this plaintext: a small request should not allocate and clear a full slice.
  std::vector<uint8_t> slice(n < kSealSlice ? n : kSealSlice);
  for (size_t done = 0; done < n;) {
    size_t take = n - done < kSealSlice ? n - done : kSealSlice;
    int out_len = 0;
    if (EVP_EncryptUpdate(ctx.get(), slice.data(), &out_len, plaintext.data() + done,
                          static_cast<int>(take)) != 1 ||
        static_cast<size_t>(out_len) != take) {
      throw EncryptFailed{};
    }
    out.Base64(slice.data(), take);
    done += take;
  }
  int final_len = 0;
  uint8_t final_block[16];  // GCM is a stream mode: Final writes nothing here
  if (EVP_EncryptFinal_ex(ctx.get(), final_block, &final_len) != 1 || final_len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagBytes, tag) != 1) {
    throw EncryptFailed{};
  }
  out.Text(kBodyNonce);
  out.Base64(nonce, sizeof nonce);
  out.Text(kBodyTag);
  out.Base64(tag, sizeof tag);
  out.Text(kBodyKey);
  out.Base64(wrapped.data(), wrapped.size());
  out.Text(kBodyTail);
  body.size = out.size();
  return body;
}

SharedRegion OpenDecoded(const std::vector<uint8_t>& ciphertext, const std::vector<uint8_t>& nonce,
                         const std::vector<uint8_t>& tag, const std::vector<uint8_t>& wrapped,
                         EVP_PKEY* private_key) {
  ErrorQueueGuard clear_errors;
  if (nonce.size() != kGcmNonceBytes || tag.size() != kGcmTagBytes) throw DecryptFailed{};
  SharedRegion aes_key = UnwrapAesKey(wrapped.data(), wrapped.size(), private_key);
  return GcmDecrypt(*aes_key, nonce.data(), ciphertext.data(), ciphertext.size(), tag.data());
}

SharedRegion Open(const PackageFields& fields, EVP_PKEY* private_key) {
  auto ciphertext = Base64DecodeStrict(fields.ciphertext);
  auto nonce = Base64DecodeStrict(fields.nonce);
  auto tag = Base64DecodeStrict(fields.tag);
  auto wrapped = Base64DecodeStrict(fields.encrypted_key);
  if (!ciphertext || !nonce || !tag || !wrapped) throw DecryptFailed{};
  return OpenDecoded(*ciphertext, *nonce, *tag, *wrapped, private_key);
}

}  // namespace nomyo
