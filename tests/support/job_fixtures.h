// Shared by the engine tests and benchmarks: the example keyed job, filling its source log, the
// committed output's provenance (crashing a node at a protocol point: faults/crash_when.h).
#pragma once

#include <memory>
#include <optional>
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

// An engine event `e` naming checkpoint `checkpoint_min` or a later one (sim::IsEngineEvent
// without the checkpoint).
inline bool IsEngineEvent(const sim::TraceRecord& r, engine::EngineEvent e,
                          uint64_t checkpoint_min) {
  if (!sim::IsEngineEvent(r, e)) return false;
  const std::optional<int64_t> checkpoint = sim::EngineEventOf(r)->args.checkpoint;
  return checkpoint.has_value() && static_cast<uint64_t>(*checkpoint) >= checkpoint_min;
}
using sim::IsEngineEvent;

}  // namespace faultline::testing_support
