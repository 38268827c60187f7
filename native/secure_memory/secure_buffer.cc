#include "secure_buffer.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "../addon_data.h"
#include "../errors.h"
#include "../failures.h"
#include "../json/json_reader.h"
#include "../json/json_scan.h"
#include "../json/json_writer.h"
#include "background_release.h"

namespace nomyo {
namespace {

// An fd closed on every path out of ReadFile.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) close(fd);
  }
};

std::vector<JsonPathStep> PathArgument(Napi::Value value) {
  Napi::Env env = value.Env();
  if (!value.IsArray())
    throw Napi::TypeError::New(env, "path must be an array of keys and indices");
  Napi::Array steps = value.As<Napi::Array>();
  std::vector<JsonPathStep> path;
  for (uint32_t i = 0; i < steps.Length(); i++) {
    Napi::Value step = steps.Get(i);
    if (step.IsNumber()) {
      double index = step.As<Napi::Number>().DoubleValue();
      if (!(index >= 0) || index != static_cast<double>(static_cast<size_t>(index))) {
        throw Napi::TypeError::New(env, "path indices must be non-negative integers");
      }
      path.push_back({true, static_cast<size_t>(index), std::string()});
    } else if (step.IsString()) {
      path.push_back({false, 0, step.As<Napi::String>().Utf8Value()});
    } else {
      throw Napi::TypeError::New(env, "path steps must be strings or numbers");
    }
  }
  return path;
}

}  // namespace

Napi::Function SecureBuffer::Define(Napi::Env env) {
  return DefineClass(env, "SecureBuffer",
                     {
                         StaticMethod<&SecureBuffer::FromString>("fromString"),
                         StaticMethod<&SecureBuffer::FromBytes>("fromBytes"),
                         StaticMethod<&SecureBuffer::SerializeJsonValue>("serializeJson"),
                         StaticMethod<&SecureBuffer::ReadFile>("readFile"),
                         InstanceAccessor<&SecureBuffer::ByteLength>("byteLength"),
                         InstanceAccessor<&SecureBuffer::Locked>("locked"),
                         InstanceAccessor<&SecureBuffer::LockedBytes>("lockedBytes"),
                         InstanceAccessor<&SecureBuffer::DumpExcluded>("dumpExcluded"),
                         InstanceAccessor<&SecureBuffer::Disposed>("disposed"),
                         InstanceMethod<&SecureBuffer::Dispose>("dispose"),
                         InstanceMethod<&SecureBuffer::ToString>("toString"),
                         InstanceMethod<&SecureBuffer::ParseJsonValue>("parseJson"),
                         InstanceMethod<&SecureBuffer::ConsumeJsonValue>("consumeJson"),
                         InstanceMethod<&SecureBuffer::WriteToFd>("writeToFd"),
                         InstanceMethod<&SecureBuffer::Equals>("equals"),
                         InstanceMethod<&SecureBuffer::ExtractString>("extractString"),
                         InstanceMethod<&SecureBuffer::JsonTypeAt>("jsonTypeAt"),
                         InstanceMethod<&SecureBuffer::ExtractJson>("extractJson"),
                         InstanceMethod<&SecureBuffer::ParseJsonAt>("parseJsonAt"),
                         InstanceMethod<&SecureBuffer::View>("view"),
                         InstanceMethod<&SecureBuffer::CopyTo>("copyTo"),
                     });
}

Napi::Object SecureBuffer::Create(Napi::Env env, SharedRegion region) {
  auto* holder = new SharedRegion(std::move(region));
  Napi::External<SharedRegion> external =
      Napi::External<SharedRegion>::New(env, holder, [](Napi::Env, SharedRegion* h) { delete h; });
  return GetAddonData(env).secure_buffer.New({external});
}

SecureBuffer::SecureBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SecureBuffer>(info) {
  // Only native code holds the External that makes a SecureBuffer.
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "SecureBuffer is not constructible; use its factories");
  }
  SharedRegion* holder = info[0].As<Napi::External<SharedRegion>>().Data();
  region_ = std::move(*holder);
  napi_type_tag_object(info.Env(), info.This(), &kTypeTag);
}

const SharedRegion& SecureBuffer::Region(Napi::Env env) const {
  if (!region_) throw MakeError(env, code::kDisposed, "the secure buffer was disposed");
  return region_;
}

SharedRegion SecureBuffer::FromArgument(Napi::Value value, const char* name) {
  SecureBuffer* buffer = UnwrapTagged<SecureBuffer>(value);
  if (buffer == nullptr) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a SecureBuffer");
  }
  return buffer->Region(value.Env());
}

Napi::Value SecureBuffer::FromString(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "expected a string");
  size_t length = 0;
  napi_get_value_string_utf8(env, info[0], nullptr, 0, &length);
  // V8 encodes straight into the locked region: no intermediate UTF-8 copy.
  SharedRegion region = RunOrThrow(env, [&] { return MakeRegion(length + 1); });
  napi_get_value_string_utf8(env, info[0], reinterpret_cast<char*>(region->data()), length + 1,
                             &length);
  region->truncate(length);
  return Create(env, std::move(region));
}

