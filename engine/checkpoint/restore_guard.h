// A deployment's restore, and its invariants: a task restores at most once per deployment (one
// Task object), and only before it processes anything; it processes only once the restore it
// began has finished.
#pragma once

#include "base/assert.h"

namespace faultline::engine {

class RestoreGuard {
 public:
  void BeginRestore() {
    FL_ASSERT(!restore_begun_, "a second restore in one deployment");
    FL_ASSERT(!processing_, "a restore after processing began");
    restore_begun_ = true;
  }
  void FinishRestore() {
    FL_ASSERT(restore_begun_ && !restored_, "a restore finished that was not begun");
    restored_ = true;
  }
  void BeginProcessing() {
    FL_ASSERT(!processing_, "processing began twice");
    FL_ASSERT(!restore_begun_ || restored_, "processing began before the restore finished");
    processing_ = true;
  }
  bool processing() const { return processing_; }

 private:
  bool restore_begun_ = false;
  bool restored_ = false;
  bool processing_ = false;
};

}  // namespace faultline::engine
