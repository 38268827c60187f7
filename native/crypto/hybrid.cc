#include "hybrid.h"

#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <atomic>
#include <climits>
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

SharedRegion UnwrapKey(const std::vector<uint8_t>& wrapped, EVP_PKEY* private_key) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(private_key, nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) <= 0 || !ConfigureOaep(ctx.get())) {
    throw DecryptFailed{};
  }
  // The output buffer is sized for the modulus; OAEP yields at most that.
  SharedRegion key = MakeRegion(static_cast<size_t>(EVP_PKEY_get_size(private_key)));
  size_t out_len = key->size();
  if (EVP_PKEY_decrypt(ctx.get(), key->data(), &out_len, wrapped.data(), wrapped.size()) <= 0 ||
      out_len != kAesKeyBytes) {
    throw DecryptFailed{};
  }
  key->truncate(out_len);
  return key;
}

}  // namespace

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
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (key.size() != kAesKeyBytes || !ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1) {
    throw DecryptFailed{};
  }
  // Plaintext is written only into secure memory and is wiped with the region
  // if the tag does not verify; nothing is released before that check.
  SharedRegion plaintext = MakeRegion(size);
  size_t done = 0;
  while (done < size) {
    size_t n = size - done < kGcmSlice ? size - done : kGcmSlice;
    int out_len = 0;
    if (EVP_DecryptUpdate(ctx.get(), plaintext->data() + done, &out_len, ciphertext + done,
                          static_cast<int>(n)) != 1) {
      throw DecryptFailed{};
    }
    done += static_cast<size_t>(out_len);
  }
  int final_len = 0;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagBytes,
                          const_cast<uint8_t*>(tag)) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plaintext->data() + done, &final_len) != 1) {
    throw DecryptFailed{};
  }
  return plaintext;
}

void SetAesKeyObserver(AesKeyObserver observer) { g_key_observer.store(observer); }

PackageFields Seal(const SecureRegion& plaintext, EVP_PKEY* recipient) {
  ErrorQueueGuard clear_errors;
  SecureRegion aes_key(kAesKeyBytes);
  uint8_t nonce[kGcmNonceBytes];
  uint8_t tag[kGcmTagBytes];
  if (RAND_bytes(aes_key.data(), kAesKeyBytes) != 1 || RAND_bytes(nonce, kGcmNonceBytes) != 1) {
    throw EncryptFailed{};
  }
  ObserveKey(aes_key);
  std::vector<uint8_t> ciphertext(plaintext.size());
  GcmEncrypt(aes_key, nonce, plaintext.data(), plaintext.size(), ciphertext.data(), tag);
  std::vector<uint8_t> wrapped = WrapKey(aes_key, recipient);
  return PackageFields{Base64Encode(ciphertext.data(), ciphertext.size()),
                       Base64Encode(nonce, sizeof nonce), Base64Encode(tag, sizeof tag),
                       Base64Encode(wrapped.data(), wrapped.size())};
}

SharedRegion Open(const PackageFields& fields, EVP_PKEY* private_key) {
  ErrorQueueGuard clear_errors;
  auto ciphertext = Base64DecodeStrict(fields.ciphertext);
  auto nonce = Base64DecodeStrict(fields.nonce);
  auto tag = Base64DecodeStrict(fields.tag);
  auto wrapped = Base64DecodeStrict(fields.encrypted_key);
  if (!ciphertext || !nonce || !tag || !wrapped || nonce->size() != kGcmNonceBytes ||
      tag->size() != kGcmTagBytes) {
    throw DecryptFailed{};
  }
  SharedRegion aes_key = UnwrapKey(*wrapped, private_key);
  ObserveKey(*aes_key);
  return GcmDecrypt(*aes_key, nonce->data(), ciphertext->data(), ciphertext->size(), tag->data());
}

}  // namespace nomyo
