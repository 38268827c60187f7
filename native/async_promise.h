// Runs core work on the libuv threadpool and settles a Promise with its result.
#pragma once

#include <napi.h>

#include <functional>
#include <utility>

#include "failures.h"

namespace nomyo {

template <typename Result>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using Settle = std::function<Napi::Value(Napi::Env, Result&)>;

  static Napi::Promise Run(Napi::Env env, Work work, Settle settle) {
    auto* worker = new PromiseWorker(env, std::move(work), std::move(settle));
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      result_ = work_();
    } catch (...) {
      failure_ = ClassifyCurrentException();
      SetError(failure_.message);
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(settle_(env, result_));
    } catch (const Napi::Error& error) {
      deferred_.Reject(error.Value());
    }
  }

  void OnError(const Napi::Error&) override {
    deferred_.Reject(MakeError(Env(), failure_.code, failure_.message.c_str()).Value());
  }

 private:
  PromiseWorker(Napi::Env env, Work work, Settle settle)
      : Napi::AsyncWorker(env, "nomyo"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        settle_(std::move(settle)) {}

  Napi::Promise::Deferred deferred_;
  Work work_;
  Settle settle_;
  Result result_{};
  NativeFailure failure_{code::kOutOfMemory, "out of memory"};
};

}  // namespace nomyo
