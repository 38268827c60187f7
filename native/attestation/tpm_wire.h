// The three structures of `_metadata.tpm_attestation`, unmarshalled exactly:
// every byte of the blob belongs to the structure, none is left over, and
// every size field inside lies within its buffer.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tss2_mu_loader.h"

namespace nomyo {

// Bytes owned elsewhere.
struct ByteView {
  const uint8_t* data;
  size_t size;
};

// Empty when the blob unmarshalled exactly; otherwise what was wrong with it.
struct WireProblem {
  std::string reason;
  bool ok() const { return reason.empty(); }
};

// The TPM2B wrappers are taken apart here rather than by Tss2_MU_TPM2B_*_Unmarshal:
// the size must match the blob exactly, and some libtss2-mu releases ignore the
// result of the inner unmarshalling in their TPM2B_PUBLIC function.

// aik_pubkey_b64: TPM2B_PUBLIC, a big-endian UINT16 size and that many bytes of TPMT_PUBLIC.
WireProblem UnmarshalTpm2bPublic(const Tss2MuFunctions& mu, ByteView wire, TPMT_PUBLIC* out);

// quote_b64: TPM2B_ATTEST, a UINT16 size and that many bytes of TPMS_ATTEST.
// `signed_bytes` is set to those TPMS_ATTEST bytes: what the TPM signed.
WireProblem UnmarshalTpm2bAttest(const Tss2MuFunctions& mu, ByteView wire, TPMS_ATTEST* out,
                                 ByteView* signed_bytes);

// signature_b64: TPMT_SIGNATURE, with no size prefix, so it must end where the blob ends.
WireProblem UnmarshalTpmtSignature(const Tss2MuFunctions& mu, ByteView wire, TPMT_SIGNATURE* out);

}  // namespace nomyo
