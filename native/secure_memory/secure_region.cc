#include "secure_region.h"

#include <sodium.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <new>

namespace nomyo {
namespace {

std::atomic<uint64_t> g_locked_bytes{0};
std::atomic<uint64_t> g_unlocked_bytes{0};
std::atomic<uint64_t> g_live_regions{0};
std::atomic<WipeObserver> g_wipe_observer{nullptr};

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// Granularity of a partial lock: fine enough to use what a limit leaves, coarse
// enough that a 10 MiB secret costs a few dozen mlock calls at most.
constexpr size_t kLockChunkPages = 64;

size_t RoundUpToPage(size_t n) {
  const size_t page = PageSize();
  return (n + page - 1) / page * page;
}

}  // namespace

SecureRegion::SecureRegion(size_t size) : size_(size) {
  const size_t page = PageSize();
  // At least one page so that even an empty secret has a valid, fenced address.
  capacity_ = RoundUpToPage(size == 0 ? 1 : size);
  if (capacity_ < size) throw std::bad_alloc();
  mapping_size_ = capacity_ + 2 * page;
  void* mapping =
      mmap(nullptr, mapping_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) throw std::bad_alloc();
  mapping_ = static_cast<uint8_t*>(mapping);
  data_ = mapping_ + page;

  // Guard pages catch linear overruns in either direction with a fault instead
  // of silently reading or writing a neighbouring secret.
  mprotect(mapping_, page, PROT_NONE);
  mprotect(data_ + capacity_, page, PROT_NONE);

  // madvise reports its own result; sodium_mlock's internal madvise does not,
  // so exclusion is asked for here, on page-aligned memory, and checked.
#ifdef MADV_DONTDUMP
  dump_excluded_ = madvise(data_, capacity_, MADV_DONTDUMP) == 0;
#endif
  // Keep the secret out of a forked child's address space.
#ifdef MADV_DONTFORK
  madvise(data_, capacity_, MADV_DONTFORK);
#endif
  g_unlocked_bytes += capacity_;
  g_live_regions++;
  lock_more();
}

SecureRegion::~SecureRegion() {
  sodium_memzero(data_, capacity_);
  if (WipeObserver observer = g_wipe_observer.load()) observer(data_, capacity_);
  if (locked_bytes_ > 0)
    munlock(data_, locked_bytes_);  // already wiped: sodium_munlock would wipe twice
  g_locked_bytes -= locked_bytes_;
  g_unlocked_bytes -= capacity_ - locked_bytes_;
  g_live_regions--;
  munmap(mapping_, mapping_size_);
}

void SecureRegion::lock_more() {
  if (locked_bytes_ == capacity_) return;
  // All at once when the limit allows; otherwise as much as it allows, so that a
  // secret larger than what is left is still locked in part rather than not at all.
  size_t gained = 0;
  if (sodium_mlock(data_ + locked_bytes_, capacity_ - locked_bytes_) == 0) {
    gained = capacity_ - locked_bytes_;
  } else {
    const size_t chunk = kLockChunkPages * PageSize();
    while (locked_bytes_ + gained < capacity_) {
      size_t n =
          capacity_ - locked_bytes_ - gained < chunk ? capacity_ - locked_bytes_ - gained : chunk;
      if (sodium_mlock(data_ + locked_bytes_ + gained, n) != 0) break;
      gained += n;
    }
  }
  locked_bytes_ += gained;
  g_locked_bytes += gained;
  g_unlocked_bytes -= gained;
}

void SecureRegion::truncate(size_t new_size) {
  if (new_size >= size_) return;
  sodium_memzero(data_ + new_size, size_ - new_size);
  size_ = new_size;
}

void SecureRegion::wipe() { sodium_memzero(data_, capacity_); }

void SecureRegion::request_wipe() {
  wipe_requested_ = true;
  if (users_ == 0) wipe();
}

RegionUse::RegionUse(SharedRegion region) : region_(std::move(region)) { region_->users_++; }

RegionUse::~RegionUse() {
  // Sequentially consistent: either this sees the request, or request_wipe()
  // sees no user left; at least one of them wipes.
  if (--region_->users_ == 0 && region_->wipe_requested_) region_->wipe();
}

LockAccounting SecureRegion::accounting() {
  return {g_locked_bytes.load(), g_unlocked_bytes.load(), g_live_regions.load()};
}

int64_t LockLimitBytes() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return 0;
  if (limit.rlim_cur == RLIM_INFINITY) return -1;
  return static_cast<int64_t>(limit.rlim_cur);
}

void SetWipeObserver(WipeObserver observer) { g_wipe_observer.store(observer); }

}  // namespace nomyo
