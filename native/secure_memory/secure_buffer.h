// The JS handle to a secret in secure memory. JS never sees the bytes unless it
// asks for an explicit copy (toString, parseJson).
#pragma once

#include <napi.h>

#include "secure_region.h"

namespace nomyo {

class SecureBuffer : public Napi::ObjectWrap<SecureBuffer> {
 public:
  static constexpr napi_type_tag kTypeTag = {0x6e6f6d796f2d7362ULL, 0x5365637572654266ULL};

  static Napi::Function Define(Napi::Env env);
  static Napi::Object Create(Napi::Env env, SharedRegion region);

  explicit SecureBuffer(const Napi::CallbackInfo& info);

  // The region, or a thrown NOMYO_DISPOSED error once disposed.
  const SharedRegion& Region(Napi::Env env) const;

  // Converts a JS argument to the region of a live SecureBuffer, or throws a TypeError.
  static SharedRegion FromArgument(Napi::Value value, const char* name);

 private:
  static Napi::Value FromString(const Napi::CallbackInfo& info);
  static Napi::Value FromBytes(const Napi::CallbackInfo& info);
  static Napi::Value SerializeJsonValue(const Napi::CallbackInfo& info);
  static Napi::Value ReadFile(const Napi::CallbackInfo& info);

  Napi::Value ByteLength(const Napi::CallbackInfo& info);
  Napi::Value Locked(const Napi::CallbackInfo& info);
  Napi::Value LockedBytes(const Napi::CallbackInfo& info);
  Napi::Value DumpExcluded(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value ToString(const Napi::CallbackInfo& info);
  Napi::Value ParseJsonValue(const Napi::CallbackInfo& info);
  // parseJson() that may decode strings over the secret's own bytes, then disposes it.
  Napi::Value ConsumeJsonValue(const Napi::CallbackInfo& info);
  Napi::Value WriteToFd(const Napi::CallbackInfo& info);
  Napi::Value Equals(const Napi::CallbackInfo& info);
  Napi::Value ExtractString(const Napi::CallbackInfo& info);
  Napi::Value JsonTypeAt(const Napi::CallbackInfo& info);
  Napi::Value ExtractJson(const Napi::CallbackInfo& info);
  Napi::Value ParseJsonAt(const Napi::CallbackInfo& info);
  Napi::Value View(const Napi::CallbackInfo& info);
  Napi::Value CopyTo(const Napi::CallbackInfo& info);

  SharedRegion region_;
};

}  // namespace nomyo
