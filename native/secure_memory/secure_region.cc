#include "secure_region.h"

#include <sodium.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
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

// Small secrets (AES keys, key names, a short message) come and go several
// times per request; mapping, fencing and locking a fresh region for each costs
// more system calls than the cryptography around them. Their wiped mappings are
// kept, guard pages, dump exclusion and lock intact, and handed to the next
// secret of the same size. Bounded, so that the pool never holds more than a
// small share of RLIMIT_MEMLOCK, and given back whenever a lock is refused.
constexpr size_t kPoolMaxPages = 4;
constexpr size_t kPoolMaxMappingsPerSize = 16;

struct PooledMapping {
  uint8_t* mapping;
  size_t locked_bytes;
  bool dump_excluded;
};

// Fixed storage: give() runs in ~SecureRegion and must not allocate (or throw).
struct PoolShelf {
  PooledMapping mappings[kPoolMaxMappingsPerSize];
  size_t count = 0;
};

class MappingPool {
 public:
  bool take(size_t capacity, PooledMapping& out) {
    std::lock_guard<std::mutex> hold(mutex_);
    PoolShelf& shelf = shelves_[capacity / PageSize()];
    if (shelf.count == 0) return false;
    out = shelf.mappings[--shelf.count];
    pooled_locked_bytes_ -= out.locked_bytes;
    return true;
  }

  // Takes a wiped mapping of `capacity` usable bytes; false when it is full.
  bool give(size_t capacity, const PooledMapping& mapping) {
    std::lock_guard<std::mutex> hold(mutex_);
    PoolShelf& shelf = shelves_[capacity / PageSize()];
    if (shelf.count >= kPoolMaxMappingsPerSize) return false;
    shelf.mappings[shelf.count++] = mapping;
    pooled_locked_bytes_ += mapping.locked_bytes;
    return true;
  }

  // Returns whether anything was released.
  bool drain() {
    PoolShelf released[kPoolMaxPages + 1];
    {
      std::lock_guard<std::mutex> hold(mutex_);
      for (size_t pages = 1; pages <= kPoolMaxPages; pages++) {
        released[pages] = shelves_[pages];
        shelves_[pages].count = 0;
      }
      pooled_locked_bytes_ = 0;
    }
    bool any = false;
    const size_t page = PageSize();
    for (size_t pages = 1; pages <= kPoolMaxPages; pages++) {
      for (size_t i = 0; i < released[pages].count; i++) {
        const PooledMapping& m = released[pages].mappings[i];
        if (m.locked_bytes > 0) munlock(m.mapping + page, m.locked_bytes);
        munmap(m.mapping, (pages + 2) * page);
        any = true;
      }
    }
    return any;
  }

  uint64_t pooled_locked_bytes() const { return pooled_locked_bytes_.load(); }

 private:
  std::mutex mutex_;
  PoolShelf shelves_[kPoolMaxPages + 1];
  std::atomic<uint64_t> pooled_locked_bytes_{0};
};

// Never destroyed: regions may be released by finalizers during shutdown.
MappingPool& Pool() {
  static MappingPool* pool = new MappingPool();
  return *pool;
}

bool Poolable(size_t capacity, size_t reserve) {
  return reserve == capacity && capacity / PageSize() <= kPoolMaxPages;
}

// Makes [begin, begin + n) usable for secrets: readable and writable, out of
// core dumps (reported) and out of forked children.
bool OpenPages(uint8_t* begin, size_t n) {
  if (mprotect(begin, n, PROT_READ | PROT_WRITE) != 0) return false;
  bool dump_excluded = false;
  // madvise reports its own result; sodium_mlock's internal madvise does not,
  // so exclusion is asked for here, on page-aligned memory, and checked.
#ifdef MADV_DONTDUMP
  dump_excluded = madvise(begin, n, MADV_DONTDUMP) == 0;
#endif
#ifdef MADV_DONTFORK
  madvise(begin, n, MADV_DONTFORK);
#endif
  return dump_excluded;
}

}  // namespace

SecureRegion::SecureRegion(size_t size) : SecureRegion(size, size) {}

