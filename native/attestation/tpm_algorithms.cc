#include "tpm_algorithms.h"

#include <cstdio>

namespace nomyo {
namespace {

constexpr HashAlgorithm kHashes[] = {
    {TPM2_ALG_SHA256, "sha256", TPM2_SHA256_DIGEST_SIZE, EVP_sha256},
    {TPM2_ALG_SHA384, "sha384", TPM2_SHA384_DIGEST_SIZE, EVP_sha384},
    {TPM2_ALG_SHA512, "sha512", TPM2_SHA512_DIGEST_SIZE, EVP_sha512},
};

constexpr EccCurve kCurves[] = {
    {TPM2_ECC_NIST_P256, "P-256", "prime256v1", 32},
    {TPM2_ECC_NIST_P384, "P-384", "secp384r1", 48},
};

std::string Hex16(uint16_t value) {
  char text[8];
  snprintf(text, sizeof(text), "0x%04x", value);
  return text;
}

}  // namespace

const HashAlgorithm* FindHash(TPM2_ALG_ID id) {
  for (const HashAlgorithm& hash : kHashes) {
    if (hash.id == id) return &hash;
  }
  return nullptr;
}

const HashAlgorithm* FindHashByName(const std::string& name) {
  for (const HashAlgorithm& hash : kHashes) {
    if (name == hash.name) return &hash;
  }
  return nullptr;
}

const EccCurve* FindCurve(TPM2_ECC_CURVE id) {
  for (const EccCurve& curve : kCurves) {
    if (curve.id == id) return &curve;
  }
  return nullptr;
}

std::string AlgorithmName(TPM2_ALG_ID id) {
  switch (id) {
    case TPM2_ALG_RSA: return "rsa";
    case TPM2_ALG_ECC: return "ecc";
    case TPM2_ALG_KEYEDHASH: return "keyedhash";
    case TPM2_ALG_SYMCIPHER: return "symcipher";
    case TPM2_ALG_SHA1: return "sha1";
    case TPM2_ALG_SHA256: return "sha256";
    case TPM2_ALG_SHA384: return "sha384";
    case TPM2_ALG_SHA512: return "sha512";
    case TPM2_ALG_SM3_256: return "sm3_256";
    case TPM2_ALG_HMAC: return "hmac";
    case TPM2_ALG_RSASSA: return "rsassa";
    case TPM2_ALG_RSAPSS: return "rsapss";
    case TPM2_ALG_ECDSA: return "ecdsa";
    case TPM2_ALG_ECDAA: return "ecdaa";
    case TPM2_ALG_SM2: return "sm2";
    case TPM2_ALG_ECSCHNORR: return "ecschnorr";
    case TPM2_ALG_NULL: return "null";
    default: return Hex16(id);
  }
}

std::string CurveName(TPM2_ECC_CURVE id) {
  switch (id) {
    case TPM2_ECC_NIST_P192: return "P-192";
    case TPM2_ECC_NIST_P224: return "P-224";
    case TPM2_ECC_NIST_P256: return "P-256";
    case TPM2_ECC_NIST_P384: return "P-384";
    case TPM2_ECC_NIST_P521: return "P-521";
    case TPM2_ECC_BN_P256: return "BN-P256";
    case TPM2_ECC_BN_P638: return "BN-P638";
    case TPM2_ECC_SM2_P256: return "SM2-P256";
    default: return Hex16(id);
  }
}

std::string AttestTypeName(TPM2_ST type) {
  switch (type) {
    case TPM2_ST_ATTEST_QUOTE: return "quote";
    case TPM2_ST_ATTEST_CERTIFY: return "certify";
    case TPM2_ST_ATTEST_CREATION: return "creation";
    case TPM2_ST_ATTEST_TIME: return "time";
    case TPM2_ST_ATTEST_COMMAND_AUDIT: return "command_audit";
    case TPM2_ST_ATTEST_SESSION_AUDIT: return "session_audit";
    case TPM2_ST_ATTEST_NV: return "nv";
    default: return Hex16(type);
  }
}

}  // namespace nomyo
