// A page-aligned region of memory for secret bytes: locked in RAM, excluded from
// core dumps, fenced by guard pages, and wiped before it is returned to the system
// (or to a small pool of such mappings, see below).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace nomyo {

struct LockAccounting {
  uint64_t locked_bytes;    // bytes currently pinned by live regions
  uint64_t unlocked_bytes;  // bytes in live regions whose lock was refused
  uint64_t live_regions;
  // Wiped one-page-to-small mappings kept, locked, for the next small secret:
  // what they pin is part of the process's VmLck but holds no secret.
  uint64_t pooled_locked_bytes;
};

class SecureRegion {
 public:
  // Allocates `size` usable bytes (0 allowed). Throws std::bad_alloc when the
  // mapping itself fails; a refused lock is not an error, see locked().
  explicit SecureRegion(size_t size);
  // A region that can later grow in place (see grow_in_place) up to `reserve`
  // bytes: the address space is reserved now, inaccessible until it is used.
  SecureRegion(size_t size, size_t reserve);
  ~SecureRegion();

  SecureRegion(const SecureRegion&) = delete;
  SecureRegion& operator=(const SecureRegion&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  // Makes the region `new_size` bytes long without moving it: the new pages are
  // made accessible, excluded from dumps and locked as far as the limit allows.
  // False, and nothing changed, when the reservation is too small.
  bool grow_in_place(size_t new_size);

  // Shrinks the visible length (the tail is wiped); used when the final length
  // of a secret is known only after it was written.
  void truncate(size_t new_size);

  // Fully locked. Under a lock limit a region may be locked in part: see locked_bytes().
  bool locked() const { return locked_bytes_ == capacity_; }
  // Bytes of the region, from its start, that are pinned in RAM.
  size_t locked_bytes() const { return locked_bytes_; }
  // Tries again to lock what is not locked yet, e.g. once other secrets were released.
  void lock_more();
  bool dump_excluded() const { return dump_excluded_; }

  // Wipes the bytes now; the region stays usable (all zero).
  void wipe();

  // dispose() from JS: wipes now, or — while an operation in flight still reads
  // the bytes (see RegionUse) — as soon as the last such operation ends.
  void request_wipe();

  // JS may write into the bytes from now on (a view() Buffer maps them), so a
  // wipe done earlier no longer proves them zero at release.
  void expose() { exposed_ = true; }

  // An operation on the threadpool is reading the bytes (see RegionUse).
  bool in_use() const { return users_.load() > 0; }

  static LockAccounting accounting();

 private:
  uint8_t* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;  // page-rounded usable bytes between the guard pages
  size_t reserve_ = 0;   // page-rounded bytes the mapping can grow to in place
  size_t locked_bytes_ = 0;
  bool dump_excluded_ = false;
  std::atomic<bool> wiped_{false};    // wipe() ran, and nothing native writes after it
  std::atomic<bool> exposed_{false};  // see expose()
  // A requested wipe is done once, by dispose() or by the last operation using
  // the bytes, whichever comes last, never by both at the same time.
  std::atomic<bool> requested_wipe_done_{false};
  void wipe_as_requested();
  std::atomic<int> users_{0};
  std::atomic<bool> wipe_requested_{false};

  friend class RegionUse;
};

using SharedRegion = std::shared_ptr<SecureRegion>;

inline SharedRegion MakeRegion(size_t size) { return std::make_shared<SecureRegion>(size); }

// Held by an operation on the threadpool for as long as it reads a region, so
// that a dispose() meanwhile neither races the read nor lets the operation see
// a half-wiped secret: the wipe waits until the operation ends.
class RegionUse {
 public:
  explicit RegionUse(SharedRegion region);
  ~RegionUse();
  RegionUse(const RegionUse&) = delete;
  RegionUse& operator=(const RegionUse&) = delete;

  const SecureRegion& operator*() const { return *region_; }
  const SecureRegion* get() const { return region_.get(); }

 private:
  SharedRegion region_;
};

using SharedRegionUse = std::shared_ptr<RegionUse>;
inline SharedRegionUse UseRegion(SharedRegion region) {
  return region ? std::make_shared<RegionUse>(std::move(region)) : nullptr;
}

// RLIMIT_MEMLOCK soft limit in bytes, or -1 when unlimited.
int64_t LockLimitBytes();

// Hook for the test build: called with the region's bytes after the wipe and
// before the pages are unmapped. Never set in production builds.
using WipeObserver = void (*)(const uint8_t* data, size_t capacity);
void SetWipeObserver(WipeObserver observer);

}  // namespace nomyo
