#include "quote_signature.h"

#include <openssl/rsa.h>

#include <vector>

#include "aik_key.h"
#include "attestation_openssl.h"

namespace nomyo {
namespace {

std::string SchemeLabel(TPM2_ALG_ID scheme, TPM2_ALG_ID hash) {
  return AlgorithmName(scheme) + "-" + AlgorithmName(hash);
}

// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279), which is
// what OpenSSL verifies; the TPM hands r and s over as unsigned big-endian bytes.
bool EcdsaDer(const TPMS_SIGNATURE_ECC& ecc, std::vector<uint8_t>* der) {
  EcdsaSigPtr signature(ECDSA_SIG_new());
  BignumPtr r(BN_bin2bn(ecc.signatureR.buffer, ecc.signatureR.size, nullptr));
  BignumPtr s(BN_bin2bn(ecc.signatureS.buffer, ecc.signatureS.size, nullptr));
  if (!signature || !r || !s || ECDSA_SIG_set0(signature.get(), r.get(), s.get()) != 1) {
    return false;
  }
  // ECDSA_SIG_set0 took ownership of r and s.
  r.release();
  s.release();
  int size = i2d_ECDSA_SIG(signature.get(), nullptr);
  if (size <= 0) return false;
  der->resize(static_cast<size_t>(size));
  uint8_t* cursor = der->data();
  return i2d_ECDSA_SIG(signature.get(), &cursor) == size;
}

// Sets the RSA padding the declared scheme means on a verification context.
bool ConfigureRsaPadding(EVP_PKEY_CTX* context, TPM2_ALG_ID algorithm, const EVP_MD* digest) {
  if (algorithm == TPM2_ALG_RSASSA) {
    return EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1;
  }
  // RSAPSS: MGF1 with the signature's own hash. The salt length is read from the
  // signature (RSA_PSS_SALTLEN_AUTO): TPM 2.0 Part 1 (B.7) lets a TPM use either
  // the largest salt the key and hash allow or, under FIPS 186-4, a salt as long
  // as the digest, and a verifier cannot know which; both are sound PSS, and the
  // salt length is no part of what the signature proves.
  return EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(context, digest) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(context, RSA_PSS_SALTLEN_AUTO) == 1;
}

}  // namespace

TPM2_ALG_ID DeclaredSignatureHash(const TPMT_SIGNATURE& signature) {
  switch (signature.sigAlg) {
    case TPM2_ALG_RSASSA: return signature.signature.rsassa.hash;
    case TPM2_ALG_RSAPSS: return signature.signature.rsapss.hash;
    case TPM2_ALG_ECDSA: return signature.signature.ecdsa.hash;
    default: return TPM2_ALG_NULL;
  }
}

SignatureScheme ResolveSignatureScheme(const TPMT_SIGNATURE& signature) {
  SignatureScheme scheme{signature.sigAlg, TPM2_ALG_NULL, nullptr, std::string()};
  switch (signature.sigAlg) {
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS: scheme.key_type = TPM2_ALG_RSA; break;
    case TPM2_ALG_ECDSA: scheme.key_type = TPM2_ALG_ECC; break;
    default:
      scheme.problem = "signature scheme " + AlgorithmName(signature.sigAlg) +
                       " is not accepted (rsassa, rsapss, ecdsa)";
      return scheme;
  }
  TPM2_ALG_ID hash = DeclaredSignatureHash(signature);
  scheme.hash = FindHash(hash);
  if (scheme.hash == nullptr) {
    scheme.problem =
        "signature hash " + AlgorithmName(hash) + " is not accepted (sha256, sha384, sha512)";
  }
  return scheme;
}

std::string SchemeProblemForKey(const TPMT_PUBLIC& aik, const SignatureScheme& scheme) {
  if (aik.type != scheme.key_type) {
    return "an " + AlgorithmName(scheme.algorithm) + " signature cannot come from an " +
           AlgorithmName(aik.type) + " key";
  }
  DeclaredScheme declared = AikDeclaredScheme(aik);
  if (declared.scheme == TPM2_ALG_NULL) return std::string();
  if (declared.scheme != scheme.algorithm || declared.hash != scheme.hash->id) {
    return "the AIK signs only with " + SchemeLabel(declared.scheme, declared.hash) +
           " but the signature declares " + SchemeLabel(scheme.algorithm, scheme.hash->id);
  }
  return std::string();
}

bool SignatureVerifies(EVP_PKEY* key, const TPMT_SIGNATURE& signature,
                       const SignatureScheme& scheme, ByteView message, std::string* problem) {
  ErrorQueueGuard clear_errors;
  std::vector<uint8_t> encoded;
  switch (scheme.algorithm) {
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS: {
      const TPM2B_PUBLIC_KEY_RSA& rsa = scheme.algorithm == TPM2_ALG_RSASSA
                                            ? signature.signature.rsassa.sig
                                            : signature.signature.rsapss.sig;
      // An RSA signature is exactly as long as the modulus (Part 2, TPMS_SIGNATURE_RSA).
      if (static_cast<int>(rsa.size) != EVP_PKEY_get_size(key)) {
        *problem = "the RSA signature is " + std::to_string(rsa.size) + " bytes, the modulus " +
                   std::to_string(EVP_PKEY_get_size(key));
        return false;
      }
      encoded.assign(rsa.buffer, rsa.buffer + rsa.size);
      break;
    }
    case TPM2_ALG_ECDSA:
      if (!EcdsaDer(signature.signature.ecdsa, &encoded)) {
        *problem = "r and s do not form an ECDSA signature";
        return false;
      }
      break;
    default: *problem = "unsupported signature scheme"; return false;
  }

  const EVP_MD* digest = scheme.hash->message_digest();
  MdCtxPtr context(EVP_MD_CTX_new());
  EVP_PKEY_CTX* key_context = nullptr;  // owned by `context`
  bool ready =
      context && EVP_DigestVerifyInit(context.get(), &key_context, digest, nullptr, key) == 1;
  if (ready && scheme.key_type == TPM2_ALG_RSA) {
    ready = ConfigureRsaPadding(key_context, scheme.algorithm, digest);
  }
  if (!ready) {
    *problem = "could not set up " + AlgorithmName(scheme.algorithm) + " verification";
    return false;
  }
  if (EVP_DigestVerify(context.get(), encoded.data(), encoded.size(), message.data, message.size) !=
      1) {
    *problem = "the signature does not verify under the AIK over the TPMS_ATTEST bytes";
    return false;
  }
  return true;
}

}  // namespace nomyo
