// The protocol's hybrid scheme: AES-256-GCM for the payload under a fresh key and
// nonce, RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) to carry the key.
#pragma once

#include <openssl/evp.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "../secure_memory/secure_region.h"

namespace nomyo {

constexpr size_t kAesKeyBytes = 32;
constexpr size_t kGcmNonceBytes = 12;
constexpr size_t kGcmTagBytes = 16;

// The package's encrypted fields, base64 as on the wire.
struct PackageFields {
  std::string ciphertext;
  std::string nonce;
  std::string tag;
  std::string encrypted_key;
};

// Thrown for every failure of Open, whatever its cause, so that no caller can
// tell a bad tag from bad padding or a malformed field.
struct DecryptFailed {};
struct EncryptFailed {};

// The AES-256-GCM steps alone, for known-answer tests of the exact code Seal and
// Open run. `ciphertext` has room for `size` bytes, `tag` for 16.
void GcmEncrypt(const SecureRegion& key, const uint8_t* nonce, const uint8_t* plaintext,
                size_t size, uint8_t* ciphertext, uint8_t* tag);
SharedRegion GcmDecrypt(const SecureRegion& key, const uint8_t* nonce, const uint8_t* ciphertext,
                        size_t size, const uint8_t* tag);
// The same into a region made beforehand (at least `size` bytes), so that making
// and locking it can overlap other work. On a throw the region holds unverified
// bytes: the caller must let it be wiped, never hand it out.
void GcmDecryptInto(const SecureRegion& key, const uint8_t* nonce, const uint8_t* ciphertext,
                    size_t size, const uint8_t* tag, SecureRegion& plaintext);
// Base64 text decoded per step: a multiple of 4 characters, small enough to stay in cache.
constexpr size_t kOpenTextSlice = 4 * 16 * 1024;

// The start of a base64 ciphertext, already decoded into the plaintext's region
// while the key was still being unwrapped: `text` characters gave `bytes` bytes.
struct DecodedPrefix {
  size_t text = 0;
  size_t bytes = 0;
  bool malformed = false;  // stopped before a slice that is not canonical base64
};

// Decodes base64 `text` into `plaintext` slice by slice, as GcmDecryptBase64Into
// would, until `stop` is set; the last slice is left to GcmDecryptBase64Into.
// Stops, without an error, before a slice that is not canonical base64 (and
// says so): the decryption meets it again and fails there.
DecodedPrefix DecodeBase64Ahead(const char* text, size_t text_size, SecureRegion& plaintext,
                                const std::atomic<bool>& stop);

// GcmDecryptInto for a ciphertext still in (strict, unescaped) base64, decoded a
// slice at a time as it is decrypted: a large ciphertext is never written out
// whole and read back. `plaintext` has room for all of it; text that is not
// canonical base64 fails as a wrong tag does. A `decoded` prefix (see
// DecodeBase64Ahead) is decrypted in place, and the text after it as above.
// `text_decoded`, if given, is set once all of the text decoded as base64,
// before the tag is checked.
void GcmDecryptBase64Into(const SecureRegion& key, const uint8_t* nonce, const char* text,
                          size_t text_size, const uint8_t* tag, SecureRegion& plaintext,
                          DecodedPrefix decoded = {}, bool* text_decoded = nullptr);

// The RSA-OAEP step of Open alone: the 32-byte AES key, in secure memory.
SharedRegion UnwrapAesKey(const uint8_t* wrapped, size_t wrapped_size, EVP_PKEY* private_key);

// Hook for the test build: sees each AES key that Seal makes or Open unwraps, so
// forensics tests can look for it in a core dump. Never set in production builds.
using AesKeyObserver = void (*)(const uint8_t* key, size_t size);
void SetAesKeyObserver(AesKeyObserver observer);

PackageFields Seal(const SecureRegion& plaintext, EVP_PKEY* recipient);

// The whole package body (protocol 1.0, the fields in the order of the
// TypeScript encodePackage), sealed for `recipient`. The ciphertext is
// base64-encoded slice by slice straight into the body: no intermediate
// ciphertext, base64 string or JS string of 14 MiB for a 10 MiB request.
struct PackageBody {
  std::unique_ptr<char[]> bytes;
  size_t size = 0;
};
PackageBody SealPackageBody(const SecureRegion& plaintext, EVP_PKEY* recipient);
SharedRegion Open(const PackageFields& fields, EVP_PKEY* private_key);
// Open() after the base64 decoding of the four fields.
SharedRegion OpenDecoded(const std::vector<uint8_t>& ciphertext, const std::vector<uint8_t>& nonce,
                         const std::vector<uint8_t>& tag, const std::vector<uint8_t>& wrapped,
                         EVP_PKEY* private_key);

}  // namespace nomyo
