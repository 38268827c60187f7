#include "attestation_bindings.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "../failures.h"
#include "quote_verifier.h"
#include "tss2_mu_loader.h"

namespace nomyo {
namespace {

// The nonce is SHA-256-derived and 16 bytes in the protocol; anything up to a
// TPM2B_DATA's capacity is accepted so that the check, not the binding, judges it.
constexpr size_t kMaxNonceBytes = sizeof(TPM2B_DATA::buffer);

const char* OutcomeName(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::kPass: return "pass";
    case CheckOutcome::kFail: return "fail";
    case CheckOutcome::kSkipped: return "skipped";
  }
  return "skipped";
}

// Argument checks: a wrong type is the caller's mistake and throws; a malformed
// blob is evidence and is judged, never thrown.
std::vector<uint8_t> BytesArgument(Napi::Env env, const Napi::Value& value, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, std::string(name) + " must be a Uint8Array");
  }
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  return std::vector<uint8_t>(bytes.Data(), bytes.Data() + bytes.ByteLength());
}

std::vector<uint32_t> PcrIndicesArgument(Napi::Env env, const Napi::Value& value) {
  const char* kMessage = "pcrIndices must be an array of ascending distinct integers 0-23";
  if (!value.IsArray()) throw Napi::TypeError::New(env, kMessage);
  Napi::Array array = value.As<Napi::Array>();
  std::vector<uint32_t> indices;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value element = array.Get(i);
    if (!element.IsNumber()) throw Napi::TypeError::New(env, kMessage);
    double number = element.As<Napi::Number>().DoubleValue();
    if (!(number >= 0 && number <= kMaxPcrIndex) || std::floor(number) != number) {
      throw Napi::TypeError::New(env, kMessage);
    }
    uint32_t index = static_cast<uint32_t>(number);
    if (!indices.empty() && index <= indices.back()) throw Napi::TypeError::New(env, kMessage);
    indices.push_back(index);
  }
  return indices;
}

std::vector<std::vector<uint8_t>> PcrValuesArgument(Napi::Env env, const Napi::Value& value,
                                                    size_t expected_count) {
  if (!value.IsArray() || value.As<Napi::Array>().Length() != expected_count) {
    throw Napi::TypeError::New(env, "pcrValues must be an array with one value per PCR index");
  }
  Napi::Array array = value.As<Napi::Array>();
  std::vector<std::vector<uint8_t>> values;
  for (uint32_t i = 0; i < array.Length(); i++) {
    values.push_back(BytesArgument(env, array.Get(i), "each of pcrValues"));
  }
  return values;
}

Napi::Array StringArray(Napi::Env env, const std::vector<std::string>& strings) {
  Napi::Array array = Napi::Array::New(env, strings.size());
  for (uint32_t i = 0; i < strings.size(); i++) array.Set(i, strings[i]);
  return array;
}

std::string FirmwareHex(uint64_t version) {
  char text[24];
  snprintf(text, sizeof(text), "0x%016llx", static_cast<unsigned long long>(version));
  return text;
}

Napi::Object QuoteFactsObject(Napi::Env env, const QuoteFacts& facts) {
  Napi::Object quote = Napi::Object::New(env);
  quote.Set("type", facts.type);
  // UINT64s travel as strings: a JS number would round values past 2^53.
  quote.Set("clock", std::to_string(facts.clock));
  quote.Set("resetCount", static_cast<double>(facts.reset_count));
  quote.Set("restartCount", static_cast<double>(facts.restart_count));
  quote.Set("safe", facts.safe);
  quote.Set("firmwareVersion", FirmwareHex(facts.firmware_version));
  quote.Set("qualifiedSigner", facts.qualified_signer_hex);
  quote.Set("extraData", facts.extra_data_hex);
  if (facts.type == "quote") {
    Napi::Array banks = Napi::Array::New(env, facts.pcr_selection.size());
    for (uint32_t i = 0; i < facts.pcr_selection.size(); i++) {
      Napi::Object bank = Napi::Object::New(env);
      bank.Set("bank", facts.pcr_selection[i].bank);
      Napi::Array indices = Napi::Array::New(env, facts.pcr_selection[i].indices.size());
      for (uint32_t j = 0; j < facts.pcr_selection[i].indices.size(); j++) {
        indices.Set(j, facts.pcr_selection[i].indices[j]);
      }
      bank.Set("pcrs", indices);
      banks.Set(i, bank);
    }
    quote.Set("pcrSelection", banks);
    quote.Set("pcrDigest", facts.pcr_digest_hex);
  }
  return quote;
}

Napi::Object AikFactsObject(Napi::Env env, const AikFacts& facts) {
  Napi::Object aik = Napi::Object::New(env);
  aik.Set("fingerprint", facts.fingerprint);
  if (!facts.type.empty()) {
    aik.Set("type", facts.type);
    aik.Set("scheme", facts.scheme);
    aik.Set("hash", facts.hash);
    if (!facts.curve.empty()) aik.Set("curve", facts.curve);
    if (facts.bits != 0) aik.Set("bits", facts.bits);
    aik.Set("attributes", StringArray(env, facts.attributes));
  }
  return aik;
}

