// The core's C++ parts run under ASan and UBSan (ctest), outside Node: secure
// regions, base64, the hybrid scheme, RSA keys and the JSON scanner. Node's own
// tests (jest) cover the same code through the addon.
#include <openssl/evp.h>
#include <sodium.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../crypto/base64.h"
#include "../crypto/hybrid.h"
#include "../json/json_scan.h"
#include "../keys/rsa_key.h"
#include "../secure_memory/secure_writer.h"

namespace {

int g_passed = 0;
int g_failed = 0;

void Check(bool ok, const char* what) {
  if (ok) {
    g_passed++;
  } else {
    g_failed++;
    std::printf("FAILED: %s\n", what);
  }
}

template <typename Failure>
bool Throws(const std::function<void()>& f) {
  try {
    f();
  } catch (const Failure&) {
    return true;
  }
  return false;
}

std::vector<uint8_t> Hex(const char* hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
  }
  return out;
}

nomyo::SharedRegion Region(const std::string& text) {
  nomyo::SharedRegion region = nomyo::MakeRegion(text.size());
  memcpy(region->data(), text.data(), text.size());
  return region;
}

void SecureRegions() {
  nomyo::LockAccounting before = nomyo::SecureRegion::accounting();
  {
    nomyo::SecureRegion region(100);
    Check(region.size() == 100, "region has the asked size");
    Check(region.dump_excluded(), "region is excluded from dumps");
    memset(region.data(), 0xAB, region.size());
    region.truncate(10);
    Check(region.size() == 10 && region.data()[10] == 0, "truncate wipes the tail");
    nomyo::LockAccounting during = nomyo::SecureRegion::accounting();
    Check(during.live_regions == before.live_regions + 1, "live region counted");
  }
  Check(nomyo::SecureRegion::accounting().live_regions == before.live_regions,
        "released region uncounted");

  nomyo::SecureWriter writer(4, 1 << 20);
  for (int i = 0; i < 1000; i++) writer.append("abc", 3);
  writer.rewind(2997);
  Check(writer.length() == 2997, "writer grows and rewinds");
  Check(Throws<nomyo::LimitExceeded>([] {
          nomyo::SecureWriter small(4, 8);
          small.append("123456789", 9);
        }),
        "writer refuses to pass its limit");
}

void Base64() {
  Check(nomyo::Base64Encode(reinterpret_cast<const uint8_t*>("foobar"), 6) == "Zm9vYmFy",
        "base64 encodes RFC 4648 vector");
  Check(nomyo::Base64Encode(reinterpret_cast<const uint8_t*>("fo"), 2) == "Zm8=", "pads");
  auto decoded = nomyo::Base64DecodeStrict("Zm9vYg==");
  Check(decoded && std::string(decoded->begin(), decoded->end()) == "foob", "decodes");
  for (const char* bad : {"Zm9vYg=", "Zm9vYg", "Zm9v Yg==", "Zm9vYh==", "Zm-_", "Zm9vYg==\n",
                          "====", "Zg=a", "Zm8A="}) {
    Check(!nomyo::Base64DecodeStrict(bad), bad);
  }
  // Found by fuzz_base64: libsodium 1.0.18 decodes some bytes >= 0x80 as base64.
  Check(!nomyo::Base64DecodeStrict("\xa2\x92\xfe\xff\x92\xcf\x89\xa6"), "bytes >= 0x80 refused");
}

void GcmKnownAnswer() {
  // McGrew & Viega GCM test case 14: 256-bit zero key, zero IV, one zero block.
  nomyo::SecureRegion key(32);
  uint8_t nonce[12] = {0};
  uint8_t plaintext[16] = {0};
  uint8_t ciphertext[16];
  uint8_t tag[16];
  nomyo::GcmEncrypt(key, nonce, plaintext, 16, ciphertext, tag);
  Check(memcmp(ciphertext, Hex("cea7403d4d606b6e074ec5d3baf39d18").data(), 16) == 0,
        "GCM test case 14 ciphertext");
  Check(memcmp(tag, Hex("d0d1c8a799996bf0265b98b5d48ab919").data(), 16) == 0,
        "GCM test case 14 tag");
  tag[0] ^= 1;
  Check(Throws<nomyo::DecryptFailed>([&] { nomyo::GcmDecrypt(key, nonce, ciphertext, 16, tag); }),
        "GCM rejects a flipped tag");
}

