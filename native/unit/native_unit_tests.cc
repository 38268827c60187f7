// The core's C++ parts run under ASan and UBSan (ctest), outside Node: secure
// regions, base64, the hybrid scheme, RSA keys, the JSON scanner and the crypto
// threads. Node's own tests (jest) cover the same code through the addon.
#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../crypto/base64.h"
#include "../crypto/crypto_threads.h"
#include "../crypto/hybrid.h"
#include "../crypto/package_envelope.h"
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

// Written for clarity, not speed, to check the real codec against.
const char kRefAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int RefValue(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string RefEncode(const uint8_t* data, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    size_t take = n - i < 3 ? n - i : 3;
    uint32_t bits = 0;
    for (size_t k = 0; k < 3; k++) bits = bits << 8 | (k < take ? data[i + k] : 0);
    for (size_t k = 0; k < 4; k++) {
      out += k <= take ? kRefAlphabet[(bits >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return out;
}

bool RefDecode(const std::string& text, std::vector<uint8_t>* out) {
  out->clear();
  if (text.size() % 4 != 0) return false;
  for (size_t g = 0; g < text.size(); g += 4) {
    size_t pad = 0;
    if (g + 4 == text.size() && text[g + 3] == '=') pad = text[g + 2] == '=' ? 2 : 1;
    uint32_t bits = 0;
    for (size_t k = 0; k < 4; k++) {
      int v = k < 4 - pad ? RefValue(static_cast<unsigned char>(text[g + k])) : 0;
      if (v < 0) return false;
      bits = bits << 6 | static_cast<uint32_t>(v);
    }
    // Canonical text leaves the bits that padding stands for zero.
    if (pad == 1 && (bits & 0xFF) != 0) return false;
    if (pad == 2 && (bits & 0xFFFF) != 0) return false;
    for (size_t k = 0; k < 3 - pad; k++) out->push_back(static_cast<uint8_t>(bits >> (16 - 8 * k)));
  }
  return true;
}

uint64_t NextRandom(uint64_t* state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

// Both the dispatched codec (a vector path where the CPU has one) and the portable one.
using EncodeFn = size_t (*)(const uint8_t*, size_t, char*);
using DecodeFn = bool (*)(const char*, size_t, uint8_t*, size_t*);
const EncodeFn kEncoders[] = {nomyo::Base64EncodeTo, nomyo::base64_internal::EncodeToPortable};
const DecodeFn kDecoders[] = {nomyo::Base64DecodeStrictTo,
                              nomyo::base64_internal::DecodeStrictToPortable};

// Input and output live in heap buffers of exactly their size, so ASan sees any read past the
// text or write past the bound.
std::string EncodeExact(EncodeFn encode, const std::vector<uint8_t>& data) {
  std::vector<char> out(nomyo::Base64EncodedLength(data.size()));
  size_t n = encode(data.data(), data.size(), out.data());
  if (n != out.size()) return "<wrong length>";
  return std::string(out.begin(), out.end());
}

bool DecodeExact(DecodeFn decode, const std::string& text, std::vector<uint8_t>* result) {
  std::vector<char> in(text.begin(), text.end());
  std::vector<uint8_t> out(nomyo::Base64MaxDecodedLength(text.size()));
  constexpr size_t kUntouched = 12345;
  size_t n = kUntouched;
  if (!decode(in.data(), in.size(), out.data(), &n)) {
    // A refusal leaves *out_size alone; a marker byte in `result` reports when it did not.
    result->clear();
    if (n != kUntouched) result->assign(1, 0xEE);
    return false;
  }
  if (n > out.size()) return false;
  result->assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
  return true;
}

// Every decoder agrees with RefDecode on `text`; the first disagreement goes to `failure`.
void AgreesWithReference(const std::string& text, std::string* failure) {
  std::vector<uint8_t> want, got;
  bool ok = RefDecode(text, &want);
  for (DecodeFn decode : kDecoders) {
    got.clear();
    bool accepted = DecodeExact(decode, text, &got);
    if (accepted != ok || (ok && got != want) || (!ok && !got.empty())) {
      if (failure->empty()) *failure = "decoders disagree with the reference on: " + text;
    }
  }
  auto legacy = nomyo::Base64DecodeStrict(text);
  if (legacy.has_value() != ok || (ok && *legacy != want)) {
    if (failure->empty()) *failure = "Base64DecodeStrict disagrees with the reference on: " + text;
  }
}

void Base64Buffers() {
  std::printf("base64 implementation: %s\n", nomyo::base64_internal::Implementation());
  // RFC 4648, section 10.
  const char* rfc[][2] = {{"", ""},
                          {"f", "Zg=="},
                          {"fo", "Zm8="},
                          {"foo", "Zm9v"},
                          {"foob", "Zm9vYg=="},
                          {"fooba", "Zm9vYmE="},
                          {"foobar", "Zm9vYmFy"}};
  for (auto& pair : rfc) {
    std::vector<uint8_t> plain(pair[0], pair[0] + strlen(pair[0]));
    for (EncodeFn encode : kEncoders) Check(EncodeExact(encode, plain) == pair[1], pair[1]);
    Check(nomyo::Base64Encode(plain.data(), plain.size()) == pair[1], pair[1]);
    for (DecodeFn decode : kDecoders) {
      std::vector<uint8_t> got;
      Check(DecodeExact(decode, pair[1], &got) && got == plain, pair[1]);
    }
    auto legacy = nomyo::Base64DecodeStrict(pair[1]);
    Check(legacy && *legacy == plain, pair[1]);
  }
  Check(nomyo::Base64EncodedLength(0) == 0 && nomyo::Base64EncodedLength(1) == 4 &&
            nomyo::Base64EncodedLength(3) == 4 && nomyo::Base64EncodedLength(4) == 8,
        "encoded length is 4 * ceil(n / 3)");
  Check(nomyo::Base64EncodeTo(nullptr, 0, nullptr) == 0, "encoding nothing touches nothing");
  size_t empty_size = 7;
  Check(nomyo::Base64DecodeStrictTo("", 0, nullptr, &empty_size) && empty_size == 0,
        "empty text decodes to nothing");

  // Random data of every length up to 300 and a few large ones (past every unrolled and
  // vector step, with every remainder), whole and slice by slice.
  uint64_t seed = 0x9E3779B97F4A7C15u;
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 300; n++) sizes.push_back(n);
  for (size_t n : {1000u, 4095u, 4096u, 4097u, 65536u + 2, (1u << 20) + 1, (10u << 20) + 2}) {
    sizes.push_back(n);
  }
  std::string failure;
  for (size_t n : sizes) {
    std::vector<uint8_t> data(n);
    for (auto& b : data) b = static_cast<uint8_t>(NextRandom(&seed));
    const std::string want = RefEncode(data.data(), n);
    for (EncodeFn encode : kEncoders) {
      if (EncodeExact(encode, data) != want && failure.empty()) {
        failure = "encoding differs from the reference at length " + std::to_string(n);
      }
      // Slices of random lengths, multiples of 3 except the last, into one exact buffer.
      std::vector<char> sliced(want.size());
      size_t at = 0, written = 0;
      while (at < n) {
        size_t take = 3 * (NextRandom(&seed) % (n < 300 ? 8 : 4000));
        if (take > n - at) take = n - at;
        written += encode(data.data() + at, take, sliced.data() + written);
        at += take;
      }
      if ((written != want.size() || std::string(sliced.begin(), sliced.end()) != want) &&
          failure.empty()) {
        failure = "slice-by-slice encoding differs at length " + std::to_string(n);
      }
    }
    if (nomyo::Base64Encode(data.data(), n) != want && failure.empty()) {
      failure = "Base64Encode differs at length " + std::to_string(n);
    }
    for (DecodeFn decode : kDecoders) {
      std::vector<uint8_t> back;
      if ((!DecodeExact(decode, want, &back) || back != data) && failure.empty()) {
        failure = "round trip fails at length " + std::to_string(n);
      }
    }
  }
  Check(failure.empty(), failure.empty() ? "" : failure.c_str());

  // Every byte value at every position of texts long enough for every decoding step: valid
  // characters must decode as the reference says, and anything outside the alphabet ('='
  // aside) must be refused wherever it is.
  failure.clear();
  for (size_t n : {1, 2, 3, 4, 5, 6, 45, 46, 47, 60, 61, 62}) {
    std::vector<uint8_t> data(n);
    for (auto& b : data) b = static_cast<uint8_t>(NextRandom(&seed));
    const std::string text = RefEncode(data.data(), n);
    for (size_t i = 0; i < text.size(); i++) {
      for (int byte = 0; byte < 256; byte++) {
        std::string corrupt = text;
        corrupt[i] = static_cast<char>(byte);
        AgreesWithReference(corrupt, &failure);
        if (RefValue(static_cast<unsigned char>(byte)) < 0 && byte != '=') {
          for (DecodeFn decode : kDecoders) {
            std::vector<uint8_t> got;
            if (DecodeExact(decode, corrupt, &got) && failure.empty()) {
              failure = "accepted a byte outside the alphabet in: " + text;
            }
          }
        }
      }
    }
  }
  Check(failure.empty(), failure.empty() ? "" : failure.c_str());

  // The refusals, class by class, each alone, behind and before 64 valid characters (so that
  // the vector path meets them too).
  const std::string refused[] = {
      // an invalid character at each position of a group
      "!AAA", "A!AA", "AA!A", "AAA!", "QQ!=", "Q!==", "!Q==",
      // '=' where padding cannot be
      "=AAA", "A=AA", "AA=A", "AA==AAAA", "QQ==QQ==", "QUI=QUI=", "AAAA=AAA", "Q=Q=",
      // wrong amounts of padding
      "A===", "====", "QQ=", "QQ", "QQ===", "QUI", "QUI==", "AAAA====",
      // non-zero bits under the padding
      "QR==", "QX==", "Q/==", "QUJ=", "QUL=", "QU/=", "Zm9=",
      // lengths that are not a multiple of 4
      "A", "AA", "AAA", "AAAAA", "AAAAAA", "AAAAAAA",
      // bytes >= 0x80, an embedded NUL, whitespace, the URL alphabet
      "\x80QQQ", "AA\xffQ", "QQ=\xbd", std::string("AA\0A", 4), std::string("QQ=\0", 4),
      std::string("\0\0\0\0", 4), " AAA", "AA\tA", "AAA\n", "QQ==\n", "QQ== ", "\r\nQQ==", "AA-A",
      "AA_A"};
  for (const std::string& bad : refused) {
    for (const std::string& text : {bad, std::string(64, 'A') + bad, bad + std::string(64, 'A')}) {
      std::vector<uint8_t> got;
      for (DecodeFn decode : kDecoders) {
        Check(!DecodeExact(decode, text, &got) && got.empty(), bad.c_str());
      }
      Check(!nomyo::Base64DecodeStrict(text), bad.c_str());
      Check(!RefDecode(text, &got), "the reference refuses it too");
    }
  }
  for (const char* good : {"QQ==", "QUI=", "QUJD", "AAAAQQ==", "////", "++++"}) {
    std::vector<uint8_t> got;
    for (DecodeFn decode : kDecoders) Check(DecodeExact(decode, good, &got), good);
  }
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

// A ciphertext decoded in part before its key is known, then decrypted in place
// and the rest slice by slice: every split gives the same plaintext, and a
// tampered or malformed slice inside the decoded part still fails.
void DecodeAhead() {
  const size_t slice = nomyo::kOpenTextSlice;
  nomyo::SecureRegion key(32);
  for (size_t i = 0; i < 32; i++) key.data()[i] = static_cast<uint8_t>(i * 7 + 1);
  uint8_t nonce[12] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
  std::vector<uint8_t> plain(slice / 4 * 3 * 5 + 1234);  // not a multiple of 3: padded
  for (size_t i = 0; i < plain.size(); i++) plain[i] = static_cast<uint8_t>(i * 31 + i / 977);
  std::vector<uint8_t> sealed(plain.size());
  uint8_t tag[16];
  nomyo::GcmEncrypt(key, nonce, plain.data(), plain.size(), sealed.data(), tag);
  const std::string text = nomyo::Base64Encode(sealed.data(), sealed.size());
  const size_t whole_slices = (text.size() - 1) / slice;  // all but the last
  std::atomic<bool> go{false};
  std::atomic<bool> stop{true};

  auto open = [&](const std::string& t, nomyo::DecodedPrefix prefix) {
    nomyo::SharedRegion out = nomyo::MakeRegion(plain.size());
    nomyo::GcmDecryptBase64Into(key, nonce, t.data(), t.size(), tag, *out, prefix);
    return out->size() == plain.size() && memcmp(out->data(), plain.data(), plain.size()) == 0;
  };
  auto ahead = [&](const std::string& t, size_t visible, const std::atomic<bool>& flag,
                   nomyo::SecureRegion& out) {
    return nomyo::DecodeBase64Ahead(t.data(), visible, out, flag);
  };

  nomyo::SharedRegion region = nomyo::MakeRegion(plain.size());
  nomyo::DecodedPrefix none = ahead(text, text.size(), stop, *region);
  Check(none.text == 0 && none.bytes == 0 && !none.malformed,
        "a set stop flag decodes nothing ahead");
  for (size_t slices : {size_t{1}, size_t{3}, whole_slices}) {
    region = nomyo::MakeRegion(plain.size());
    // Text cut one character past `slices` slices: exactly those are decoded.
    nomyo::DecodedPrefix prefix = ahead(text, slices * slice + 1, go, *region);
    Check(prefix.text == slices * slice && prefix.bytes == slices * slice / 4 * 3,
          "whole slices before the last are decoded ahead");
    Check(memcmp(region->data(), sealed.data(), prefix.bytes) == 0,
          "the decoded prefix is the ciphertext");
    nomyo::GcmDecryptBase64Into(key, nonce, text.data(), text.size(), tag, *region, prefix);
    Check(memcmp(region->data(), plain.data(), plain.size()) == 0,
          "a prefix decoded ahead opens to the plaintext");
  }
  region = nomyo::MakeRegion(plain.size());
  nomyo::DecodedPrefix all = ahead(text, text.size(), go, *region);
  Check(all.text == whole_slices * slice, "the last slice is left to the decryption");
  region = nomyo::MakeRegion(plain.size());
  Check(ahead(text, 2 * slice, go, *region).text == slice,
        "a last slice of full length is left to the decryption too");
  Check(open(text, {}), "no prefix opens as before");

  std::string tampered = text;
  tampered[slice + 10] = tampered[slice + 10] == 'A' ? 'B' : 'A';
  region = nomyo::MakeRegion(plain.size());
  nomyo::DecodedPrefix prefix = ahead(tampered, tampered.size(), go, *region);
  Check(prefix.text == whole_slices * slice, "a tampered character is still base64");
  Check(Throws<nomyo::DecryptFailed>([&] {
          nomyo::GcmDecryptBase64Into(key, nonce, tampered.data(), tampered.size(), tag, *region,
                                      prefix);
        }),
        "a tampered byte decoded ahead fails the tag");

  std::string malformed = text;
  malformed[2 * slice + 5] = '!';
  region = nomyo::MakeRegion(plain.size());
  prefix = ahead(malformed, malformed.size(), go, *region);
  Check(prefix.text == 2 * slice && prefix.malformed,
        "decoding ahead stops before a slice that is not base64, and says so");
  Check(Throws<nomyo::DecryptFailed>([&] {
          nomyo::GcmDecryptBase64Into(key, nonce, malformed.data(), malformed.size(), tag, *region,
                                      prefix);
        }),
        "the malformed slice fails the decryption");
  Check(Throws<nomyo::DecryptFailed>([&] {
          open(text, {text.size() + 4, 0});
        }),
        "a prefix longer than the text is refused");
  Check(Throws<nomyo::DecryptFailed>([&] {
          open(text, {0, plain.size() + 1});
        }),
        "a prefix longer than the plaintext is refused");
}

// The in-place decoder copies whole blocks once it is a block behind the
// reader, and exact runs before that: strings of every mix of run lengths and
// escapes, plain and UTF-8, decode as the span-based decoder does.
void JsonDecodeInPlace() {
  const char* escapes[] = {"\\n", "\\\"", "\\u00e9", "\\ud83d\\ude00", "\\/", "\\u0041"};
  const char* runs[] = {"",
                        "x",
                        "patient ",
                        "\xc3\xa9t\xc3\xa9 ",
                        "0123456789abcdef",
                        "a line of prose that is longer than one block of sixteen"};
  size_t mismatches = 0, cases = 0;
  uint32_t state = 7;
  auto next = [&] {
    state = state * 1103515245u + 12345u;
    return state >> 16;
  };
  for (int trial = 0; trial < 3000; trial++) {
    std::string literal = "\"";
    const int pieces = static_cast<int>(next() % 80);
    for (int i = 0; i < pieces; i++) {
      literal += runs[next() % (sizeof runs / sizeof *runs)];
      if (next() % 3 != 0) literal += escapes[next() % (sizeof escapes / sizeof *escapes)];
    }
    literal += "\"";
    // What follows the string may share its last block: UTF-8 there is not the string's.
    const std::string text =
        literal + std::string(next() % 40, ' ') + (next() % 2 != 0 ? "}" : ",\"\xc3\xa9\"]");
    std::vector<uint8_t> copy(text.begin(), text.end());
    size_t end = 0, length = 0;
    bool lone = false, ascii = true;
    const bool ok =
        nomyo::DecodeJsonStringInPlace(copy.data(), copy.size(), 0, &end, &length, &lone, &ascii);
    nomyo::SecureWriter out(64, text.size() + 1);
    const bool ok_too = nomyo::DecodeJsonString(reinterpret_cast<const uint8_t*>(text.data()),
                                                nomyo::JsonSpan{0, literal.size()}, out);
    nomyo::SharedRegion want = out.finish();
    bool high = false;
    for (size_t i = 0; i < want->size(); i++) high = high || want->data()[i] >= 0x80;
    cases++;
    if (!ok || !ok_too || end != literal.size() || length != want->size() ||
        memcmp(copy.data() + 1, want->data(), length) != 0 || ascii == high) {
      mismatches++;
    }
  }
  Check(cases == 3000 && mismatches == 0, "in-place decoding agrees with the span decoder");
}

std::atomic<int> g_unwrapped_keys{0};

// A large body whose guesses both fail late: the key guessed near the end is a
// decoy's, and the ciphertext's text holds escapes only in its last slice, so
// that the guessed path unwraps the key the envelope names before it finds the
// text is no plain base64. The full walk that follows opens the body with the
// key already unwrapped, not with a second RSA operation.
void GuessesThatFailLate() {
  nomyo::SharedPkey key = nomyo::GenerateRsaKey(2048);
  nomyo::SecureRegion payload(nomyo::kOpenTextSlice * 2);
  for (size_t i = 0; i < payload.size(); i++) payload.data()[i] = static_cast<uint8_t>(i * 13 + 5);
  nomyo::PackageFields sealed = nomyo::Seal(payload, key.get());
  nomyo::SecureRegion other(10);
  nomyo::PackageFields decoy = nomyo::Seal(other, key.get());
  std::string text = sealed.ciphertext;
  // Four escaped slashes: the text stays a multiple of 4 characters long.
  int escaped = 0;
  for (size_t at = text.size(); escaped < 4 && at-- > text.size() - nomyo::kOpenTextSlice / 2;) {
    if (text[at] == '/') {
      text.insert(at, "\\");
      escaped++;
    }
  }
  const std::string body =
      "{\"version\":\"1.0\",\"algorithm\":\"hybrid-aes256-rsa4096\",\"encrypted_payload\":{"
      "\"ciphertext\":\"" +
      text + "\",\"nonce\":\"" + sealed.nonce + "\",\"tag\":\"" + sealed.tag +
      "\"},\"encrypted_aes_key\":\"" + sealed.encrypted_key +
      "\",\"meta\":{\"encrypted_aes_key\":\"" + decoy.encrypted_key + "\"}}";
  g_unwrapped_keys = 0;
  nomyo::SetAesKeyObserver([](const uint8_t*, size_t) { g_unwrapped_keys++; });
  nomyo::PackageEnvelope envelope;
  bool opened = false;
  try {
    nomyo::SharedRegion plaintext = nomyo::OpenPackage(
        reinterpret_cast<const uint8_t*>(body.data()), body.size(), key.get(), envelope, 0);
    opened = plaintext->size() == payload.size() &&
             memcmp(plaintext->data(), payload.data(), payload.size()) == 0;
  } catch (...) {
  }
  nomyo::SetAesKeyObserver(nullptr);
  Check(escaped == 4 && text.size() % 4 == 0, "the escapes fit the test");
  Check(opened, "a body whose guesses fail late opens");
  Check(g_unwrapped_keys == 2, "the decoy's key and the named key, each unwrapped once");
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
  std::string members =
      "{\"plain\":\"abc\",\"escaped\":\"a\\/b\",\"obj\":{\"x\":\"\\n\"},\"clean\":{\"y\":[\"z\"]},"
      "\"k\\u0065y\":\"v\",\"n\":1}";
  std::vector<std::pair<std::string, bool>> seen;
  Check(nomyo::ForEachMember(reinterpret_cast<const uint8_t*>(members.data()),
                             nomyo::JsonSpan{0, members.size()},
                             [&](const std::string& name, nomyo::JsonSpan value) {
                               seen.emplace_back(name, value.unescaped);
                             }),
        "members walked");
  const std::vector<std::pair<std::string, bool>> want = {{"plain", true}, {"escaped", false},
                                                          {"obj", false},  {"clean", true},
                                                          {"key", true},   {"n", true}};
  Check(seen == want, "a validating walk marks the values free of escapes, and only those");
  seen.clear();
  nomyo::ForEachMember(
      reinterpret_cast<const uint8_t*>(members.data()), nomyo::JsonSpan{0, members.size()},
      [&](const std::string& name, nomyo::JsonSpan value) {
        seen.emplace_back(name, value.unescaped);
      },
      true);
  Check(seen.size() == want.size() && seen[0].second == false,
        "a walk over validated text knows nothing of escapes");
  // A vouched-for string is jumped over: the same members and spans, its bytes unread
  // (here they are not even valid JSON, which only the jump lets through).
  std::string vouched = "{\"a\":\"\x01\x02\",\"b\":{\"c\":\"\x01\"},\"d\":1}";
  const auto* vouched_data = reinterpret_cast<const uint8_t*>(vouched.data());
  std::vector<std::pair<std::string, size_t>> spans;
  auto record = [&](const std::string& name, nomyo::JsonSpan value) {
    spans.emplace_back(name, value.begin * 1000 + value.end);
  };
  Check(!nomyo::ForEachMember(vouched_data, nomyo::JsonSpan{0, vouched.size()}, record),
        "control bytes in a string are refused");
  spans.clear();
  Check(nomyo::ForEachMember(vouched_data, nomyo::JsonSpan{0, vouched.size()}, record, false,
                             nomyo::JsonSpan{5, 9}) == false,
        "vouching for one string excuses no other");
  spans.clear();
  std::string fixed = vouched;
  fixed[20] = 'x';  // the nested string's control byte
  Check(
      nomyo::ForEachMember(reinterpret_cast<const uint8_t*>(fixed.data()),
                           nomyo::JsonSpan{0, fixed.size()}, record, false, nomyo::JsonSpan{5, 9}),
      "the vouched string is jumped over");
  Check(spans.size() == 3 && spans[0].second == 5 * 1000 + 9, "its span is the vouched one");
  // Unread is not known to be free of escapes, nor is what holds it.
  std::string holder = "{\"p\":{\"c\":\"a\\/b\",\"n\":1}}";
  bool p_unescaped = true;
  Check(nomyo::ForEachMember(
            reinterpret_cast<const uint8_t*>(holder.data()), nomyo::JsonSpan{0, holder.size()},
            [&](const std::string&, nomyo::JsonSpan value) { p_unescaped = value.unescaped; },
            false, nomyo::JsonSpan{10, 16}),
        "a walk with a jump inside a member");
  Check(!p_unescaped, "a member holding a jumped string is not marked free of escapes");
  std::string deep(600, '[');
  deep += std::string(600, ']');
  Check(!nomyo::IsValidJson(reinterpret_cast<const uint8_t*>(deep.data()), deep.size()),
        "nesting past the limit refused");
}

// Many callers at once, as the threadpool's threads are: every job runs once,
// on a crypto thread, never more of them at a time than there are crypto
// threads, and each caller gets its own result or its own exception back.
void CryptoThreads() {
  const unsigned threads = nomyo::CryptoThreadCount();
  Check(threads >= 1 && threads <= std::thread::hardware_concurrency(),
        "one crypto thread per CPU at most");
  std::atomic<int> running{0};
  std::atomic<int> most_at_once{0};
  std::atomic<int> wrong{0};
  std::atomic<int> ran_elsewhere{0};
  std::vector<std::thread> callers;
  for (int caller = 0; caller < 8; caller++) {
    callers.emplace_back([&, caller] {
      const pthread_t me = pthread_self();
      for (int round = 0; round < 50; round++) {
        const int expected = caller * 1000 + round;
        try {
          int got = nomyo::OnCryptoThread([&] {
            int now = ++running;
            int seen = most_at_once.load();
            while (now > seen && !most_at_once.compare_exchange_weak(seen, now)) {
            }
            if (!pthread_equal(pthread_self(), me)) ran_elsewhere++;
            char name[16] = {0};
            pthread_getname_np(pthread_self(), name, sizeof name);
            if (strcmp(name, "nomyo-crypto") != 0) wrong++;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            running--;
            if (round % 7 == 3) throw std::runtime_error("job failed");
            return expected;
          });
          if (got != expected || round % 7 == 3) wrong++;
        } catch (const std::runtime_error& error) {
          if (round % 7 != 3 || strcmp(error.what(), "job failed") != 0) wrong++;
        }
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  Check(wrong.load() == 0, "each caller gets its own result or exception, from a crypto thread");
  Check(ran_elsewhere.load() == 8 * 50, "every job ran on a crypto thread, not its caller's");
  Check(most_at_once.load() >= 1 && most_at_once.load() <= static_cast<int>(threads),
        "never more jobs at once than crypto threads");
}

}  // namespace

int main() {
  if (sodium_init() < 0) return 2;
  SecureRegions();
  Base64();
  Base64Buffers();
  GcmKnownAnswer();
  DecodeAhead();
  GuessesThatFailLate();
  HybridAndKeys();
  JsonScan();
  JsonDecodeInPlace();
  CryptoThreads();
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