Napi::Object VerdictObject(Napi::Env env, const QuoteVerdict& verdict) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("verified", verdict.verified());
  std::string failure = verdict.failure();
  if (!failure.empty()) result.Set("failure", failure);
  Napi::Object checks = Napi::Object::New(env);
  Napi::Object problems = Napi::Object::New(env);
  for (size_t i = 0; i < kQuoteCheckCount; i++) {
    const char* name = QuoteCheckName(static_cast<QuoteCheck>(i));
    checks.Set(name, OutcomeName(verdict.outcomes[i]));
    if (verdict.outcomes[i] == CheckOutcome::kFail) problems.Set(name, verdict.problems[i]);
  }
  result.Set("checks", checks);
  result.Set("problems", problems);
  if (verdict.quote) result.Set("quote", QuoteFactsObject(env, *verdict.quote));
  result.Set("aik", AikFactsObject(env, verdict.aik));
  if (verdict.signature) {
    Napi::Object signature = Napi::Object::New(env);
    signature.Set("algorithm", verdict.signature->algorithm);
    signature.Set("hash", verdict.signature->hash);
    result.Set("signature", signature);
  }
  return result;
}

// Without libtss2-mu nothing can be unmarshalled: every check is skipped and
// the verdict is a failure that names the cause.
Napi::Object UnavailableVerdict(Napi::Env env, const std::string& reason) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("verified", false);
  result.Set("failure", "libtss2-mu is not available: " + reason);
  result.Set("tss2Unavailable", true);
  Napi::Object checks = Napi::Object::New(env);
  for (size_t i = 0; i < kQuoteCheckCount; i++) {
    checks.Set(QuoteCheckName(static_cast<QuoteCheck>(i)), "skipped");
  }
  result.Set("checks", checks);
  result.Set("problems", Napi::Object::New(env));
  return result;
}

// verifyQuote({ aikPublic, quote, signature, expectedNonce, pcrBank, pcrIndices, pcrValues })
Napi::Value VerifyQuoteBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "verifyQuote expects one object argument");
  }
  Napi::Object args = info[0].As<Napi::Object>();
  QuoteEvidence evidence{BytesArgument(env, args.Get("aikPublic"), "aikPublic"),
                         BytesArgument(env, args.Get("quote"), "quote"),
                         BytesArgument(env, args.Get("signature"), "signature")};
  QuoteExpectations expected;
  expected.nonce = BytesArgument(env, args.Get("expectedNonce"), "expectedNonce");
  if (expected.nonce.empty() || expected.nonce.size() > kMaxNonceBytes) {
    throw Napi::TypeError::New(env, "expectedNonce must be 1 to 64 bytes");
  }
  Napi::Value bank = args.Get("pcrBank");
  expected.pcr_bank =
      bank.IsString() ? FindHashByName(bank.As<Napi::String>().Utf8Value()) : nullptr;
  if (expected.pcr_bank == nullptr) {
    throw Napi::TypeError::New(env, "pcrBank must be 'sha256', 'sha384' or 'sha512'");
  }
  expected.pcr_indices = PcrIndicesArgument(env, args.Get("pcrIndices"));
  expected.pcr_values = PcrValuesArgument(env, args.Get("pcrValues"), expected.pcr_indices.size());

  const Tss2MuLibrary& library = ProcessTss2Mu();
  if (!library.available()) return UnavailableVerdict(env, library.reason());
  QuoteVerdict verdict =
      RunOrThrow(env, [&] { return VerifyQuote(library.functions(), evidence, expected); });
  return VerdictObject(env, verdict);
}

Napi::Object Availability(Napi::Env env, const Tss2MuLibrary& library) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("available", library.available());
  if (!library.available()) result.Set("reason", library.reason());
  return result;
}

Napi::Value Tss2AvailableBinding(const Napi::CallbackInfo& info) {
  return Availability(info.Env(), ProcessTss2Mu());
}

#ifdef NOMYO_TEST_HOOKS
// tss2TryLoad(soname): one load attempt from another soname, reported and then
// closed. It never touches the process's copy, so it can only show how loading
// fails, never change what verifyQuote uses.
Napi::Value Tss2TryLoadHook(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "tss2TryLoad expects a soname");
  }
  std::string soname = info[0].As<Napi::String>().Utf8Value();
  return Availability(env, Tss2MuLibrary::Open(soname.c_str()));
}
#endif

}  // namespace

void RegisterAttestation(Napi::Env env, Napi::Object exports) {
  exports.Set("verifyQuote", Napi::Function::New<VerifyQuoteBinding>(env, "verifyQuote"));
  exports.Set("tss2Available", Napi::Function::New<Tss2AvailableBinding>(env, "tss2Available"));
#ifdef NOMYO_TEST_HOOKS
  Napi::Object hooks = Napi::Object::New(env);
  hooks.Set("tss2TryLoad", Napi::Function::New<Tss2TryLoadHook>(env, "tss2TryLoad"));
  exports.Set("attestationTesting", hooks);
#endif
}

}  // namespace nomyo
