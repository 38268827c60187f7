#include "background_release.h"

namespace nomyo {
namespace {

class ReleaseWorker : public Napi::AsyncWorker {
 public:
  ReleaseWorker(Napi::Env env, SharedRegion region)
      : Napi::AsyncWorker(env, "nomyo:release"), region_(std::move(region)) {}

 protected:
  // Already wiped: what is left is munlock and munmap, when this is the last holder.
  void Execute() override { region_.reset(); }

 private:
  SharedRegion region_;
};

}  // namespace

void ReleaseRegion(Napi::Env env, SharedRegion region) {
  region->request_wipe();
  if (region->size() < kBackgroundReleaseBytes) return;
  ReleaseWorker* worker = nullptr;
  try {
    worker = new ReleaseWorker(env, std::move(region));
    worker->Queue();
  } catch (...) {
    delete worker;  // no work could be queued: the pages are given back here
  }
}

}  // namespace nomyo