SecureRegion::SecureRegion(size_t size, size_t reserve) : size_(size) {
  const size_t page = PageSize();
  // At least one page so that even an empty secret has a valid, fenced address.
  capacity_ = RoundUpToPage(size == 0 ? 1 : size);
  if (capacity_ < size) throw std::bad_alloc();
  reserve_ = reserve > size ? RoundUpToPage(reserve) : capacity_;
  if (reserve_ < capacity_ || reserve_ > SIZE_MAX - 2 * page) throw std::bad_alloc();
  mapping_size_ = reserve_ + 2 * page;

  PooledMapping pooled;
  if (Poolable(capacity_, reserve_) && Pool().take(capacity_, pooled)) {
    mapping_ = pooled.mapping;
    data_ = mapping_ + page;
    locked_bytes_ = pooled.locked_bytes;
    dump_excluded_ = pooled.dump_excluded;
  } else {
    // Reserved inaccessible; the guard pages are whatever stays so on either side.
    void* mapping = mmap(nullptr, mapping_size_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) throw std::bad_alloc();
    mapping_ = static_cast<uint8_t*>(mapping);
    data_ = mapping_ + page;
    if (mprotect(data_, capacity_, PROT_READ | PROT_WRITE) != 0) {
      munmap(mapping_, mapping_size_);
      throw std::bad_alloc();
    }
    dump_excluded_ = OpenPages(data_, capacity_);
  }
  g_locked_bytes += locked_bytes_;
  g_unlocked_bytes += capacity_ - locked_bytes_;
  g_live_regions++;
  lock_more();
}

SecureRegion::~SecureRegion() {
  // Once is enough: dispose() wiped already unless a view could have written since.
  if (!wiped_.load() || exposed_.load()) sodium_memzero(data_, capacity_);
  if (WipeObserver observer = g_wipe_observer.load()) observer(data_, capacity_);
  g_locked_bytes -= locked_bytes_;
  g_unlocked_bytes -= capacity_ - locked_bytes_;
  g_live_regions--;
  if (Poolable(capacity_, reserve_) &&
      Pool().give(capacity_, PooledMapping{mapping_, locked_bytes_, dump_excluded_})) {
    return;
  }
  if (locked_bytes_ > 0)
    munlock(data_, locked_bytes_);  // already wiped: sodium_munlock would wipe twice
  munmap(mapping_, mapping_size_);
}

bool SecureRegion::grow_in_place(size_t new_size) {
  if (new_size <= capacity_) {
    if (new_size > size_) size_ = new_size;
    return true;
  }
  const size_t capacity = RoundUpToPage(new_size);
  if (capacity > reserve_ || capacity < new_size) return false;
  const size_t added = capacity - capacity_;
  if (mprotect(data_ + capacity_, added, PROT_READ | PROT_WRITE) != 0) return false;
  const bool excluded = OpenPages(data_ + capacity_, added);
  dump_excluded_ = dump_excluded_ && excluded;
  capacity_ = capacity;
  size_ = new_size;
  g_unlocked_bytes += added;
  lock_more();
  return true;
}

void SecureRegion::lock_more() {
  if (locked_bytes_ == capacity_) return;
  // Lock in order from the start, so that the locked bytes are always a prefix.
  auto try_lock = [this](size_t offset, size_t n) { return sodium_mlock(data_ + offset, n) == 0; };
  size_t gained = 0;
  bool whole = try_lock(locked_bytes_, capacity_ - locked_bytes_);
  // The pool's mappings hold no secret: they give way to one.
  if (!whole && Pool().drain()) whole = try_lock(locked_bytes_, capacity_ - locked_bytes_);
  if (whole) {
    gained = capacity_ - locked_bytes_;
  } else {
    // As much as the limit allows, so that a secret larger than what is left is
    // still locked in part rather than not at all.
    const size_t chunk = kLockChunkPages * PageSize();
    while (locked_bytes_ + gained < capacity_) {
      size_t n =
          capacity_ - locked_bytes_ - gained < chunk ? capacity_ - locked_bytes_ - gained : chunk;
      if (!try_lock(locked_bytes_ + gained, n)) break;
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

void SecureRegion::wipe() {
  sodium_memzero(data_, capacity_);
  wiped_ = true;
}

void SecureRegion::wipe_as_requested() {
  if (!requested_wipe_done_.exchange(true)) wipe();
}

void SecureRegion::request_wipe() {
  wipe_requested_ = true;
  if (users_ == 0) wipe_as_requested();
}

RegionUse::RegionUse(SharedRegion region) : region_(std::move(region)) { region_->users_++; }

RegionUse::~RegionUse() {
  // Sequentially consistent: either this sees the request, or request_wipe()
  // sees no user left; at least one of them wipes.
  if (--region_->users_ == 0 && region_->wipe_requested_) region_->wipe_as_requested();
}

LockAccounting SecureRegion::accounting() {
  return {g_locked_bytes.load(), g_unlocked_bytes.load(), g_live_regions.load(),
          Pool().pooled_locked_bytes()};
}

int64_t LockLimitBytes() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return 0;
  if (limit.rlim_cur == RLIM_INFINITY) return -1;
  return static_cast<int64_t>(limit.rlim_cur);
}

void SetWipeObserver(WipeObserver observer) { g_wipe_observer.store(observer); }

}  // namespace nomyo
