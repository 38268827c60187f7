// libFuzzer: the TPM quote verifier on arbitrary evidence. Input layout:
// nonce (16) | PCR 0, 7, 10 values (3 x 32) | u16le AIK size | AIK | u16le quote
// size | quote | signature. Seeds are the genuine swtpm vectors, so mutations
// start from structures that unmarshal. It must never crash.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../attestation/quote_verifier.h"

namespace {

bool Take(const uint8_t*& p, const uint8_t* end, size_t n, std::vector<uint8_t>& out) {
  if (static_cast<size_t>(end - p) < n) return false;
  out.assign(p, p + n);
  p += n;
  return true;
}

bool TakeSized(const uint8_t*& p, const uint8_t* end, std::vector<uint8_t>& out) {
  if (end - p < 2) return false;
  size_t n = p[0] | static_cast<size_t>(p[1]) << 8;
  p += 2;
  return Take(p, end, n, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nomyo::Tss2MuLibrary& mu = nomyo::ProcessTss2Mu();
  if (!mu.available()) abort();  // the harness is meaningless without libtss2-mu
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  nomyo::QuoteExpectations expected;
  expected.pcr_bank = nomyo::FindHashByName("sha256");
  expected.pcr_indices = {0, 7, 10};
  expected.pcr_values.resize(3);
  nomyo::QuoteEvidence evidence;
  if (!Take(p, end, 16, expected.nonce) || !Take(p, end, 32, expected.pcr_values[0]) ||
      !Take(p, end, 32, expected.pcr_values[1]) || !Take(p, end, 32, expected.pcr_values[2]) ||
      !TakeSized(p, end, evidence.aik_public) || !TakeSized(p, end, evidence.quote)) {
    return 0;
  }
  evidence.signature.assign(p, end);
  nomyo::QuoteVerdict verdict = nomyo::VerifyQuote(mu.functions(), evidence, expected);
  // A verdict is consistent: verified exactly when no check failed or was skipped.
  bool all_pass = true;
  for (nomyo::CheckOutcome outcome : verdict.outcomes) {
    all_pass = all_pass && outcome == nomyo::CheckOutcome::kPass;
  }
  if (verdict.verified() != all_pass) abort();
  if (!verdict.verified() && verdict.failure().empty()) abort();
  return 0;
}
