// The event queue's heap: a binary min-heap of 128-bit keys (1-based array), popped bottom-up:
// the hole walks down the smaller children to a leaf with a branch-free child choice, then the
// last key sifts up from there (it usually belongs near the bottom, so this saves comparisons).
// It beat a cache-aligned 4-ary heap and std::priority_queue at 1k and 10k pending events
// (docs/performance.md).
#pragma once

#include <cstddef>
#include <vector>

#include "base/assert.h"
#include "base/int128.h"

namespace faultline::sim {

class EventHeap {
 public:
  EventHeap() {
    keys_.reserve(1024);
    keys_.push_back(0);  // index 0 unused
  }

  size_t size() const { return keys_.size() - 1; }
  bool empty() const { return keys_.size() == 1; }
  Uint128 top() const {
    FL_ASSERT(!empty());
    return keys_[1];
  }

  void Push(Uint128 key) {
    keys_.push_back(key);
    size_t i = keys_.size() - 1;
    while (i > 1 && key < keys_[i / 2]) {
      keys_[i] = keys_[i / 2];
      i /= 2;
    }
    keys_[i] = key;
  }

  Uint128 Pop() {
    FL_ASSERT(!empty());
    Uint128* k = keys_.data();
    const Uint128 top = k[1];
    const Uint128 last = keys_.back();
    keys_.pop_back();
    const size_t n = keys_.size() - 1;
    if (n == 0) return top;
    size_t hole = 1;
    while (2 * hole + 1 <= n) {
      size_t child = 2 * hole;
      child += static_cast<size_t>(k[child + 1] < k[child]);
      k[hole] = k[child];
      hole = child;
    }
    if (2 * hole == n) {  // a lone left child at the bottom
      k[hole] = k[n];
      hole = n;
    }
    while (hole > 1 && last < k[hole / 2]) {
      k[hole] = k[hole / 2];
      hole /= 2;
    }
    k[hole] = last;
    return top;
  }

 private:
  std::vector<Uint128> keys_;
};

}  // namespace faultline::sim
