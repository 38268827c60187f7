#include "protection_facts.h"

#include <openssl/crypto.h>
#include <sodium.h>
#include <unistd.h>

#include "../keys/rsa_key.h"
#include "secure_region.h"

namespace nomyo {
namespace {

Napi::Value MemoryFacts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // A one-page probe answers whether a new secret would be locked and excluded
  // from dumps now, under the current limit and privileges. Room to grow keeps
  // it out of the mapping pool: it is a fresh mapping, and the pool's figures
  // below stay what they were before the call.
  SecureRegion probe(1, 2 * static_cast<size_t>(sysconf(_SC_PAGESIZE)));
  LockAccounting accounting = SecureRegion::accounting();
  int64_t limit = LockLimitBytes();
  SecureHeapInfo heap = OpenSslSecureHeapInfo();

  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  Napi::Object facts = Napi::Object::New(env);
  facts.Set("probe_locked", probe.locked());
  facts.Set("probe_dump_excluded", probe.dump_excluded());
  // The probe itself is live now; report the secrets' own figures.
  facts.Set("locked_bytes",
            static_cast<double>(accounting.locked_bytes) - (probe.locked() ? page : 0));
  facts.Set("unlocked_bytes",
            static_cast<double>(accounting.unlocked_bytes) - (probe.locked() ? 0 : page));
  facts.Set("live_regions", static_cast<double>(accounting.live_regions - 1));
  // Locked but holding no secret: part of VmLck, not of locked_bytes.
  facts.Set("pooled_locked_bytes", static_cast<double>(accounting.pooled_locked_bytes));
  facts.Set("lock_limit_bytes",
            limit < 0 ? env.Null() : Napi::Number::New(env, static_cast<double>(limit)));
  facts.Set("openssl_secure_heap", heap.initialized);
  facts.Set("openssl_secure_heap_locked", heap.locked);
  facts.Set("openssl_secure_heap_used", static_cast<double>(heap.used_bytes));
  return facts;
}

Napi::Value Versions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object versions = Napi::Object::New(env);
  versions.Set("openssl", OpenSSL_version(OPENSSL_VERSION));
  versions.Set("libsodium", sodium_version_string());
  versions.Set("napi", NAPI_VERSION);
  return versions;
}

}  // namespace

void RegisterProtectionFacts(Napi::Env env, Napi::Object exports) {
  exports.Set("memoryFacts", Napi::Function::New<MemoryFacts>(env, "memoryFacts"));
  exports.Set("versions", Napi::Function::New<Versions>(env, "versions"));
}

}  // namespace nomyo
