#include "aik_key.h"

#include <openssl/core_names.h>

#include <algorithm>
#include <utility>

#include "attestation_openssl.h"
#include "tpm_algorithms.h"

namespace nomyo {
namespace {

// TPMS_RSA_PARMS.exponent: "When zero, indicates that the exponent is the default of 2^16 + 1".
constexpr uint32_t kDefaultRsaExponent = 65537;
// SEC 1 (2.3.3): an uncompressed point is 0x04, then X, then Y, each padded to the field size.
constexpr uint8_t kUncompressedPoint = 0x04;

struct AttributeName {
  TPMA_OBJECT bit;
  const char* name;
};

constexpr AttributeName kAttributeNames[] = {
    {TPMA_OBJECT_FIXEDTPM, "fixedtpm"},
    {TPMA_OBJECT_STCLEAR, "stclear"},
    {TPMA_OBJECT_FIXEDPARENT, "fixedparent"},
    {TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitivedataorigin"},
    {TPMA_OBJECT_USERWITHAUTH, "userwithauth"},
    {TPMA_OBJECT_ADMINWITHPOLICY, "adminwithpolicy"},
    {TPMA_OBJECT_NODA, "noda"},
    {TPMA_OBJECT_ENCRYPTEDDUPLICATION, "encryptedduplication"},
    {TPMA_OBJECT_RESTRICTED, "restricted"},
    {TPMA_OBJECT_DECRYPT, "decrypt"},
    {TPMA_OBJECT_SIGN_ENCRYPT, "sign"},
};

constexpr AttributeName kRequiredSet[] = {
    {TPMA_OBJECT_RESTRICTED, "restricted"},
    {TPMA_OBJECT_SIGN_ENCRYPT, "sign"},
    {TPMA_OBJECT_FIXEDTPM, "fixedtpm"},
    {TPMA_OBJECT_FIXEDPARENT, "fixedparent"},
    {TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitivedataorigin"},
};

constexpr AttributeName kRequiredClear[] = {
    {TPMA_OBJECT_DECRYPT, "decrypt"},
};

AikPublicKey Refused(std::string problem) { return {PkeyPtr(), std::move(problem)}; }

// TPMS_RSA_PARMS / TPMS_ECC_PARMS: symmetric is set only for restricted
// decryption keys (storage keys) and "shall be TPM_ALG_NULL" otherwise; a TPM
// refuses to create a signing key with anything else.
AikPublicKey NotASigningKey() {
  return Refused("symmetric is not TPM_ALG_NULL, as it is for every signing key");
}

// A public key of `type` ("RSA", "EC") from provider parameters.
PkeyPtr KeyFromParams(const char* type, const OSSL_PARAM* params) {
  PkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!context || EVP_PKEY_fromdata_init(context.get()) != 1) return PkeyPtr();
  EVP_PKEY* key = nullptr;
  // fromdata takes a non-const array but does not modify it.
  if (EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY,
                        const_cast<OSSL_PARAM*>(params)) != 1) {
    return PkeyPtr();
  }
  return PkeyPtr(key);
}

bool PassesPublicKeyCheck(EVP_PKEY* key) {
  PkeyCtxPtr context(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  return context && EVP_PKEY_public_check(context.get()) == 1;
}

AikPublicKey RsaPublicKey(const TPMS_RSA_PARMS& parameters, const TPM2B_PUBLIC_KEY_RSA& modulus) {
  if (parameters.keyBits < kMinAikRsaBits) {
    return Refused("RSA keys under 2048 bits are refused (keyBits " +
                   std::to_string(parameters.keyBits) + ")");
  }
  if (static_cast<size_t>(modulus.size) * 8 != parameters.keyBits) {
    return Refused("the modulus is " + std::to_string(modulus.size) + " bytes but keyBits is " +
                   std::to_string(parameters.keyBits));
  }
  uint32_t exponent = parameters.exponent == 0 ? kDefaultRsaExponent : parameters.exponent;
  // Part 2 asks for "a prime number greater than 2"; odd and at least 3 is what
  // can be checked cheaply, and rules out the exponents that make RSA trivial.
  if (exponent < 3 || exponent % 2 == 0) {
    return Refused("the RSA exponent " + std::to_string(exponent) +
                   " is not an odd number above 2");
  }
  BignumPtr n(BN_bin2bn(modulus.buffer, modulus.size, nullptr));
  BignumPtr e(BN_new());
  if (!n || !e || BN_set_word(e.get(), exponent) != 1) return Refused("out of memory");
  // A modulus whose top byte is zero is shorter than keyBits says.
  if (BN_num_bits(n.get()) != parameters.keyBits) {
    return Refused("the modulus has " + std::to_string(BN_num_bits(n.get())) +
                   " significant bits but keyBits is " + std::to_string(parameters.keyBits));
  }
  ParamBuilderPtr builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return Refused("out of memory");
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
  if (!params) return Refused("out of memory");
  // No EVP_PKEY_public_check here: for RSA it runs a compositeness test of the
  // modulus (milliseconds per quote) that proves nothing a verifier needs -- the
  // key comes from the same server as the signature, so a bad modulus can only
  // make a signature fail, or let the server sign what it could sign anyway.
  PkeyPtr key = KeyFromParams("RSA", params.get());
  if (!key) {
    return Refused("the RSA public key (modulus, exponent " + std::to_string(exponent) +
                   ") is not a valid key");
  }
  return {std::move(key), std::string()};
}

AikPublicKey EccPublicKey(const TPMS_ECC_PARMS& parameters, const TPMS_ECC_POINT& point) {
  const EccCurve* curve = FindCurve(parameters.curveID);
  if (curve == nullptr) {
    return Refused("curve " + CurveName(parameters.curveID) + " is not accepted (P-256, P-384)");
  }
  const size_t width = curve->coordinate_size;
  if (point.x.size > width || point.y.size > width) {
    return Refused(std::string("a coordinate is longer than ") + curve->name + " allows");
  }
  // TPM2B_ECC_PARAMETER may drop leading zero bytes; the SEC 1 encoding needs them back.
  std::vector<uint8_t> encoded(1 + 2 * width, 0);
  encoded[0] = kUncompressedPoint;
  std::copy(point.x.buffer, point.x.buffer + point.x.size,
            encoded.begin() + 1 + width - point.x.size);
  std::copy(point.y.buffer, point.y.buffer + point.y.size, encoded.end() - point.y.size);

  ParamBuilderPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      curve->openssl_group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, encoded.data(),
                                       encoded.size()) != 1) {
    return Refused("out of memory");
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
  if (!params) return Refused("out of memory");
  // Import already refuses a point off the curve; the public-key check also
  // refuses the point at infinity and points outside the prime-order subgroup.
  PkeyPtr key = KeyFromParams("EC", params.get());
  if (!key || !PassesPublicKeyCheck(key.get())) {
    return Refused(std::string("the point is not a valid public key on ") + curve->name);
  }
  return {std::move(key), std::string()};
}

}  // namespace

std::vector<std::string> AttestationKeyAttributeProblems(TPMA_OBJECT attributes) {
  std::vector<std::string> problems;
  for (const AttributeName& required : kRequiredSet) {
    if ((attributes & required.bit) == 0)
      problems.push_back(std::string(required.name) + " is clear");
  }
  for (const AttributeName& forbidden : kRequiredClear) {
    if ((attributes & forbidden.bit) != 0)
      problems.push_back(std::string(forbidden.name) + " is set");
  }
  return problems;
}

std::vector<std::string> ObjectAttributeNames(TPMA_OBJECT attributes) {
  std::vector<std::string> names;
  for (const AttributeName& attribute : kAttributeNames) {
    if ((attributes & attribute.bit) != 0) names.emplace_back(attribute.name);
  }
  return names;
}

DeclaredScheme AikDeclaredScheme(const TPMT_PUBLIC& aik) {
  switch (aik.type) {
    case TPM2_ALG_RSA: {
      const TPMT_RSA_SCHEME& scheme = aik.parameters.rsaDetail.scheme;
      return {scheme.scheme,
              scheme.scheme == TPM2_ALG_NULL ? TPM2_ALG_NULL : scheme.details.anySig.hashAlg};
    }
    case TPM2_ALG_ECC: {
      const TPMT_ECC_SCHEME& scheme = aik.parameters.eccDetail.scheme;
      return {scheme.scheme,
              scheme.scheme == TPM2_ALG_NULL ? TPM2_ALG_NULL : scheme.details.anySig.hashAlg};
    }
    default: return {TPM2_ALG_NULL, TPM2_ALG_NULL};
  }
}

AikPublicKey MakeAikPublicKey(const TPMT_PUBLIC& aik) {
  ErrorQueueGuard clear_errors;
  switch (aik.type) {
    case TPM2_ALG_RSA:
      if (aik.parameters.rsaDetail.symmetric.algorithm != TPM2_ALG_NULL) return NotASigningKey();
      return RsaPublicKey(aik.parameters.rsaDetail, aik.unique.rsa);
    case TPM2_ALG_ECC:
      if (aik.parameters.eccDetail.symmetric.algorithm != TPM2_ALG_NULL) return NotASigningKey();
      return EccPublicKey(aik.parameters.eccDetail, aik.unique.ecc);
    default:
      return Refused("key type " + AlgorithmName(aik.type) +
                     " is not a signing key type (rsa, ecc)");
  }
}

}  // namespace nomyo
