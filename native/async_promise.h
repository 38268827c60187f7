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
      failed_ = true;
    }
  }

  // Settles the promise. When a worker thread is terminated with work in
  // flight, its environment is torn down around this call: nothing can be
  // made or settled any more, and an exception let out of here would abort
  // the whole process. Such a promise is dropped with its environment.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    if (status != napi_cancelled) {
      Napi::HandleScope scope(env);
      try {
        if (failed_) {
          deferred_.Reject(MakeError(env, failure_.code, failure_.message.c_str()).Value());
        } else {
          deferred_.Resolve(settle_(env, result_));
        }
      } catch (const Napi::Error& error) {
        RejectIfStillPossible(error.Value());
      } catch (...) {
        RejectIfStillPossible(Napi::Value());
      }
    }
    Destroy();
  }

 private:
  void RejectIfStillPossible(Napi::Value reason) noexcept {
    try {
      if (reason.IsEmpty()) reason = MakeError(Env(), code::kOutOfMemory, "out of memory").Value();
      deferred_.Reject(reason);
    } catch (...) {
      // The environment is going away; so does the promise.
    }
  }

  PromiseWorker(Napi::Env env, Work work, Settle settle)
      : Napi::AsyncWorker(env, "nomyo"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        settle_(std::move(settle)) {}

  Napi::Promise::Deferred deferred_;
  Work work_;
  Settle settle_;
  Result result_{};
  bool failed_ = false;
  NativeFailure failure_{code::kOutOfMemory, "out of memory"};
};

}  // namespace nomyo
