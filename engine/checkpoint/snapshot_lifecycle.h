// The life of one task snapshot from its barrier to its acknowledgement, and the protocol's
// invariants over it: the snapshot is released for upload only after its synchronous capture
// and once nothing holds it any more (the sink's pre-commit, the recording of its in-flight
// input, an aligned barrier still queued on an output); it is acknowledged at most once, only
// after its release, and only once every upload is durable (before that only under the
// ack-before-upload teaching switch, which exists to show what this prevents).
#pragma once

#include <cstddef>

#include "base/assert.h"

namespace faultline::engine {

class SnapshotLifecycle {
 public:
  // One more thing the release waits for. A snapshot starts with none: its creator holds it.
  void Hold() {
    FL_ASSERT(!released_, "a hold on a snapshot already released");
    ++holds_;
  }
  // The synchronous part (state captured at the barrier) is done.
  void Captured() {
    FL_ASSERT(!captured_, "a snapshot captured twice");
    captured_ = true;
  }
  // Drops one hold; returns true when it was the last: the snapshot is released for upload.
  [[nodiscard]] bool Drop() {
    FL_ASSERT(holds_ > 0, "a snapshot dropped more often than held");
    if (--holds_ > 0) return false;
    FL_ASSERT(captured_, "a snapshot released before its capture");
    released_ = true;
    return true;
  }
  // Its `count` blobs are being put in the blob store.
  void UploadsStarted(size_t count) {
    FL_ASSERT(released_, "a snapshot uploaded before its release");
    uploads_pending_ = count;
  }
  // One upload finished (durable or failed); returns true when it was the last.
  [[nodiscard]] bool UploadFinished() {
    FL_ASSERT(uploads_pending_ > 0, "more uploads finished than started");
    return --uploads_pending_ == 0;
  }
  // The acknowledgement goes out. `before_upload`: the ack-before-upload teaching switch.
  void Acknowledge(bool before_upload) {
    FL_ASSERT(released_ && !acknowledged_, "a snapshot acknowledged twice or before its release");
    FL_ASSERT(before_upload || uploads_pending_ == 0,
              "a snapshot acknowledged before its upload is durable");
    acknowledged_ = true;
  }

 private:
  size_t holds_ = 0;
  size_t uploads_pending_ = 0;
  bool captured_ = false;
  bool released_ = false;
  bool acknowledged_ = false;
};

}  // namespace faultline::engine
