#include "test_hooks.h"

#include <atomic>

#include "../secure_memory/secure_buffer.h"
#include "../secure_memory/secure_region.h"

#ifndef NOMYO_TEST_HOOKS
#error "test hooks are compiled only into the test build"
#endif

namespace nomyo {
namespace {

std::atomic<uint64_t> g_regions_checked{0};
std::atomic<uint64_t> g_regions_not_zero{0};

void ObserveWipe(const uint8_t* data, size_t capacity) {
  uint8_t any = 0;
  for (size_t i = 0; i < capacity; i++) any |= data[i];
  g_regions_checked++;
  if (any != 0) g_regions_not_zero++;
}

Napi::Value WipeStats(const Napi::CallbackInfo& info) {
  Napi::Object stats = Napi::Object::New(info.Env());
  stats.Set("checked", static_cast<double>(g_regions_checked.load()));
  stats.Set("notZero", static_cast<double>(g_regions_not_zero.load()));
  return stats;
}

Napi::Value RegionAddress(const Napi::CallbackInfo& info) {
  SharedRegion region = SecureBuffer::FromArgument(info[0], "buffer");
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(region->data())));
}

}  // namespace

void RegisterTestHooks(Napi::Env env, Napi::Object exports) {
  SetWipeObserver(ObserveWipe);
  Napi::Object hooks = Napi::Object::New(env);
  hooks.Set("wipeStats", Napi::Function::New<WipeStats>(env, "wipeStats"));
  hooks.Set("regionAddress", Napi::Function::New<RegionAddress>(env, "regionAddress"));
  exports.Set("testing", hooks);
}

}  // namespace nomyo
