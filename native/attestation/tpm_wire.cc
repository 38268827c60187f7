#include "tpm_wire.h"

#include <cstdio>

namespace nomyo {
namespace {

constexpr size_t kTpm2bSizeBytes = 2;

std::string RcText(TSS2_RC rc) {
  char text[16];
  snprintf(text, sizeof(text), "0x%08x", rc);
  return text;
}

// Splits a TPM2B into its contents: the size field must account for exactly the
// bytes that follow it.
WireProblem Tpm2bContents(const char* type, ByteView wire, ByteView* contents) {
  if (wire.size < kTpm2bSizeBytes) {
    return {std::string(type) + ": " + std::to_string(wire.size) + " bytes, too short for a size"};
  }
  size_t declared = (static_cast<size_t>(wire.data[0]) << 8) | wire.data[1];
  size_t present = wire.size - kTpm2bSizeBytes;
  if (declared != present) {
    return {std::string(type) + ": size field says " + std::to_string(declared) + " bytes but " +
            std::to_string(present) + " follow"};
  }
  *contents = {wire.data + kTpm2bSizeBytes, present};
  return {};
}

// Runs one Tss2_MU_*_Unmarshal over all of `bytes` and requires it to consume all of them.
template <typename Structure, typename Unmarshal>
WireProblem UnmarshalWhole(const char* type, Unmarshal unmarshal, ByteView bytes, Structure* out) {
  // An empty vector's data() may be null, which libtss2-mu treats as a caller bug.
  if (bytes.size == 0) return {std::string(type) + ": empty"};
  size_t offset = 0;
  TSS2_RC rc = unmarshal(bytes.data, bytes.size, &offset, out);
  if (rc != TSS2_RC_SUCCESS) {
    return {std::string(type) + ": does not unmarshal (TSS2 rc " + RcText(rc) + ")"};
  }
  if (offset != bytes.size) {
    return {std::string(type) + ": " + std::to_string(bytes.size - offset) +
            " trailing bytes after the structure"};
  }
  return {};
}

// The verifier indexes by these sizes; libtss2-mu bounds them already, and a
// second look costs nothing next to trusting a library's every release.
template <typename Tpm2b>
bool FitsBuffer(const Tpm2b& value) {
  return value.size <= sizeof(value.buffer);
}

bool PublicSizesFit(const TPMT_PUBLIC& key) {
  if (!FitsBuffer(key.authPolicy)) return false;
  switch (key.type) {
    case TPM2_ALG_RSA: return FitsBuffer(key.unique.rsa);
    case TPM2_ALG_ECC: return FitsBuffer(key.unique.ecc.x) && FitsBuffer(key.unique.ecc.y);
    default: return true;  // not a key the verifier uses; refused later by type
  }
}

bool PcrSelectionFits(const TPML_PCR_SELECTION& list) {
  if (list.count > TPM2_NUM_PCR_BANKS) return false;
  for (uint32_t i = 0; i < list.count; i++) {
    if (list.pcrSelections[i].sizeofSelect > sizeof(list.pcrSelections[i].pcrSelect)) return false;
  }
  return true;
}

bool AttestSizesFit(const TPMS_ATTEST& attest) {
  if (attest.qualifiedSigner.size > sizeof(attest.qualifiedSigner.name)) return false;
  if (!FitsBuffer(attest.extraData)) return false;
  if (attest.type == TPM2_ST_ATTEST_QUOTE) {
    return PcrSelectionFits(attest.attested.quote.pcrSelect) &&
           FitsBuffer(attest.attested.quote.pcrDigest);
  }
  return true;
}

bool SignatureSizesFit(const TPMT_SIGNATURE& signature) {
  switch (signature.sigAlg) {
    case TPM2_ALG_RSASSA: return FitsBuffer(signature.signature.rsassa.sig);
    case TPM2_ALG_RSAPSS: return FitsBuffer(signature.signature.rsapss.sig);
    case TPM2_ALG_ECDSA:
      return FitsBuffer(signature.signature.ecdsa.signatureR) &&
             FitsBuffer(signature.signature.ecdsa.signatureS);
    default: return true;  // a scheme the verifier does not accept; refused later
  }
}

}  // namespace

WireProblem UnmarshalTpm2bPublic(const Tss2MuFunctions& mu, ByteView wire, TPMT_PUBLIC* out) {
  ByteView contents{};
  WireProblem problem = Tpm2bContents("TPM2B_PUBLIC", wire, &contents);
  if (!problem.ok()) return problem;
  problem = UnmarshalWhole("TPMT_PUBLIC", mu.tpmt_public_unmarshal, contents, out);
  if (!problem.ok()) return problem;
  if (!PublicSizesFit(*out)) return {"TPMT_PUBLIC: a size field exceeds its buffer"};
  return {};
}

WireProblem UnmarshalTpm2bAttest(const Tss2MuFunctions& mu, ByteView wire, TPMS_ATTEST* out,
                                 ByteView* signed_bytes) {
  ByteView contents{};
  WireProblem problem = Tpm2bContents("TPM2B_ATTEST", wire, &contents);
  if (!problem.ok()) return problem;
  problem = UnmarshalWhole("TPMS_ATTEST", mu.tpms_attest_unmarshal, contents, out);
  if (!problem.ok()) return problem;
  if (!AttestSizesFit(*out)) return {"TPMS_ATTEST: a size field exceeds its buffer"};
  // TPMI_YES_NO admits only NO (0) and YES (1).
  if (out->clockInfo.safe > TPM2_YES) return {"TPMS_ATTEST: clockInfo.safe is neither YES nor NO"};
  *signed_bytes = contents;
  return {};
}

WireProblem UnmarshalTpmtSignature(const Tss2MuFunctions& mu, ByteView wire, TPMT_SIGNATURE* out) {
  WireProblem problem = UnmarshalWhole("TPMT_SIGNATURE", mu.tpmt_signature_unmarshal, wire, out);
  if (!problem.ok()) return problem;
  if (!SignatureSizesFit(*out)) return {"TPMT_SIGNATURE: a size field exceeds its buffer"};
  return {};
}

}  // namespace nomyo
