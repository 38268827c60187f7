// A page-aligned region of memory for secret bytes: locked in RAM, excluded from
// core dumps, fenced by guard pages, and wiped before it is returned to the system.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace nomyo {

struct LockAccounting {
  uint64_t locked_bytes;    // bytes currently pinned by live regions
  uint64_t unlocked_bytes;  // bytes in live regions whose lock was refused
  uint64_t live_regions;
};

class SecureRegion {
 public:
  // Allocates `size` usable bytes (0 allowed). Throws std::bad_alloc when the
  // mapping itself fails; a refused lock is not an error, see locked().
  explicit SecureRegion(size_t size);
  ~SecureRegion();

  SecureRegion(const SecureRegion&) = delete;
  SecureRegion& operator=(const SecureRegion&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  // Shrinks the visible length (the tail is wiped); used when the final length
  // of a secret is known only after it was written.
  void truncate(size_t new_size);

  bool locked() const { return locked_; }
  bool dump_excluded() const { return dump_excluded_; }

  // Wipes the bytes now; the region stays usable (all zero).
  void wipe();

  static LockAccounting accounting();

 private:
  uint8_t* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;  // page-rounded usable bytes between the guard pages
  bool locked_ = false;
  bool dump_excluded_ = false;
};

using SharedRegion = std::shared_ptr<SecureRegion>;

inline SharedRegion MakeRegion(size_t size) { return std::make_shared<SecureRegion>(size); }

// RLIMIT_MEMLOCK soft limit in bytes, or -1 when unlimited.
int64_t LockLimitBytes();

// Hook for the test build: called with the region's bytes after the wipe and
// before the pages are unmapped. Never set in production builds.
using WipeObserver = void (*)(const uint8_t* data, size_t capacity);
void SetWipeObserver(WipeObserver observer);

}  // namespace nomyo
