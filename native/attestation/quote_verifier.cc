#include "quote_verifier.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>
#include <utility>

#include "aik_key.h"
#include "attestation_openssl.h"
#include "quote_signature.h"
#include "tpm_wire.h"

namespace nomyo {
namespace {

constexpr const char* kCheckNames[kQuoteCheckCount] = {
    "aik_structure",    "quote_structure", "signature_structure", "attest_magic",
    "attest_type",      "nonce",           "aik_attributes",      "aik_key",
    "signature_scheme", "signature",       "pcr_selection",       "pcr_digest",
};

// TPMS_PCR_SELECT.pcrSelect holds one bit per PCR; the report's indices must fit in it.
static_assert(kMaxPcrIndex < 8 * TPM2_PCR_SELECT_MAX, "PCR indices must fit the selection bitmap");

std::string Hex(const uint8_t* data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(size * 2);
  for (size_t i = 0; i < size; i++) {
    text.push_back(kDigits[data[i] >> 4]);
    text.push_back(kDigits[data[i] & 0x0f]);
  }
  return text;
}

std::string Hex32(uint32_t value) {
  uint8_t bytes[4] = {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
                      static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
  return "0x" + Hex(bytes, sizeof(bytes));
}

std::string JoinIndices(const std::vector<uint32_t>& indices) {
  std::string text;
  for (uint32_t index : indices) {
    if (!text.empty()) text += ",";
    text += std::to_string(index);
  }
  return text.empty() ? "none" : text;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) {
    if (!text.empty()) text += ", ";
    text += part;
  }
  return text;
}

ByteView View(const std::vector<uint8_t>& bytes) { return {bytes.data(), bytes.size()}; }

// Records a check's outcome: it passes when there is no problem. Returns whether it passed.
bool Judge(QuoteVerdict* verdict, QuoteCheck check, std::string problem) {
  size_t slot = static_cast<size_t>(check);
  bool passed = problem.empty();
  verdict->outcomes[slot] = passed ? CheckOutcome::kPass : CheckOutcome::kFail;
  verdict->problems[slot] = std::move(problem);
  return passed;
}

std::string Sha256Fingerprint(const std::vector<uint8_t>& bytes) {
  ErrorQueueGuard clear_errors;
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    return std::string();
  }
  return "sha256:" + Hex(digest, size);
}

// The PCRs a TPML_PCR_SELECTION selects: PCR n is bit (n mod 8) of pcrSelect[n / 8].
std::vector<PcrBankSelection> DescribeSelection(const TPML_PCR_SELECTION& list) {
  std::vector<PcrBankSelection> banks;
  for (uint32_t i = 0; i < list.count; i++) {
    const TPMS_PCR_SELECTION& selection = list.pcrSelections[i];
    PcrBankSelection bank{AlgorithmName(selection.hash), {}};
    for (uint32_t pcr = 0; pcr < 8u * selection.sizeofSelect; pcr++) {
      if ((selection.pcrSelect[pcr / 8] >> (pcr % 8)) & 1) bank.indices.push_back(pcr);
    }
    banks.push_back(std::move(bank));
  }
  return banks;
}

QuoteFacts DescribeAttest(const TPMS_ATTEST& attest) {
  QuoteFacts facts{};
  facts.type = AttestTypeName(attest.type);
  facts.clock = attest.clockInfo.clock;
  facts.reset_count = attest.clockInfo.resetCount;
  facts.restart_count = attest.clockInfo.restartCount;
  facts.safe = attest.clockInfo.safe == TPM2_YES;
  facts.firmware_version = attest.firmwareVersion;
  facts.qualified_signer_hex = Hex(attest.qualifiedSigner.name, attest.qualifiedSigner.size);
  facts.extra_data_hex = Hex(attest.extraData.buffer, attest.extraData.size);
  if (attest.type == TPM2_ST_ATTEST_QUOTE) {
    const TPMS_QUOTE_INFO& quote = attest.attested.quote;
    facts.pcr_selection = DescribeSelection(quote.pcrSelect);
    facts.pcr_digest_hex = Hex(quote.pcrDigest.buffer, quote.pcrDigest.size);
  }
  return facts;
}

void DescribeAik(const TPMT_PUBLIC& aik, AikFacts* facts) {
  DeclaredScheme scheme = AikDeclaredScheme(aik);
  facts->type = AlgorithmName(aik.type);
  facts->scheme = AlgorithmName(scheme.scheme);
  facts->hash = AlgorithmName(scheme.hash);
  facts->bits = aik.type == TPM2_ALG_RSA ? aik.parameters.rsaDetail.keyBits : 0;
  facts->curve = aik.type == TPM2_ALG_ECC ? CurveName(aik.parameters.eccDetail.curveID) : "";
  facts->attributes = ObjectAttributeNames(aik.objectAttributes);
}

// extraData carries the caller's qualifying data verbatim (Part 3, TPM2_Quote):
// it must be the expected nonce, byte for byte and of the same length.
std::string NonceProblem(const TPM2B_DATA& extra_data, const std::vector<uint8_t>& nonce) {
  if (extra_data.size != nonce.size()) {
    return "extraData is " + std::to_string(extra_data.size) + " bytes, the expected nonce " +
           std::to_string(nonce.size());
  }
  if (CRYPTO_memcmp(extra_data.buffer, nonce.data(), nonce.size()) != 0) {
    return "extraData is not the nonce of this payload id";
  }
  return std::string();
}

// The quote must select exactly one bank, the reported one, and in it exactly
// the reported PCRs: no more (values the report would not show), no fewer.
std::string PcrSelectionProblem(const TPML_PCR_SELECTION& quoted,
                                const QuoteExpectations& expected) {
  if (quoted.count != 1) {
    return "the quote selects " + std::to_string(quoted.count) + " banks, the report names one";
  }
  const TPMS_PCR_SELECTION& selection = quoted.pcrSelections[0];
  if (selection.hash != expected.pcr_bank->id) {
    return "the quote's bank is " + AlgorithmName(selection.hash) + ", the report's " +
           expected.pcr_bank->name;
  }
  uint8_t wanted[TPM2_PCR_SELECT_MAX] = {};
  for (uint32_t index : expected.pcr_indices) wanted[index / 8] |= 1u << (index % 8);
  for (size_t i = 0; i < TPM2_PCR_SELECT_MAX; i++) {
    uint8_t selected = i < selection.sizeofSelect ? selection.pcrSelect[i] : 0;
    if (selected != wanted[i]) {
      return "the quote selects PCRs " + JoinIndices(DescribeSelection(quoted)[0].indices) +
             ", the report names " + JoinIndices(expected.pcr_indices);
    }
  }
  return std::string();
}

// pcrDigest is the digest, under the hash of the signing scheme (Part 3,
// TPM2_Quote; not the bank's hash, which may differ), of the selected PCR values
// concatenated in selection order -- ascending index within the one bank.
std::string PcrDigestProblem(const TPM2B_DIGEST& quoted, const HashAlgorithm& hash,
                             const QuoteExpectations& expected) {
  for (size_t i = 0; i < expected.pcr_values.size(); i++) {
    if (expected.pcr_values[i].size() != expected.pcr_bank->digest_size) {
      return "PCR " + std::to_string(expected.pcr_indices[i]) + " is " +
             std::to_string(expected.pcr_values[i].size()) + " bytes, " + expected.pcr_bank->name +
             " values are " + std::to_string(expected.pcr_bank->digest_size);
    }
  }
  if (quoted.size != hash.digest_size) {
    return "pcrDigest is " + std::to_string(quoted.size) + " bytes, a " + hash.name + " digest " +
           std::to_string(hash.digest_size);
  }
  ErrorQueueGuard clear_errors;
  MdCtxPtr context(EVP_MD_CTX_new());
  bool hashed = context && EVP_DigestInit_ex(context.get(), hash.message_digest(), nullptr) == 1;
  for (const std::vector<uint8_t>& value : expected.pcr_values) {
    hashed = hashed && EVP_DigestUpdate(context.get(), value.data(), value.size()) == 1;
  }
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  hashed = hashed && EVP_DigestFinal_ex(context.get(), digest, &size) == 1;
  if (!hashed || size != hash.digest_size) return "could not hash the PCR values";
  if (CRYPTO_memcmp(digest, quoted.buffer, size) != 0) {
    return "pcrDigest is not the " + std::string(hash.name) + " of the reported PCR values";
  }
  return std::string();
}

}  // namespace

