#include "tss2_mu_loader.h"

#include <dlfcn.h>

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
    *reason = std::string(soname) + " has no " + name + " (" + LastDlError("symbol not found") + ")";
    return false;
  }
  *slot = reinterpret_cast<Function>(symbol);
  return true;
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
  bool resolved =
      Resolve(handle, soname, "Tss2_MU_TPMT_PUBLIC_Unmarshal", &functions.tpmt_public_unmarshal,
              &reason) &&
      Resolve(handle, soname, "Tss2_MU_TPMS_ATTEST_Unmarshal", &functions.tpms_attest_unmarshal,
              &reason) &&
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
  static const Tss2MuLibrary* library = new Tss2MuLibrary(Tss2MuLibrary::Open(kTss2MuSoname));
  return *library;
}

}  // namespace nomyo
