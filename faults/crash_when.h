// Crashing a node at a protocol point: when the first trace record matching a predicate
// appears, the node that recorded it (or the JobManager) crashes as the next event, and restarts
// `restart_after` later. The plan-driven FaultRunner (faults/fault_runner.h) covers the same
// ground from scenario files; this is the direct form for tests written in C++.
#pragma once

#include <functional>
#include <utility>

#include "base/time.h"
#include "simulator/job_world.h"
#include "simulator/trace.h"

namespace faultline::faults {

class CrashWhen : public sim::TraceObserver {
 public:
  using Match = std::function<bool(const sim::TraceRecord&)>;
  CrashWhen(sim::JobWorld* jw, Match match, bool crash_job_manager,
            Duration restart_after = Duration::Millis(400))
      : jw_(jw),
        match_(std::move(match)),
        crash_job_manager_(crash_job_manager),
        restart_after_(restart_after) {}

  void OnRecord(const sim::TraceRecord& r) override {
    if (fired_ || !match_ || !match_(r)) return;
    fired_ = true;
    const uint32_t victim = crash_job_manager_ ? jw_->job_manager_node() : r.node;
    // Observers must not change the trace themselves: the crash runs as the next event.
    jw_->world().loop().Schedule(jw_->world().now(), [this, victim] {
      if (!jw_->world().IsUp(victim)) return;
      jw_->world().Crash(victim, "crash point");
      jw_->world().loop().ScheduleAfter(restart_after_,
                                        [this, victim] { jw_->world().Restart(victim); });
    });
  }
  bool fired() const { return fired_; }

 private:
  sim::JobWorld* jw_;
  Match match_;
  bool crash_job_manager_;
  Duration restart_after_;
  bool fired_ = false;
};

}  // namespace faultline::faults