const char* QuoteCheckName(QuoteCheck check) { return kCheckNames[static_cast<size_t>(check)]; }

bool QuoteVerdict::verified() const {
  for (CheckOutcome outcome : outcomes) {
    if (outcome != CheckOutcome::kPass) return false;
  }
  return true;
}

std::string QuoteVerdict::failure() const {
  for (size_t i = 0; i < kQuoteCheckCount; i++) {
    if (outcomes[i] == CheckOutcome::kFail) return std::string(kCheckNames[i]) + ": " + problems[i];
  }
  return std::string();
}

QuoteVerdict VerifyQuote(const Tss2MuFunctions& mu, const QuoteEvidence& evidence,
                         const QuoteExpectations& expected) {
  QuoteVerdict verdict;
  verdict.aik.fingerprint = Sha256Fingerprint(evidence.aik_public);

  // Each blob is exactly one structure of its type. The structures are large
  // (TPMS_ATTEST is kilobytes), so they live on the heap.
  auto aik = std::make_unique<TPMT_PUBLIC>();
  bool have_aik = Judge(&verdict, QuoteCheck::kAikStructure,
                        UnmarshalTpm2bPublic(mu, View(evidence.aik_public), aik.get()).reason);
  auto attest = std::make_unique<TPMS_ATTEST>();
  ByteView signed_bytes{nullptr, 0};
  bool have_attest =
      Judge(&verdict, QuoteCheck::kQuoteStructure,
            UnmarshalTpm2bAttest(mu, View(evidence.quote), attest.get(), &signed_bytes).reason);
  auto signature = std::make_unique<TPMT_SIGNATURE>();
  bool have_signature =
      Judge(&verdict, QuoteCheck::kSignatureStructure,
            UnmarshalTpmtSignature(mu, View(evidence.signature), signature.get()).reason);

  // TPMS_ATTEST (Part 2, 10.12.12): made by a TPM, as a quote, for this request.
  if (have_attest) {
    verdict.quote = DescribeAttest(*attest);
    Judge(&verdict, QuoteCheck::kAttestMagic,
          attest->magic == TPM2_GENERATED_VALUE
              ? std::string()
              : "magic is " + Hex32(attest->magic) + ", not TPM_GENERATED_VALUE");
    Judge(&verdict, QuoteCheck::kAttestType,
          attest->type == TPM2_ST_ATTEST_QUOTE
              ? std::string()
              : "type is " + AttestTypeName(attest->type) + ", not TPM_ST_ATTEST_QUOTE");
    Judge(&verdict, QuoteCheck::kNonce, NonceProblem(attest->extraData, expected.nonce));
  }

  // The AIK: a key whose signature over a TPMS_ATTEST means the TPM made it.
  PkeyPtr key;
  if (have_aik) {
    DescribeAik(*aik, &verdict.aik);
    Judge(&verdict, QuoteCheck::kAikAttributes,
          Join(AttestationKeyAttributeProblems(aik->objectAttributes)));
    AikPublicKey made = MakeAikPublicKey(*aik);
    if (Judge(&verdict, QuoteCheck::kAikKey, made.problem)) key = std::move(made.key);
  }

  // The signature: exactly its declared scheme and hash, which the AIK must allow.
  std::optional<SignatureScheme> scheme;
  if (have_signature) {
    verdict.signature = SignatureFacts{AlgorithmName(signature->sigAlg),
                                       AlgorithmName(DeclaredSignatureHash(*signature))};
    scheme = ResolveSignatureScheme(*signature);
    if (have_aik) {
      Judge(&verdict, QuoteCheck::kSignatureScheme,
            scheme->problem.empty() ? SchemeProblemForKey(*aik, *scheme) : scheme->problem);
    }
    // Verifiable whenever the scheme is one we know for this key type, even if
    // the AIK does not allow it: the report then shows both facts.
    if (scheme->problem.empty() && key && aik->type == scheme->key_type && have_attest) {
      std::string problem;
      SignatureVerifies(key.get(), *signature, *scheme, signed_bytes, &problem);
      Judge(&verdict, QuoteCheck::kSignature, std::move(problem));
    }
  }

  // TPMS_QUOTE_INFO (Part 2, 10.12.4): which PCRs, and the digest of their values.
  if (have_attest && attest->type == TPM2_ST_ATTEST_QUOTE) {
    const TPMS_QUOTE_INFO& quote = attest->attested.quote;
    Judge(&verdict, QuoteCheck::kPcrSelection, PcrSelectionProblem(quote.pcrSelect, expected));
    if (scheme && scheme->problem.empty()) {
      Judge(&verdict, QuoteCheck::kPcrDigest,
            PcrDigestProblem(quote.pcrDigest, *scheme->hash, expected));
    }
  }
  return verdict;
}

}  // namespace nomyo
