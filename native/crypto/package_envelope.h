// Reads the package envelope (protocol 1.0) straight from the body's bytes, so
// that a 14 MiB ciphertext is never turned into a JS string or copied before it
// is decoded. Checks what the TypeScript decodePackage checks, in the same words.
#pragma once

#include <optional>
#include <string>

#include "../json/json_scan.h"
#include "../secure_memory/secure_region.h"
#include "openssl_ptr.h"

namespace nomyo {

// The body is not a protocol 1.0 package; `message` names what is wrong, never content.
struct PackageRejected {
  std::string message;
};

struct PackageEnvelope {
  std::string algorithm;
  std::optional<std::string> payload_id;
  std::optional<std::string> processed_at_json;            // the value's JSON text, any type
  JsonSpan ciphertext{}, nonce{}, tag{}, encrypted_key{};  // string values, quotes included
};

PackageEnvelope ReadEnvelope(const uint8_t* body, size_t size);

// Opens the package read from `body`: DecryptFailed for every cryptographic failure.
SharedRegion OpenEnvelope(const uint8_t* body, const PackageEnvelope& envelope,
                          EVP_PKEY* private_key);

// ReadEnvelope and OpenEnvelope in one, with the same outcomes; for a large
// body the RSA private operation overlaps the reading and decoding.
SharedRegion OpenPackage(const uint8_t* body, size_t size, EVP_PKEY* private_key,
                         PackageEnvelope& envelope);

}  // namespace nomyo
