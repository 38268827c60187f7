// Per-environment state: the constructors native code uses to make wrapper
// objects, and the type tags that let it tell its own wrappers apart.
#pragma once

#include <napi.h>

namespace nomyo {

struct AddonData {
  Napi::FunctionReference secure_buffer;
  Napi::FunctionReference private_key;
  Napi::FunctionReference public_key;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

// Unwraps `value` only when it was tagged as a T by T's constructor, so no
// object (including one that fakes Symbol.hasInstance) can pose as another type.
template <typename T>
T* UnwrapTagged(Napi::Value value) {
  if (!value.IsObject()) return nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(value.Env(), value, &T::kTypeTag, &tagged) != napi_ok || !tagged) {
    return nullptr;
  }
  return T::Unwrap(value.As<Napi::Object>());
}

// Accessors, unlike methods, get no receiver check from V8: a getter taken off
// one class's prototype and called on another object must not read it as a T.
template <typename T>
void CheckReceiver(const Napi::CallbackInfo& info, const T* self) {
  if (UnwrapTagged<T>(info.This()) != self) {
    throw Napi::TypeError::New(info.Env(), "illegal invocation");
  }
}

}  // namespace nomyo
