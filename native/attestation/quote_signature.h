// The quote's TPMT_SIGNATURE (TPM 2.0 Part 2, 11.3.4): which scheme and hash it
// declares, whether the attestation key allows them, and whether it verifies.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <string>

#include "tpm_algorithms.h"
#include "tpm_wire.h"

namespace nomyo {

// The scheme and hash a signature declares, when the verifier accepts both:
// RSASSA (PKCS#1 v1.5) and RSAPSS for RSA keys, ECDSA for ECC keys, each with
// SHA-256, SHA-384 or SHA-512.
struct SignatureScheme {
  TPM2_ALG_ID algorithm;      // TPM2_ALG_RSASSA, TPM2_ALG_RSAPSS or TPM2_ALG_ECDSA
  TPM2_ALG_ID key_type;       // the key type that scheme needs: TPM2_ALG_RSA or TPM2_ALG_ECC
  const HashAlgorithm* hash;  // null when `problem` is set
  std::string problem;
};
SignatureScheme ResolveSignatureScheme(const TPMT_SIGNATURE& signature);

// The hash algorithm identifier in the signature, whatever the scheme; TPM2_ALG_NULL
// for schemes that carry none.
TPM2_ALG_ID DeclaredSignatureHash(const TPMT_SIGNATURE& signature);

// Empty when `aik` may make a signature of `scheme`: its type is the type the
// scheme needs, and its own scheme, unless TPM2_ALG_NULL, is the same scheme
// with the same hash. A restricted key signs only with its declared scheme.
std::string SchemeProblemForKey(const TPMT_PUBLIC& aik, const SignatureScheme& scheme);

// True when `signature` verifies over `message` under `key` with exactly the
// declared scheme and hash; `problem` says why not otherwise.
bool SignatureVerifies(EVP_PKEY* key, const TPMT_SIGNATURE& signature,
                       const SignatureScheme& scheme, ByteView message, std::string* problem);

}  // namespace nomyo
