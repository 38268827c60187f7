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

// From about here checking and decoding a body take a good part of an RSA
// private operation, and a second thread for the latter pays for itself.
constexpr size_t kOverlapBodyBytes = size_t{2} << 20;

// ReadEnvelope and OpenEnvelope in one, with the same outcomes; for a body of
// `overlap_from` bytes or more (the fuzzer sets it to 0) the RSA private
// operation overlaps the reading and decoding.
SharedRegion OpenPackage(const uint8_t* body, size_t size, EVP_PKEY* private_key,
                         PackageEnvelope& envelope, size_t overlap_from = kOverlapBodyBytes);

}  // namespace nomyo