Napi::Value SecureBuffer::FromBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    throw Napi::TypeError::New(env, "expected a Uint8Array");
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  SharedRegion region = RunOrThrow(env, [&] { return MakeRegion(bytes.ByteLength()); });
  memcpy(region->data(), bytes.Data(), bytes.ByteLength());
  return Create(env, std::move(region));
}

Napi::Value SecureBuffer::SerializeJsonValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "expected (value, limit)");
  }
  double limit_number = info[1].As<Napi::Number>().DoubleValue();
  if (!(limit_number >= 0)) throw Napi::TypeError::New(env, "limit must be a non-negative number");
  // Casting a double at or past 2^64 (Infinity included) to size_t is undefined.
  const size_t limit =
      limit_number >= 18446744073709549568.0 ? SIZE_MAX : static_cast<size_t>(limit_number);
  SharedRegion json = RunOrThrow(env, [&] { return SerializeJson(env, info[0], limit); });
  return Create(env, std::move(json));
}

Napi::Value SecureBuffer::ReadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "expected (path, maxBytes)");
  }
  std::string path = info[0].As<Napi::String>();
  size_t max_bytes = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  FileDescriptor file{open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (file.fd < 0) {
    Napi::Error error = MakeError(env, code::kIo, "cannot open the file");
    error.Set("errno", Napi::Number::New(env, errno));
    throw error;
  }
  // O_NONBLOCK: a FIFO at the path must not hang the caller before the check below.
  // The mode comes from the descriptor that is read, not from a second lookup of
  // the path that could name another file by then.
  struct stat st;
  if (fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    throw MakeError(env, code::kIo, "not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    throw MakeError(env, code::kTooLarge, "the file is larger than expected");
  }
  SharedRegion region =
      RunOrThrow(env, [&] { return MakeRegion(static_cast<size_t>(st.st_size)); });
  size_t filled = 0;
  while (filled < region->size()) {
    ssize_t n = read(file.fd, region->data() + filled, region->size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw MakeError(env, code::kIo, "cannot read the file");
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  region->truncate(filled);
  Napi::Object result = Napi::Object::New(env);
  result.Set("secret", Create(env, std::move(region)));
  result.Set("mode", Napi::Number::New(env, st.st_mode & 07777));
  result.Set("uid", Napi::Number::New(env, st.st_uid));
  return result;
}

Napi::Value SecureBuffer::ByteLength(const Napi::CallbackInfo& info) {
  CheckReceiver(info, this);
  return Napi::Number::New(info.Env(), static_cast<double>(region_ ? region_->size() : 0));
}

Napi::Value SecureBuffer::Locked(const Napi::CallbackInfo& info) {
  CheckReceiver(info, this);
  return Napi::Boolean::New(info.Env(), region_ && region_->locked());
}

// How many of the secret's own bytes are locked (a region under a lock limit may be locked in
// part).
Napi::Value SecureBuffer::LockedBytes(const Napi::CallbackInfo& info) {
  CheckReceiver(info, this);
  size_t locked = region_ ? std::min(region_->locked_bytes(), region_->size()) : 0;
  return Napi::Number::New(info.Env(), static_cast<double>(locked));
}

Napi::Value SecureBuffer::DumpExcluded(const Napi::CallbackInfo& info) {
  CheckReceiver(info, this);
  return Napi::Boolean::New(info.Env(), region_ && region_->dump_excluded());
}

Napi::Value SecureBuffer::Disposed(const Napi::CallbackInfo& info) {
  CheckReceiver(info, this);
  return Napi::Boolean::New(info.Env(), !region_);
}

Napi::Value SecureBuffer::Dispose(const Napi::CallbackInfo& info) {
  // Wiped now even if a view still maps it (dispose means the plaintext is
  // gone), or when an operation reading it ends; the pages are released with
  // the last holder.
  if (region_) {
    region_->request_wipe();
    region_.reset();
  }
  return info.Env().Undefined();
}

Napi::Value SecureBuffer::ToString(const Napi::CallbackInfo& info) {
  const SharedRegion& region = Region(info.Env());
  return Napi::String::New(info.Env(), reinterpret_cast<const char*>(region->data()),
                           region->size());
}

Napi::Value SecureBuffer::ParseJsonValue(const Napi::CallbackInfo& info) {
  return ParseJson(info.Env(), *Region(info.Env()));
}

Napi::Value SecureBuffer::ConsumeJsonValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedRegion region = Region(env);
  // Consuming means the caller is done with the secret: disposed at once, and
  // wiped whatever the outcome (on a failure, here, as the error leaves).
  region_.reset();
  struct WipeOnFailure {
    SharedRegion& region;
    ~WipeOnFailure() {
      if (region) region->request_wipe();
    }
  } wipe_on_failure{region};
  // An operation still reading the bytes must not see them change under it.
  Napi::Value value = region->in_use() ? ParseJson(env, *region) : ConsumeJson(env, *region);
  ReleaseRegion(env, std::move(region));
  return value;
}

Napi::Value SecureBuffer::WriteToFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "expected an fd");
  int fd = info[0].As<Napi::Number>().Int32Value();
  const SharedRegion& region = Region(env);
  size_t written = 0;
  while (written < region->size()) {
    ssize_t n = write(fd, region->data() + written, region->size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw MakeError(env, code::kIo, "cannot write the file");
    written += static_cast<size_t>(n);
  }
  return env.Undefined();
}

Napi::Value SecureBuffer::Equals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const SharedRegion& mine = Region(env);
  SharedRegion other = FromArgument(info[0], "other");
  bool same = mine->size() == other->size() &&
              sodium_memcmp(mine->data(), other->data(), mine->size()) == 0;
  return Napi::Boolean::New(env, same);
}

