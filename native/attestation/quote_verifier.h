// The offline verification of one TPM2_Quote, as PROTOCOL.md
// (`_metadata.tpm_attestation`) asks for it. Pure C++: no N-API, no I/O.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tpm_algorithms.h"
#include "tss2_mu_loader.h"

namespace nomyo {

// The checks, in the order a failure is reported: the first failed one names
// the verdict. Every check has an outcome, so a report always lists them all.
enum class QuoteCheck {
  kAikStructure,        // aik_pubkey is exactly one TPM2B_PUBLIC
  kQuoteStructure,      // quote is exactly one TPM2B_ATTEST around one TPMS_ATTEST
  kSignatureStructure,  // signature is exactly one TPMT_SIGNATURE
  kAttestMagic,         // TPMS_ATTEST.magic is TPM_GENERATED_VALUE
  kAttestType,          // TPMS_ATTEST.type is TPM_ST_ATTEST_QUOTE
  kNonce,               // extraData is the expected nonce
  kAikAttributes,       // the AIK is a restricted, TPM-bound signing key
  kAikKey,              // the AIK's public key is usable (type, size, curve, validity)
  kSignatureScheme,     // the declared scheme and hash are accepted and allowed by the AIK
  kSignature,           // the signature verifies over the TPMS_ATTEST bytes
  kPcrSelection,        // the quote selects exactly the bank and PCRs reported
  kPcrDigest,           // pcrDigest is the hash of the reported PCR values
};
constexpr size_t kQuoteCheckCount = static_cast<size_t>(QuoteCheck::kPcrDigest) + 1;

// The name a check is reported under, e.g. "pcr_digest".
const char* QuoteCheckName(QuoteCheck check);

enum class CheckOutcome { kSkipped, kPass, kFail };

// Highest PCR index a report may name: PC Client TPMs have 24 PCRs.
constexpr uint32_t kMaxPcrIndex = 23;

// The three blobs as the server sent them (base64-decoded, otherwise untouched).
struct QuoteEvidence {
  std::vector<uint8_t> aik_public;  // TPM2B_PUBLIC
  std::vector<uint8_t> quote;       // TPM2B_ATTEST
  std::vector<uint8_t> signature;   // TPMT_SIGNATURE
};

// What the caller expects the quote to say. The caller guarantees: `pcr_bank`
// is non-null, `pcr_indices` ascend strictly and are at most kMaxPcrIndex, and
// there is one entry of `pcr_values` per index.
struct QuoteExpectations {
  std::vector<uint8_t> nonce;
  const HashAlgorithm* pcr_bank;
  std::vector<uint32_t> pcr_indices;
  std::vector<std::vector<uint8_t>> pcr_values;
};

struct PcrBankSelection {
  std::string bank;
  std::vector<uint32_t> indices;
};

// What the quote says, reported whenever the TPMS_ATTEST unmarshalled, verified or not.
struct QuoteFacts {
  std::string type;
  uint64_t clock;
  uint32_t reset_count;
  uint32_t restart_count;
  bool safe;
  uint64_t firmware_version;
  std::string qualified_signer_hex;
  std::string extra_data_hex;
  // Quotes only:
  std::vector<PcrBankSelection> pcr_selection;
  std::string pcr_digest_hex;
};

struct AikFacts {
  std::string fingerprint;  // "sha256:" + hex of SHA-256 over the TPM2B_PUBLIC bytes
  // The rest only when the TPM2B_PUBLIC unmarshalled:
  std::string type;    // "rsa", "ecc", ...
  std::string scheme;  // "ecdsa", ..., "null"
  std::string hash;    // the scheme's hash, "null" when the scheme is
  std::string curve;   // ECC keys
  uint32_t bits;       // RSA keys
  std::vector<std::string> attributes;
};

struct SignatureFacts {
  std::string algorithm;
  std::string hash;
};

struct QuoteVerdict {
  std::array<CheckOutcome, kQuoteCheckCount> outcomes{};  // all kSkipped until run
  std::array<std::string, kQuoteCheckCount> problems;     // set for each failed check
  std::optional<QuoteFacts> quote;
  AikFacts aik;
  std::optional<SignatureFacts> signature;

  // Every check ran and passed.
  bool verified() const;
  // "<check>: <problem>" for the first failed check in QuoteCheck order; empty if none failed.
  std::string failure() const;
};

QuoteVerdict VerifyQuote(const Tss2MuFunctions& mu, const QuoteEvidence& evidence,
                         const QuoteExpectations& expected);

}  // namespace nomyo
