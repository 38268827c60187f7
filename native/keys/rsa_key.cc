#include "rsa_key.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <string.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "../error_codes.h"

namespace nomyo {
namespace {

constexpr size_t kSecureHeapBytes = size_t{1} << 19;
constexpr size_t kSecureHeapMinChunk = 32;

struct PasswordSource {
  const SecureRegion* password;
  bool asked = false;
};

// OpenSSL's default callback would prompt on the terminal; this one answers only
// from the caller's password, and says "none" when there is none.
int PasswordCallback(char* buf, int size, int /*rwflag*/, void* user) {
  auto* source = static_cast<PasswordSource*>(user);
  source->asked = true;
  if (source->password == nullptr) return -1;
  size_t n = source->password->size();
  if (n > static_cast<size_t>(size)) return -1;
  memcpy(buf, source->password->data(), n);
  return static_cast<int>(n);
}

bool LooksEncrypted(const SecureRegion& pem) {
  const void* base = pem.data();
  return memmem(base, pem.size(), "ENCRYPTED", 9) != nullptr;
}

void CheckUsableRsa(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    throw KeyFailure{code::kKeyUnsupported, "only RSA keys are supported"};
  }
  if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
    throw KeyFailure{code::kKeyTooSmall, "RSA keys under 2048 bits are refused"};
  }
}

// A private key whose numbers do not belong together (a damaged file, a
// CBC-garbled block decrypted with the right password) parses all the same:
// check n = pq, ed = 1 mod lambda(n) and the CRT values before using it.
void CheckPrivateConsistency(EVP_PKEY* key) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || EVP_PKEY_pairwise_check(ctx.get()) != 1) {
    throw KeyFailure{code::kKeyInvalid, "the private key is damaged: its numbers do not match"};
  }
}

SharedRegion DrainToRegion(BIO* bio) {
  char* bytes = nullptr;
  long n = BIO_get_mem_data(bio, &bytes);
  if (n < 0) throw KeyFailure{code::kKeyInvalid, "could not serialize the key"};
  SharedRegion region = MakeRegion(static_cast<size_t>(n));
  memcpy(region->data(), bytes, static_cast<size_t>(n));
  return region;
}

}  // namespace

SharedPkey GenerateRsaKey(int bits) {
  ErrorQueueGuard clear_errors;
  if (bits < kMinRsaBits || bits > 16384) {
    throw KeyFailure{code::kKeyTooSmall, "RSA key size must be between 2048 and 16384 bits"};
  }
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  if (!key) throw KeyFailure{code::kKeyGenerationFailed, "RSA key generation failed"};
  return ShareKey(std::move(key));
}

SharedPkey ImportPrivateKeyPem(const SecureRegion& pem, const SecureRegion* password) {
  ErrorQueueGuard clear_errors;
  if (pem.size() > INT_MAX) throw KeyFailure{code::kKeyInvalid, "not a PEM private key"};
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw KeyFailure{code::kOutOfMemory, "out of memory"};
  PasswordSource source{password};
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, PasswordCallback, &source));
  if (!key) {
    if (LooksEncrypted(pem)) {
      if (password == nullptr) {
        throw KeyFailure{code::kKeyPasswordRequired,
                         "the private key is encrypted and no password was given"};
      }
      throw KeyFailure{code::kKeyBadPassword,
                       "could not decrypt the private key: wrong password or damaged file"};
    }
    throw KeyFailure{code::kKeyInvalid, "not a readable PEM private key"};
  }
  CheckUsableRsa(key.get());
  CheckPrivateConsistency(key.get());
  return ShareKey(std::move(key));
}

SharedPkey ImportPublicKeyPem(const std::string& pem) {
  ErrorQueueGuard clear_errors;
  // The protocol carries SubjectPublicKeyInfo; OpenSSL's decoder would also take
  // PKCS#1 "RSA PUBLIC KEY", which other implementations refuse.
  size_t label = pem.find_first_not_of(" \t\r\n");
  if (label == std::string::npos || pem.compare(label, 26, "-----BEGIN PUBLIC KEY-----") != 0) {
    throw KeyFailure{code::kKeyInvalid, "not a PEM (SubjectPublicKeyInfo) public key"};
  }
  if (pem.size() > INT_MAX) throw KeyFailure{code::kKeyInvalid, "not a PEM public key"};
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw KeyFailure{code::kOutOfMemory, "out of memory"};
  PasswordSource none{nullptr};
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, PasswordCallback, &none));
  if (!key) throw KeyFailure{code::kKeyInvalid, "not a PEM (SubjectPublicKeyInfo) public key"};
  CheckUsableRsa(key.get());
  return ShareKey(std::move(key));
}

