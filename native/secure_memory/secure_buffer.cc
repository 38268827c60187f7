#include "secure_buffer.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "../addon_data.h"
#include "../errors.h"
#include "../failures.h"
#include "../json/json_reader.h"
#include "../json/json_writer.h"

namespace nomyo {
namespace {

// An fd closed on every path out of ReadFile.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) close(fd);
  }
};

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
                         InstanceAccessor<&SecureBuffer::DumpExcluded>("dumpExcluded"),
                         InstanceAccessor<&SecureBuffer::Disposed>("disposed"),
                         InstanceMethod<&SecureBuffer::Dispose>("dispose"),
                         InstanceMethod<&SecureBuffer::ToString>("toString"),
                         InstanceMethod<&SecureBuffer::ParseJsonValue>("parseJson"),
                         InstanceMethod<&SecureBuffer::WriteToFd>("writeToFd"),
                         InstanceMethod<&SecureBuffer::Equals>("equals"),
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
  double limit = info[1].As<Napi::Number>().DoubleValue();
  if (!(limit >= 0)) throw Napi::TypeError::New(env, "limit must be a non-negative number");
  SharedRegion json =
      RunOrThrow(env, [&] { return SerializeJson(env, info[0], static_cast<size_t>(limit)); });
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
  return Napi::Number::New(info.Env(), static_cast<double>(region_ ? region_->size() : 0));
}

Napi::Value SecureBuffer::Locked(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), region_ && region_->locked());
}

Napi::Value SecureBuffer::DumpExcluded(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), region_ && region_->dump_excluded());
}

Napi::Value SecureBuffer::Disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !region_);
}

Napi::Value SecureBuffer::Dispose(const Napi::CallbackInfo& info) {
  // An operation still running on the threadpool holds its own reference; the
  // region is wiped and released when that ends.
  if (region_) {
    if (region_.use_count() == 1) region_->wipe();
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

}  // namespace nomyo
