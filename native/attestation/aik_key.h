// The attestation key (AIK) as its TPMT_PUBLIC (TPM 2.0 Part 2, 12.2.4)
// describes it: the object attributes that make it an attestation key, the
// signing scheme it declares, and its public key as an OpenSSL key.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <string>
#include <vector>

#include "../crypto/openssl_ptr.h"

namespace nomyo {

// RSA attestation keys below this size are refused, as everywhere in the SDK.
constexpr TPMI_RSA_KEY_BITS kMinAikRsaBits = 2048;

// The attributes a key must have for its signature over a TPMS_ATTEST to mean
// the TPM made that TPMS_ATTEST: restricted and sign (the TPM signs with it only
// structures it made itself, never a digest starting with TPM_GENERATED_VALUE
// handed in from outside), fixedTPM and fixedParent (it cannot leave the TPM),
// sensitiveDataOrigin (the TPM generated it) -- and not decrypt.
// Empty when all hold; otherwise each that does not, e.g. "restricted is clear".
std::vector<std::string> AttestationKeyAttributeProblems(TPMA_OBJECT attributes);

// Names of the attributes set, for the report: "fixedtpm", "restricted", ...
std::vector<std::string> ObjectAttributeNames(TPMA_OBJECT attributes);

// The signing scheme the key declares in its parameters (TPMT_RSA_SCHEME or
// TPMT_ECC_SCHEME). `scheme` is TPM2_ALG_NULL when the key leaves it open.
struct DeclaredScheme {
  TPM2_ALG_ID scheme;
  TPM2_ALG_ID hash;
};
DeclaredScheme AikDeclaredScheme(const TPMT_PUBLIC& aik);

// The key in OpenSSL form, or why there is none.
struct AikPublicKey {
  PkeyPtr key;
  std::string problem;
};

// RSA: the modulus from unique.rsa, the exponent from the parameters (0 means
// 65537, otherwise odd and above 2), keyBits matching the modulus and at least
// kMinAikRsaBits.
// ECC: the point (unique.ecc.x, unique.ecc.y) on NIST P-256 or P-384, passing
// OpenSSL's public-key check (on the curve, in the prime-order subgroup).
AikPublicKey MakeAikPublicKey(const TPMT_PUBLIC& aik);

}  // namespace nomyo
