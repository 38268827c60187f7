#include "background_release.h"

namespace nomyo {
namespace {

class ReleaseWorker : public Napi::AsyncWorker {
 public:
  ReleaseWorker(Napi::Env env, SharedRegion region)
      : Napi::AsyncWorker(env, "nomyo:release"), region_(std::move(region)) {}

 protected:
  void Execute() override {
    region_->request_wipe();
    region_.reset();  // the last holder unmaps here, off the JS thread
  }

 private:
  SharedRegion region_;
};

}  // namespace

void ReleaseRegion(Napi::Env env, SharedRegion region) {
  if (region->size() >= kBackgroundReleaseBytes) {
    try {
      (new ReleaseWorker(env, region))->Queue();
      return;
    } catch (...) {
      // No work could be queued: release it here.
    }
  }
  region->request_wipe();
}

}  // namespace nomyo
