#include "tss2_mu_loader.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <memory>
#include <utility>

namespace nomyo {
namespace {

std::string LastDlError(const char* fallback) {
  const char* message = dlerror();
  return message != nullptr ? std::string(message) : std::string(fallback);
}

// Resolves `name` into `slot`; false (with `reason` set) when the library lacks it.
template <typename Function>
bool Resolve(void* handle, const char* soname, const char* name, Function* slot,
             std::string* reason) {
  dlerror();  // dlsym reports failure only through dlerror, so start from a clean state
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    *reason =
        std::string(soname) + " has no " + name + " (" + LastDlError("symbol not found") + ")";
    return false;
  }
  *slot = reinterpret_cast<Function>(symbol);
  return true;
}

// Minimal well-formed structures (TPM 2.0 Part 2 encodings) whose unmarshalling
// passes through every source file of libtss2-mu the verifier reaches: base
// types, TPM2B, TPMA, TPML, TPMS, TPMT and TPMU.
constexpr uint8_t kQuietingAttest[] = {
    0xff, 0x54, 0x43, 0x47,                          // magic: TPM_GENERATED_VALUE
    0x80, 0x18,                                      // type: TPM_ST_ATTEST_QUOTE
    0x00, 0x00,                                      // qualifiedSigner: empty
    0x00, 0x00,                                      // extraData: empty
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // clock
    0x00, 0x00, 0x00, 0x00,                          // resetCount
    0x00, 0x00, 0x00, 0x00,                          // restartCount
    0x01,                                            // safe: YES
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // firmwareVersion
    0x00, 0x00, 0x00, 0x01,                          // pcrSelect: one bank,
    0x00, 0x0b, 0x03, 0x01, 0x00, 0x00,              //   SHA-256, PCR 0
    0x00, 0x00,                                      // pcrDigest: empty
};
constexpr uint8_t kQuietingPublic[] = {
    0x00, 0x23,              // type: TPM_ALG_ECC
    0x00, 0x0b,              // nameAlg: TPM_ALG_SHA256
    0x00, 0x05, 0x00, 0x72,  // objectAttributes: an attestation key's
    0x00, 0x00,              // authPolicy: empty
    0x00, 0x10,              // symmetric: TPM_ALG_NULL
    0x00, 0x18, 0x00, 0x0b,  // scheme: ECDSA with SHA-256
    0x00, 0x03,              // curveID: NIST P-256
    0x00, 0x10,              // kdf: TPM_ALG_NULL
    0x00, 0x00, 0x00, 0x00,  // unique: empty x and y
};
constexpr uint8_t kQuietingSignature[] = {
    0x00, 0x18, 0x00, 0x0b,  // ECDSA with SHA-256
    0x00, 0x00, 0x00, 0x00,  // empty r and s
};

// libtss2-mu reports malformed input as WARNING/ERROR lines on stderr unless
// TSS2_LOG says otherwise, and each of its source files reads TSS2_LOG once, at
// its first log call (debug calls included), then keeps that level. A server's
// malformed blob must not write to the application's stderr -- the SDK is
// silent by default -- so, when the user has not set TSS2_LOG, it is set to
// "marshal+none" for as long as one pass over the structures above takes, and
// removed again. A TSS2_LOG the user set is left to do what it says.
void QuietMarshalLogging(const Tss2MuFunctions& functions) {
  if (getenv("TSS2_LOG") != nullptr) return;
  if (setenv("TSS2_LOG", "marshal+none", 0) != 0) return;
  size_t offset = 0;
  auto attest = std::make_unique<TPMS_ATTEST>();
  functions.tpms_attest_unmarshal(kQuietingAttest, sizeof(kQuietingAttest), &offset, attest.get());
  offset = 0;
  auto key = std::make_unique<TPMT_PUBLIC>();
  functions.tpmt_public_unmarshal(kQuietingPublic, sizeof(kQuietingPublic), &offset, key.get());
  offset = 0;
  auto signature = std::make_unique<TPMT_SIGNATURE>();
  functions.tpmt_signature_unmarshal(kQuietingSignature, sizeof(kQuietingSignature), &offset,
                                     signature.get());
  unsetenv("TSS2_LOG");
}

}  // namespace

Tss2MuLibrary Tss2MuLibrary::Open(const char* soname) {
  Tss2MuLibrary library;
  // RTLD_NOW: a library too old to have a function fails here, not mid-verification.
  // RTLD_LOCAL: its symbols stay out of the global namespace other modules resolve from.
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    library.reason_ = LastDlError("dlopen failed");
    return library;
  }
  Tss2MuFunctions functions;
  std::string reason;
  bool resolved = Resolve(handle, soname, "Tss2_MU_TPMT_PUBLIC_Unmarshal",
                          &functions.tpmt_public_unmarshal, &reason) &&
                  Resolve(handle, soname, "Tss2_MU_TPMS_ATTEST_Unmarshal",
                          &functions.tpms_attest_unmarshal, &reason) &&
                  Resolve(handle, soname, "Tss2_MU_TPMT_SIGNATURE_Unmarshal",
                          &functions.tpmt_signature_unmarshal, &reason);
  if (!resolved) {
    dlclose(handle);
    library.reason_ = std::move(reason);
    return library;
  }
  library.handle_ = handle;
  library.functions_ = functions;
  return library;
}

Tss2MuLibrary::Tss2MuLibrary(Tss2MuLibrary&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      functions_(std::exchange(other.functions_, Tss2MuFunctions{})),
      reason_(std::move(other.reason_)) {}

Tss2MuLibrary::~Tss2MuLibrary() {
  if (handle_ != nullptr) dlclose(handle_);
}

const Tss2MuLibrary& ProcessTss2Mu() {
  // Deliberately leaked (see the header); the initialisation itself is thread-safe.
  static const Tss2MuLibrary* library = [] {
    auto* opened = new Tss2MuLibrary(Tss2MuLibrary::Open(kTss2MuSoname));
    if (opened->available()) QuietMarshalLogging(opened->functions());
    return opened;
  }();
  return *library;
}

}  // namespace nomyo