void HybridAndKeys() {
  nomyo::SharedPkey key = nomyo::GenerateRsaKey(2048);
  nomyo::SharedPkey other = nomyo::GenerateRsaKey(2048);
  Check(nomyo::KeyBits(key.get()) == 2048, "RSA key size");
  nomyo::SharedRegion plaintext = Region("{\"model\":\"m\"}");
  nomyo::PackageFields fields = nomyo::Seal(*plaintext, key.get());
  nomyo::SharedRegion opened = nomyo::Open(fields, key.get());
  Check(opened->size() == plaintext->size() &&
            memcmp(opened->data(), plaintext->data(), opened->size()) == 0,
        "seal then open round trip");
  Check(Throws<nomyo::DecryptFailed>([&] { nomyo::Open(fields, other.get()); }),
        "another key cannot open");
  nomyo::PackageFields tampered = fields;
  tampered.tag[0] = tampered.tag[0] == 'A' ? 'B' : 'A';
  Check(Throws<nomyo::DecryptFailed>([&] { nomyo::Open(tampered, key.get()); }),
        "tampered tag refused");
  tampered = fields;
  tampered.nonce = "AAAA";
  Check(Throws<nomyo::DecryptFailed>([&] { nomyo::Open(tampered, key.get()); }),
        "short nonce refused");

  nomyo::SharedRegion password = Region("correct horse");
  nomyo::SharedRegion pem = nomyo::ExportPrivateKeyPem(key.get(), password.get());
  Check(memmem(pem->data(), pem->size(), "ENCRYPTED PRIVATE KEY", 21) != nullptr,
        "exported PEM is encrypted PKCS#8");
  nomyo::SharedPkey reloaded = nomyo::ImportPrivateKeyPem(*pem, password.get());
  Check(EVP_PKEY_eq(reloaded.get(), key.get()) == 1, "PEM round trip keeps the key");
  nomyo::SharedRegion wrong = Region("wrong horse");
  bool bad_password = false;
  try {
    nomyo::ImportPrivateKeyPem(*pem, wrong.get());
  } catch (const nomyo::KeyFailure& failure) {
    bad_password = strcmp(failure.code, "NOMYO_KEY_BAD_PASSWORD") == 0;
  }
  Check(bad_password, "wrong password reported as such");
  bool needs_password = false;
  try {
    nomyo::ImportPrivateKeyPem(*pem, nullptr);
  } catch (const nomyo::KeyFailure& failure) {
    needs_password = strcmp(failure.code, "NOMYO_KEY_PASSWORD_REQUIRED") == 0;
  }
  Check(needs_password, "missing password reported as such");
  std::string public_pem = nomyo::ExportPublicKeyPem(key.get());
  Check(EVP_PKEY_eq(nomyo::ImportPublicKeyPem(public_pem).get(), key.get()) == 1,
        "public PEM round trip");
  Check(Throws<nomyo::KeyFailure>([] { nomyo::GenerateRsaKey(1024); }), "1024-bit keygen refused");
}

void JsonScan() {
  std::string doc =
      "{\"choices\":[{\"message\":{\"content\":\"a\\\"b\\u00e9\\ud83d\\ude00\"}}],"
      "\"x\":1,\"x\":[true,null]}";
  const auto* data = reinterpret_cast<const uint8_t*>(doc.data());
  Check(nomyo::IsValidJson(data, doc.size()), "valid document");
  auto span = nomyo::FindJsonValue(
      data, doc.size(),
      {{false, 0, "choices"}, {true, 0, ""}, {false, 0, "message"}, {false, 0, "content"}});
  Check(span.has_value(), "path found");
  if (span) {
    nomyo::SecureWriter out(8, 1024);
    Check(nomyo::DecodeJsonString(data, *span, out), "string decodes");
    nomyo::SharedRegion text = out.finish();
    std::string expected = "a\"b\xc3\xa9\xf0\x9f\x98\x80";
    Check(
        text->size() == expected.size() && memcmp(text->data(), expected.data(), text->size()) == 0,
        "escapes and surrogate pairs decoded");
  }
  auto last = nomyo::FindJsonValue(data, doc.size(), {{false, 0, "x"}});
  Check(last && data[last->begin] == '[', "last duplicate key wins");
  for (const char* bad : {"{", "[1,]", "{\"a\":01}", "\"\x01\"", "[1] 2", "{'a':1}", ""}) {
    Check(!nomyo::IsValidJson(reinterpret_cast<const uint8_t*>(bad), strlen(bad)), bad);
  }
  std::string deep(600, '[');
  deep += std::string(600, ']');
  Check(!nomyo::IsValidJson(reinterpret_cast<const uint8_t*>(deep.data()), deep.size()),
        "nesting past the limit refused");
}

}  // namespace

int main() {
  if (sodium_init() < 0) return 2;
  SecureRegions();
  Base64();
  GcmKnownAnswer();
  HybridAndKeys();
  JsonScan();
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
