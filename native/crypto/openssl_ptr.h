// Owners for OpenSSL objects, so that no early return leaks one.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace nomyo {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};

inline void FreeBio(BIO* bio) { BIO_free_all(bio); }

using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using CipherCtxPtr =
    std::unique_ptr<EVP_CIPHER_CTX, OpenSslDeleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, FreeBio>>;
using Pkcs8InfoPtr = std::unique_ptr<PKCS8_PRIV_KEY_INFO,
                                     OpenSslDeleter<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>>;
using X509SigPtr = std::unique_ptr<X509_SIG, OpenSslDeleter<X509_SIG, X509_SIG_free>>;
using X509AlgorPtr = std::unique_ptr<X509_ALGOR, OpenSslDeleter<X509_ALGOR, X509_ALGOR_free>>;

// A key shared between the JS wrapper and the workers that use it, so a key
// dropped by JS mid-operation stays alive until the operation ends.
using SharedPkey = std::shared_ptr<EVP_PKEY>;
inline SharedPkey ShareKey(PkeyPtr key) { return SharedPkey(key.release(), EVP_PKEY_free); }

// OpenSSL keeps a per-thread error queue; a failure that is reported as one
// opaque error must not leave its detailed reasons behind for the next caller.
struct ErrorQueueGuard {
  ~ErrorQueueGuard() { ERR_clear_error(); }
};

}  // namespace nomyo
