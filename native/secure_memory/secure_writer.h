// An append-only byte sink in secure memory. Growth happens in place within a
// reserved region; when it cannot, the bytes move into a larger region and the
// old one wipes itself, so no copy is left behind.
#pragma once

#include <sodium.h>

#include <cstring>
#include <stdexcept>

#include "secure_region.h"

namespace nomyo {

class LimitExceeded : public std::runtime_error {
 public:
  LimitExceeded() : std::runtime_error("size limit exceeded") {}
};

class SecureWriter {
 public:
  SecureWriter(size_t initial_capacity, size_t limit)
      : region_(MakeRegion(initial_capacity)), limit_(limit) {}

  void append(const void* bytes, size_t n) {
    uint8_t* dst = reserve(n);
    memcpy(dst, bytes, n);
    length_ += n;
  }
  void append(char c) { append(&c, 1); }
  void append(const char* s) { append(s, strlen(s)); }

  // Returns room for n more bytes at the end; commit(k) makes k of them count.
  uint8_t* reserve(size_t n) {
    if (n > limit_ || length_ > limit_ - n) throw LimitExceeded();
    if (length_ + n > region_->size()) grow(length_ + n);
    return region_->data() + length_;
  }
  void commit(size_t n) { length_ += n; }

  size_t length() const { return length_; }

  // Forgets (and wipes) everything written after `mark`.
  void rewind(size_t mark) {
    if (mark >= length_) return;
    sodium_memzero(region_->data() + mark, length_ - mark);
    length_ = mark;
  }

  // Hands the written bytes over as a region of exactly length() bytes.
  SharedRegion finish() {
    region_->truncate(length_);
    region_->lock_more();  // regions released since it was made may have freed lock budget
    SharedRegion done = std::move(region_);
    region_ = nullptr;
    return done;
  }

 private:
  void grow(size_t needed) {
    size_t capacity = region_->size() * 2;
    if (capacity < needed) capacity = needed;
    if (capacity > limit_) capacity = limit_;
    if (region_->grow_in_place(capacity)) return;
    // Address space is cheap and reserving it lets every later growth happen in
    // place: no copy, no second region to wipe. Past kMaxReserve, growth copies.
    size_t reserve = limit_ < kMaxReserve ? limit_ : kMaxReserve;
    if (reserve < capacity) reserve = capacity;
    SharedRegion bigger = std::make_shared<SecureRegion>(capacity, reserve);
    memcpy(bigger->data(), region_->data(), length_);
    region_ = std::move(bigger);
    region_->lock_more();  // the old region's pages are unlocked now
  }

  static constexpr size_t kMaxReserve = size_t{1} << 30;

  SharedRegion region_;
  size_t length_ = 0;
  size_t limit_;
};

}  // namespace nomyo