// extractString(path): the unescaped string at path, in a new SecureBuffer; null
// when the path is absent or does not name a string.
Napi::Value SecureBuffer::ExtractString(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const SharedRegion& region = Region(env);
  std::vector<JsonPathStep> path = PathArgument(info[0]);
  std::optional<JsonSpan> span = FindJsonValue(region->data(), region->size(), path);
  if (!span || region->data()[span->begin] != '"') return env.Null();
  // FindJsonValue validated the document, so decoding the string cannot fail.
  SharedRegion text = RunOrThrow(env, [&] {
    SecureWriter decoded(span->end - span->begin, span->end - span->begin);
    DecodeJsonString(region->data(), *span, decoded);
    return decoded.finish();
  });
  return Create(env, std::move(text));
}

// jsonTypeAt(path): 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null' for
// the value at path, or undefined when the document is invalid or has no such value.
Napi::Value SecureBuffer::JsonTypeAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const SharedRegion& region = Region(env);
  std::optional<JsonSpan> span =
      FindJsonValue(region->data(), region->size(), PathArgument(info[0]));
  if (!span) return env.Undefined();
  switch (region->data()[span->begin]) {
    case '{': return Napi::String::New(env, "object");
    case '[': return Napi::String::New(env, "array");
    case '"': return Napi::String::New(env, "string");
    case 't':
    case 'f': return Napi::String::New(env, "boolean");
    case 'n': return Napi::String::New(env, "null");
    default: return Napi::String::New(env, "number");
  }
}

// extractJson(path): the JSON text of the value at path, in a new SecureBuffer, or null.
Napi::Value SecureBuffer::ExtractJson(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const SharedRegion& region = Region(env);
  std::optional<JsonSpan> span =
      FindJsonValue(region->data(), region->size(), PathArgument(info[0]));
  if (!span) return env.Null();
  SharedRegion json = RunOrThrow(env, [&] { return MakeRegion(span->end - span->begin); });
  memcpy(json->data(), region->data() + span->begin, span->end - span->begin);
  return Create(env, std::move(json));
}

// parseJsonAt(path): the value at path as JS, or undefined when absent.
Napi::Value SecureBuffer::ParseJsonAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const SharedRegion& region = Region(env);
  std::optional<JsonSpan> span =
      FindJsonValue(region->data(), region->size(), PathArgument(info[0]));
  if (!span) return env.Undefined();
  SharedRegion json = RunOrThrow(env, [&] { return MakeRegion(span->end - span->begin); });
  memcpy(json->data(), region->data() + span->begin, span->end - span->begin);
  return ParseJson(env, *json);
}

// view(): a Buffer over the secret's own locked memory. The memory stays mapped
// while the Buffer lives, and reads as zeros once the SecureBuffer is disposed.
Napi::Value SecureBuffer::View(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const SharedRegion& region = Region(env);
  region->expose();
  auto* keep_alive = new SharedRegion(region);
  napi_value buffer;
  napi_status status = napi_create_external_buffer(
      env, region->size(), region->data(),
      [](napi_env, void*, void* hint) { delete static_cast<SharedRegion*>(hint); }, keep_alive,
      &buffer);
  if (status != napi_ok) {
    delete keep_alive;
    // Sandboxed V8 builds refuse memory they do not own; callers use copyTo().
    throw MakeError(env, code::kNoExternalBuffers,
                    "this runtime does not allow buffers over native memory; use copyTo()");
  }
  return Napi::Value(env, buffer);
}

// copyTo(target): copies the bytes into a caller-supplied Uint8Array; returns the count.
Napi::Value SecureBuffer::CopyTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const SharedRegion& region = Region(env);
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    throw Napi::TypeError::New(env, "expected a Uint8Array");
  }
  Napi::Uint8Array target = info[0].As<Napi::Uint8Array>();
  if (target.ByteLength() < region->size()) {
    throw MakeError(env, code::kTooLarge, "the target is smaller than the secret");
  }
  memcpy(target.Data(), region->data(), region->size());
  return Napi::Number::New(env, static_cast<double>(region->size()));
}

}  // namespace nomyo
