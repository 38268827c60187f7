{
  "targets": [
    {
      "target_name": "nomyo",
      "sources": [
        "native/addon.cc",
        "native/attestation/aik_key.cc",
        "native/attestation/attestation_bindings.cc",
        "native/attestation/quote_signature.cc",
        "native/attestation/quote_verifier.cc",
        "native/attestation/tpm_algorithms.cc",
        "native/attestation/tpm_wire.cc",
        "native/attestation/tss2_mu_loader.cc",
        "native/crypto/base64.cc",
        "native/crypto/crypto_threads.cc",
        "native/crypto/hybrid.cc",
        "native/crypto/hybrid_bindings.cc",
        "native/crypto/package_envelope.cc",
        "native/json/json_reader.cc",
        "native/json/json_scan.cc",
        "native/json/json_writer.cc",
        "native/keys/key_objects.cc",
        "native/keys/rsa_key.cc",
        "native/secure_memory/protection_facts.cc",
        "native/secure_memory/background_release.cc",
        "native/secure_memory/secure_buffer.cc",
        "native/secure_memory/secure_region.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"],
      "libraries": ["-l:libsodium.a", "-Wl,--exclude-libs,ALL", "-Wl,-z,now", "-Wl,-z,relro"]
    }
  ]
}