std::string ExportPublicKeyPem(EVP_PKEY* key) {
  ErrorQueueGuard clear_errors;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    throw KeyFailure{code::kKeyInvalid, "could not serialize the public key"};
  }
  char* bytes = nullptr;
  long n = BIO_get_mem_data(bio.get(), &bytes);
  return std::string(bytes, static_cast<size_t>(n));
}

SharedRegion ExportPrivateKeyPem(EVP_PKEY* key, const SecureRegion* password) {
  ErrorQueueGuard clear_errors;
  // A secure-memory BIO: the serialized key never sits in OpenSSL's plain heap.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio) throw KeyFailure{code::kOutOfMemory, "out of memory"};
  Pkcs8InfoPtr info(EVP_PKEY2PKCS8(key));
  if (!info) throw KeyFailure{code::kKeyInvalid, "could not serialize the private key"};
  if (password == nullptr) {
    if (PEM_write_bio_PKCS8_PRIV_KEY_INFO(bio.get(), info.get()) != 1) {
      throw KeyFailure{code::kKeyInvalid, "could not serialize the private key"};
    }
    return DrainToRegion(bio.get());
  }
  if (password->size() > INT_MAX) throw KeyFailure{code::kKeyInvalid, "password too long"};
  X509AlgorPtr pbe(PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), kPbkdf2Iterations, nullptr, 0, nullptr,
                                     NID_hmacWithSHA256));
  if (!pbe) throw KeyFailure{code::kKeyInvalid, "could not set up key encryption"};
  X509SigPtr encrypted(PKCS8_set0_pbe(reinterpret_cast<const char*>(password->data()),
                                      static_cast<int>(password->size()), info.get(), pbe.get()));
  if (!encrypted) throw KeyFailure{code::kKeyInvalid, "could not encrypt the private key"};
  pbe.release();  // owned by `encrypted` now
  if (PEM_write_bio_PKCS8(bio.get(), encrypted.get()) != 1) {
    throw KeyFailure{code::kKeyInvalid, "could not serialize the private key"};
  }
  return DrainToRegion(bio.get());
}

int KeyBits(EVP_PKEY* key) { return EVP_PKEY_get_bits(key); }

namespace {
std::atomic<bool> g_secure_heap_locked{false};
std::atomic<bool> g_secure_heap_set_up_here{false};

// When another copy of OpenSSL's user (another addon, Node itself) set the
// secure heap up, its init result is not ours to see: ask the kernel whether
// the mapping that holds a secure allocation is locked (VmFlags "lo").
bool SecureHeapPagesLocked() {
  void* probe = OPENSSL_secure_malloc(1);
  if (probe == nullptr) return false;
  bool locked = false;
  if (CRYPTO_secure_allocated(probe)) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(probe);
    if (FILE* smaps = fopen("/proc/self/smaps", "re")) {
      char line[512];
      bool inside = false;
      while (fgets(line, sizeof line, smaps) != nullptr) {
        unsigned long start = 0, end = 0;
        if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {  // a mapping's header line
          inside = start <= at && at < end;
        } else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
          locked = strstr(line, " lo") != nullptr;
          break;
        }
      }
      fclose(smaps);
    }
  }
  OPENSSL_secure_free(probe);
  return locked;
}
}  // namespace

void EnsureOpenSslSecureHeap() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (CRYPTO_secure_malloc_initialized() == 0) {
      // 1: set up and locked; 2: set up, but the lock (mlock) was refused.
      g_secure_heap_locked = CRYPTO_secure_malloc_init(kSecureHeapBytes, kSecureHeapMinChunk) == 1;
      g_secure_heap_set_up_here = true;
    }
  });
}

SecureHeapInfo OpenSslSecureHeapInfo() {
  const bool initialized = CRYPTO_secure_malloc_initialized() != 0;
  if (initialized && !g_secure_heap_set_up_here) {
    static std::once_flag once;
    std::call_once(once, [] { g_secure_heap_locked = SecureHeapPagesLocked(); });
  }
  return {initialized, g_secure_heap_locked.load(), CRYPTO_secure_used()};
}

}  // namespace nomyo
