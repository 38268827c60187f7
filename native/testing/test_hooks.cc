#include "test_hooks.h"

#include <openssl/evp.h>

#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>

#include "../crypto/hybrid.h"
#include "../failures.h"
#include "../secure_memory/secure_buffer.h"
#include "../secure_memory/secure_region.h"

#ifndef NOMYO_TEST_HOOKS
#error "test hooks are compiled only into the test build"
#endif

namespace nomyo {
namespace {

// SHA-256 of the most recent AES keys, never the keys themselves.
constexpr size_t kKeyHashRing = 256;
std::mutex g_key_hash_mutex;
std::deque<std::array<uint8_t, 32>> g_key_hashes;

void ObserveAesKey(const uint8_t* key, size_t size) {
  std::array<uint8_t, 32> hash{};
  unsigned int length = 0;
  EVP_Digest(key, size, hash.data(), &length, EVP_sha256(), nullptr);
  std::lock_guard<std::mutex> lock(g_key_hash_mutex);
  g_key_hashes.push_back(hash);
  if (g_key_hashes.size() > kKeyHashRing) g_key_hashes.pop_front();
}

Napi::Value RecentKeyHashes(const Napi::CallbackInfo& info) {
  static const char kHex[] = "0123456789abcdef";
  std::lock_guard<std::mutex> lock(g_key_hash_mutex);
  Napi::Array out = Napi::Array::New(info.Env(), g_key_hashes.size());
  uint32_t i = 0;
  for (const auto& hash : g_key_hashes) {
    std::string hex;
    for (uint8_t b : hash) {
      hex.push_back(kHex[b >> 4]);
      hex.push_back(kHex[b & 0xf]);
    }
    out.Set(i++, hex);
  }
  return out;
}

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
  return Napi::BigInt::New(info.Env(),
                           static_cast<uint64_t>(reinterpret_cast<uintptr_t>(region->data())));
}

SharedRegion KeyRegion(Napi::Env env, Napi::Value value) {
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  SharedRegion key = RunOrThrow(env, [&] { return MakeRegion(bytes.ByteLength()); });
  memcpy(key->data(), bytes.Data(), bytes.ByteLength());
  return key;
}

// gcmEncrypt(key, nonce, plaintext) -> { ciphertext, tag }, through the code Seal runs.
Napi::Value GcmEncryptHook(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedRegion key = KeyRegion(env, info[0]);
  Napi::Uint8Array nonce = info[1].As<Napi::Uint8Array>();
  Napi::Uint8Array plaintext = info[2].As<Napi::Uint8Array>();
  if (nonce.ByteLength() != kGcmNonceBytes)
    throw Napi::TypeError::New(env, "nonce must be 12 bytes");
  Napi::Buffer<uint8_t> ciphertext = Napi::Buffer<uint8_t>::New(env, plaintext.ByteLength());
  Napi::Buffer<uint8_t> tag = Napi::Buffer<uint8_t>::New(env, kGcmTagBytes);
  RunOrThrow(env, [&] {
    GcmEncrypt(*key, nonce.Data(), plaintext.Data(), plaintext.ByteLength(), ciphertext.Data(),
               tag.Data());
    return 0;
  });
  Napi::Object out = Napi::Object::New(env);
  out.Set("ciphertext", ciphertext);
  out.Set("tag", tag);
  return out;
}

// gcmDecrypt(key, nonce, ciphertext, tag) -> SecureBuffer, through the code Open runs.
Napi::Value GcmDecryptHook(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedRegion key = KeyRegion(env, info[0]);
  Napi::Uint8Array nonce = info[1].As<Napi::Uint8Array>();
  Napi::Uint8Array ciphertext = info[2].As<Napi::Uint8Array>();
  Napi::Uint8Array tag = info[3].As<Napi::Uint8Array>();
  if (nonce.ByteLength() != kGcmNonceBytes || tag.ByteLength() != kGcmTagBytes) {
    throw Napi::TypeError::New(env, "nonce must be 12 bytes and tag 16");
  }
  SharedRegion plaintext = RunOrThrow(env, [&] {
    return GcmDecrypt(*key, nonce.Data(), ciphertext.Data(), ciphertext.ByteLength(), tag.Data());
  });
  return SecureBuffer::Create(env, std::move(plaintext));
}

}  // namespace

void RegisterTestHooks(Napi::Env env, Napi::Object exports) {
  SetWipeObserver(ObserveWipe);
  SetAesKeyObserver(ObserveAesKey);
  Napi::Object hooks = Napi::Object::New(env);
  hooks.Set("wipeStats", Napi::Function::New<WipeStats>(env, "wipeStats"));
  hooks.Set("regionAddress", Napi::Function::New<RegionAddress>(env, "regionAddress"));
  hooks.Set("gcmEncrypt", Napi::Function::New<GcmEncryptHook>(env, "gcmEncrypt"));
  hooks.Set("gcmDecrypt", Napi::Function::New<GcmDecryptHook>(env, "gcmDecrypt"));
  hooks.Set("recentKeyHashes", Napi::Function::New<RecentKeyHashes>(env, "recentKeyHashes"));
  exports.Set("testing", hooks);
}

}  // namespace nomyo
