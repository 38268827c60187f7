// libtss2-mu, found at run time. The addon does not link it, so that it loads
// (and encrypts, decrypts, manages keys) on machines without tpm2-tss; only
// attestation verification needs the library, and says so when it is missing.
// The tss2 headers are used for the structure layouts and prototypes only.
#pragma once

#include <tss2/tss2_mu.h>

#include <string>

namespace nomyo {

// The soname of the library as Debian/Ubuntu (libtss2-mu0, libtss2-mu-4.0.1-0)
// and Fedora (tpm2-tss) install it.
constexpr const char* kTss2MuSoname = "libtss2-mu.so.0";

// The unmarshalling functions the verifier calls, with the library's own prototypes.
struct Tss2MuFunctions {
  decltype(&Tss2_MU_TPMT_PUBLIC_Unmarshal) tpmt_public_unmarshal = nullptr;
  decltype(&Tss2_MU_TPMS_ATTEST_Unmarshal) tpms_attest_unmarshal = nullptr;
  decltype(&Tss2_MU_TPMT_SIGNATURE_Unmarshal) tpmt_signature_unmarshal = nullptr;
};

// One loaded copy of the library, or the reason there is none.
class Tss2MuLibrary {
 public:
  // Tries `soname` once. Never throws for a missing library or symbol.
  static Tss2MuLibrary Open(const char* soname);

  Tss2MuLibrary(Tss2MuLibrary&& other) noexcept;
  Tss2MuLibrary& operator=(Tss2MuLibrary&&) = delete;
  Tss2MuLibrary(const Tss2MuLibrary&) = delete;
  Tss2MuLibrary& operator=(const Tss2MuLibrary&) = delete;
  ~Tss2MuLibrary();

  bool available() const { return handle_ != nullptr; }
  // Why the library is unavailable; empty when it is available.
  const std::string& reason() const { return reason_; }
  // Valid only when available().
  const Tss2MuFunctions& functions() const { return functions_; }

 private:
  Tss2MuLibrary() = default;

  void* handle_ = nullptr;
  Tss2MuFunctions functions_;
  std::string reason_;
};

// The process's copy, opened from kTss2MuSoname on first use. It is never
// closed: verifications may run on any thread until the process ends.
const Tss2MuLibrary& ProcessTss2Mu();

}  // namespace nomyo
