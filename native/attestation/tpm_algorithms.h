// The TPM algorithm identifiers (TPM 2.0 Part 2, TPM_ALG_ID and TPM_ECC_CURVE)
// the verifier accepts, with their OpenSSL counterparts and display names.
#pragma once

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include <string>

namespace nomyo {

// A hash the verifier accepts for signatures and PCR banks. SHA-1 is not one:
// a quote over SHA-1 is refused rather than trusted.
struct HashAlgorithm {
  TPM2_ALG_ID id;
  const char* name;  // as in pcr_banks: "sha256"
  size_t digest_size;
  const EVP_MD* (*message_digest)();
};

// Null for any algorithm other than SHA-256, SHA-384 and SHA-512.
const HashAlgorithm* FindHash(TPM2_ALG_ID id);
const HashAlgorithm* FindHashByName(const std::string& name);

// A curve the verifier accepts for an ECC attestation key.
struct EccCurve {
  TPM2_ECC_CURVE id;
  const char* name;           // "P-256"
  const char* openssl_group;  // the group name OpenSSL's providers know
  size_t coordinate_size;     // bytes of one affine coordinate
};

// Null for any curve other than NIST P-256 and P-384.
const EccCurve* FindCurve(TPM2_ECC_CURVE id);

// A readable name for any algorithm identifier: "rsassa", "sha256", or "0x0042".
std::string AlgorithmName(TPM2_ALG_ID id);
std::string CurveName(TPM2_ECC_CURVE id);
// "quote", "certify", ... for a TPM_ST_ATTEST_* tag, else the hex value.
std::string AttestTypeName(TPM2_ST type);

}  // namespace nomyo
