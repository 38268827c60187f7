// RSA key pairs: generation, PEM import and export. Private keys exist only in
// OpenSSL objects (whose private numbers OpenSSL keeps in its secure heap) and,
// when serialized, in secure regions.
#pragma once

#include <string>

#include "../crypto/openssl_ptr.h"
#include "../secure_memory/secure_region.h"

namespace nomyo {

constexpr int kMinRsaBits = 2048;
constexpr int kPbkdf2Iterations = 600000;

// A key operation that failed for a reason the caller may act on.
struct KeyFailure {
  const char* code;
  const char* message;
};

SharedPkey GenerateRsaKey(int bits);

// Accepts PKCS#8 (plain or encrypted) and traditional RSA PEM. `password` may be null.
SharedPkey ImportPrivateKeyPem(const SecureRegion& pem, const SecureRegion* password);
SharedPkey ImportPublicKeyPem(const std::string& pem);

std::string ExportPublicKeyPem(EVP_PKEY* key);
// PKCS#8; encrypted with PBES2 (AES-256-CBC, PBKDF2-HMAC-SHA256) when a password is given.
SharedRegion ExportPrivateKeyPem(EVP_PKEY* key, const SecureRegion* password);

int KeyBits(EVP_PKEY* key);

// Puts OpenSSL's secure heap under private key material if nothing did so yet.
void EnsureOpenSslSecureHeap();
struct SecureHeapInfo {
  bool initialized;
  // OpenSSL said its pages are locked when this addon set it up; otherwise the
  // kernel says so of the mapping that holds its allocations.
  bool locked;
  size_t used_bytes;
};
SecureHeapInfo OpenSslSecureHeapInfo();

}  // namespace nomyo
