// verifyQuote() and tss2Available(): the TPM quote verifier, for lib/attestation.
#pragma once

#include <napi.h>

namespace nomyo {

void RegisterAttestation(Napi::Env env, Napi::Object exports);

}  // namespace nomyo
