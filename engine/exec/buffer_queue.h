// A task's queue of wire buffers (an input's received buffers, an output's sealed ones) that
// tells a FlowObserver every change, so a viewer can follow each buffer from the producer's
// output queue through the network to the consumer's input queue. Without an observer it is a
// plain deque.
#pragma once

#include <cstddef>
#include <deque>
#include <utility>

#include "base/assert.h"
#include "engine/exec/observer.h"
#include "engine/exec/wire.h"

namespace faultline::engine {

// The BufferInfo of a wire buffer; kOther when it cannot be decoded.
BufferInfo DescribeBuffer(const Buffer& buffer);

class BufferQueue {
 public:
  // Reports every later change to `observer` (may be null) as `ref`.
  void Observe(FlowObserver* observer, const QueueRef& ref) {
    observer_ = observer;
    ref_ = ref;
  }

  bool empty() const { return q_.empty(); }
  size_t size() const { return q_.size(); }
  Buffer& front() { return q_.front(); }
  const Buffer& front() const { return q_.front(); }
  const Buffer& back() const { return q_.back(); }
  Buffer& operator[](size_t k) { return q_[k]; }
  const Buffer& operator[](size_t k) const { return q_[k]; }

  void push_back(Buffer buffer) { insert(q_.size(), std::move(buffer)); }
  void push_front(Buffer buffer) { insert(0, std::move(buffer)); }
  void insert(size_t at, Buffer buffer) {
    FL_ASSERT(at <= q_.size());
    if (observer_ != nullptr) observer_->OnQueued(ref_, at, DescribeBuffer(buffer));
    q_.insert(q_.begin() + static_cast<std::ptrdiff_t>(at), std::move(buffer));
  }
  // `buffer` went to the network without waiting in the queue (an unaligned barrier sent as an
  // event): reported as queued at the front and sent.
  void SentDirectly(const Buffer& buffer) {
    if (observer_ == nullptr) return;
    observer_->OnQueued(ref_, 0, DescribeBuffer(buffer));
    observer_->OnDequeued(ref_, 0, BufferFate::kSent);
  }
  void pop_front(BufferFate fate) { erase(0, fate); }
  void erase(size_t at, BufferFate fate) {
    FL_ASSERT(at < q_.size());
    if (observer_ != nullptr) observer_->OnDequeued(ref_, at, fate);
    q_.erase(q_.begin() + static_cast<std::ptrdiff_t>(at));
  }

 private:
  std::deque<Buffer> q_;
  FlowObserver* observer_ = nullptr;
  QueueRef ref_;
};

}  // namespace faultline::engine
