// Error codes shared with the TypeScript layer, which maps them to typed errors.
// Plain C++ (no N-API), so that native-only targets such as fuzzers can use them.
#pragma once

#include <string>

namespace nomyo {

namespace code {
constexpr const char* kDecryptFailed = "NOMYO_DECRYPT_FAILED";
constexpr const char* kBadPackage = "NOMYO_BAD_PACKAGE";
constexpr const char* kEncryptFailed = "NOMYO_ENCRYPT_FAILED";
constexpr const char* kKeyInvalid = "NOMYO_KEY_INVALID";
constexpr const char* kKeyTooSmall = "NOMYO_KEY_TOO_SMALL";
constexpr const char* kKeyUnsupported = "NOMYO_KEY_UNSUPPORTED";
constexpr const char* kKeyPasswordRequired = "NOMYO_KEY_PASSWORD_REQUIRED";
constexpr const char* kKeyBadPassword = "NOMYO_KEY_BAD_PASSWORD";
constexpr const char* kKeyGenerationFailed = "NOMYO_KEYGEN_FAILED";
constexpr const char* kDisposed = "NOMYO_DISPOSED";
constexpr const char* kTooLarge = "NOMYO_TOO_LARGE";
constexpr const char* kJsonInvalid = "NOMYO_JSON_INVALID";
constexpr const char* kNotSerializable = "NOMYO_NOT_SERIALIZABLE";
constexpr const char* kIo = "NOMYO_IO";
constexpr const char* kOutOfMemory = "NOMYO_OUT_OF_MEMORY";
constexpr const char* kNoExternalBuffers = "NOMYO_NO_EXTERNAL_BUFFERS";
}  // namespace code

// A failure raised off the JS thread, carried to it as code + message.
struct NativeFailure {
  const char* code;
  std::string message;
};

}  // namespace nomyo
