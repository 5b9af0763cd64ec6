// Shared by the engine tests and benchmarks: the example keyed job, filling its source log, the
// committed output's provenance, and crashing a node at a protocol point.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "engine/api/job.h"
#include "engine/exec/events.h"
#include "simulator/job_world.h"

namespace faultline::testing_support {

// Running sum per key; emits (key, sum) for every record, carrying the record's provenance.
class RunningSum : public engine::KeyedProcessFunction {
 public:
  void Process(const engine::Record& in, engine::KeyedContext& state,
               engine::Collector& out) override {
    const int64_t sum = state.GetValue("sum").value_or(0) + in.value;
    state.SetValue("sum", sum);
    out.Emit(engine::Record{in.key, sum, {}});
  }
};

// The engine issue's example function: running sum and count per key (value and reducing
// state); emits (key, sum) for every record.
class RunningSumAndCount : public engine::KeyedProcessFunction {
 public:
  void Process(const engine::Record& in, engine::KeyedContext& state,
               engine::Collector& out) override {
    const int64_t sum = state.GetValue("sum").value_or(0) + in.value;
    state.SetValue("sum", sum);
    state.AddToReducing("count", 1);
    out.Emit(engine::Record{in.key, sum, {}});
  }
};

struct KeyedJobOptions {
  std::string name = "keyed";
  uint32_t parallelism = 4;
  Duration source_record_cost = Duration::Micros(300);
  Duration keyed_record_cost = Duration::Zero();  // above the source's: back-pressure
  engine::SinkKind sink = engine::SinkKind::kTwoPhaseCommit;
};

// source -> key_by -> running sum -> sink.
inline engine::JobGraph KeyedJob(const KeyedJobOptions& o = {}) {
  engine::JobBuilder job(o.name);
  job.Source("source", {.source_id = 0, .parallelism = o.parallelism})
      .WithRecordCost(o.source_record_cost)
      .KeyBy([](const engine::Record& r) { return r.key; })
      .Process("sum", std::make_shared<RunningSum>())
      .WithRecordCost(o.keyed_record_cost)
      .Sink("out", {.kind = o.sink});
  return job.Build().value();
}

// Fills `partitions` partitions with `per_partition` records over 40 keys; returns every source
// record's provenance hash, once each.
inline std::multiset<uint64_t> FillSource(sim::JobWorld& jw, uint32_t partitions,
                                          uint32_t per_partition) {
  std::multiset<uint64_t> ids;
  for (uint32_t p = 0; p < partitions; ++p) {
    for (uint32_t i = 0; i < per_partition; ++i) {
      jw.AddSourceRecord(p, engine::Record{"k" + std::to_string((p + 3 * i) % 40), 1, {}});
      ids.insert(engine::RecordId{0, p, i}.Hash());
    }
  }
  return ids;
}

// The provenance hash of every committed output record (each reflects one source record).
inline std::multiset<uint64_t> Reflected(const sim::JobWorld& jw) {
  std::multiset<uint64_t> reflected;
  for (const engine::Record& r : jw.CommittedOutput()) reflected.insert(r.provenance.hash_sum);
  return reflected;
}

inline bool IsEngineEvent(const sim::TraceRecord& r, engine::EngineEvent e,
                          uint64_t checkpoint_min = 0) {
  return r.kind == sim::TraceKind::kEngine && r.args[0] == engine::Ev(e) &&
         static_cast<uint64_t>(r.args[1]) >= checkpoint_min;
}

// Crashes a node when the first trace record matching `match` appears, and restarts it
// `restart_after` later: the node the record came from, or the JobManager.
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

}  // namespace faultline::testing_support
