// Aligned vs unaligned checkpoints under back-pressure: a 4-stage pipeline whose middle
// operator costs 10x the source's per-record emission interval, with 2 buffers of 32 KiB per
// channel. Aligned barriers queue behind the backlog; unaligned barriers overtake it and the
// overtaken data is persisted as channel state on both sides of the slow operator's inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "engine/api/job.h"
#include "engine/checkpoint/metadata.h"
#include "engine/exec/events.h"
#include "engine/proto/checkpoint.pb.h"
#include "simulator/job_world.h"

namespace faultline {
namespace {

using engine::Record;

struct Measured {
  double mean_checkpoint_ms = 0;
  double alignment_max_ms = 0;
  int completed = 0;
  uint64_t slow_input_channel_bytes = 0;     // in the slow operator (input side)
  uint64_t source_output_channel_bytes = 0;  // in its producers (output side)
  bool finished = false;
  int alignment_timeouts = 0;  // tasks that switched a checkpoint to unaligned
};

class CountTimeouts : public sim::TraceObserver {
 public:
  void OnRecord(const sim::TraceRecord& r) override {
    if (r.kind == sim::TraceKind::kEngine &&
        r.args[0] == engine::Ev(engine::EngineEvent::kAlignmentTimedOut)) {
      ++count;
    }
  }
  int count = 0;
};

Measured RunPipeline(engine::CheckpointMode mode, Duration aligned_timeout = Duration::Zero()) {
  engine::JobBuilder job("backpressure");
  const Duration emit = Duration::Micros(50);
  job.Source("source", {.source_id = 0, .parallelism = 2})
      .WithRecordCost(emit)
      .Rebalance()
      .Map(
          "slow", [](const Record& r) { return r; }, 2)
      .WithRecordCost(emit * 10)
      .Rebalance()
      .Map(
          "fast",
          [](const Record& r) {
            return Record{r.key, r.value + 1, {}};
          },
          2)
      .Sink("out", {.kind = engine::SinkKind::kAtLeastOnce});
  engine::EngineConfig config;
  config.checkpoints.mode = mode;
  config.checkpoints.aligned_timeout = aligned_timeout;
  config.checkpoints.interval = Duration::Millis(500);
  config.checkpoints.timeout = Duration::Seconds(60);
  config.checkpoints.retained = 1000;  // keep every checkpoint's metadata for inspection
  config.checkpoints.history = 1000;   // and every checkpoint's statistics
  config.channel_credits = 2;
  config.buffer_bytes_max = 32 * 1024;
  sim::JobWorldOptions options;
  options.task_managers = 2;
  auto jw = sim::JobWorld::Create(job.Build().value(), config, options).value();
  for (uint32_t p = 0; p < 4; ++p) {
    for (uint32_t i = 0; i < 8000; ++i) jw->AddSourceRecord(p, Record{"k", 1, {}});
  }
  CountTimeouts timeouts;
  jw->world().trace().AddObserver(&timeouts);
  jw->Start();
  Measured m;
  m.finished =
      jw->RunUntilDone(Time::Zero() + Duration::Seconds(600)) == engine::JobStatus::kFinished;
  jw->world().trace().RemoveObserver(&timeouts);
  m.alignment_timeouts = timeouts.count;
  double total_ms = 0;
  for (const engine::CheckpointStats& s : jw->job_manager()->history()) {
    if (s.status != engine::CheckpointStats::Status::kCompleted || s.final) continue;
    total_ms += (s.end_time - s.trigger_time).millis();
    m.alignment_max_ms = std::max(m.alignment_max_ms, s.alignment_max.millis());
    ++m.completed;
  }
  m.mean_checkpoint_ms = m.completed ? total_ms / m.completed : 0;
  // Channel state of every completed checkpoint still in the store.
  for (const auto& [name, bytes] : jw->world().blob_store().objects()) {
    if (!name.ends_with("/_metadata")) continue;
    auto metadata = engine::DecodeMetadata(bytes, name).value();
    for (const auto& op : metadata.operators()) {
      for (const auto& sub : op.subtasks()) {
        for (const auto& h : sub.input_channel_state()) {
          if (op.operator_id() == "slow") m.slow_input_channel_bytes += h.size_bytes();
        }
        for (const auto& h : sub.output_channel_state()) {
          if (op.operator_id() == "source") m.source_output_channel_bytes += h.size_bytes();
        }
      }
    }
  }
  return m;
}

TEST(BackPressureTest, UnalignedCheckpointsCompleteTenTimesFasterAndPersistInFlightData) {
  const Measured aligned = RunPipeline(engine::CheckpointMode::kAligned);
  const Measured unaligned = RunPipeline(engine::CheckpointMode::kUnaligned);
  ASSERT_TRUE(aligned.finished);
  ASSERT_TRUE(unaligned.finished);
  ASSERT_GT(aligned.completed, 0);
  ASSERT_GT(unaligned.completed, 0);
  const double ratio = aligned.mean_checkpoint_ms / unaligned.mean_checkpoint_ms;
  RecordProperty("aligned_ms", std::to_string(aligned.mean_checkpoint_ms));
  RecordProperty("unaligned_ms", std::to_string(unaligned.mean_checkpoint_ms));
  std::printf("mean checkpoint duration: aligned %.2f ms, unaligned %.2f ms, ratio %.1f\n",
              aligned.mean_checkpoint_ms, unaligned.mean_checkpoint_ms, ratio);
  EXPECT_GE(ratio, 10.0);
  // The delay is before the first barrier reaches a slow task (Flink's start delay), not in
  // aligning its inputs: every input's barrier waits behind a similar backlog.
  std::printf("longest alignment: aligned %.3f ms, unaligned %.3f ms\n", aligned.alignment_max_ms,
              unaligned.alignment_max_ms);
  EXPECT_GT(unaligned.slow_input_channel_bytes, 0u) << "no input-side channel state";
  EXPECT_GT(unaligned.source_output_channel_bytes, 0u) << "no output-side channel state";
  EXPECT_EQ(aligned.slow_input_channel_bytes + aligned.source_output_channel_bytes, 0u);
}

// Flink's aligned-checkpoint timeout: checkpoints start aligned and switch to unaligned where
// alignment takes too long. Under this back-pressure they all time out and behave like
// unaligned ones (faster than aligned, with channel state); with a timeout longer than any
// checkpoint, nothing switches and no channel state is persisted.
TEST(BackPressureTest, AlignedCheckpointTimeoutSwitchesSlowCheckpointsToUnaligned) {
  const Measured aligned = RunPipeline(engine::CheckpointMode::kAligned);
  const Measured switched = RunPipeline(engine::CheckpointMode::kUnaligned, Duration::Millis(20));
  ASSERT_TRUE(aligned.finished);
  ASSERT_TRUE(switched.finished);
  ASSERT_GT(switched.completed, 0);
  EXPECT_GT(switched.alignment_timeouts, 0);
  std::printf("mean checkpoint duration: aligned %.2f ms, aligned with a 20 ms timeout %.2f ms\n",
              aligned.mean_checkpoint_ms, switched.mean_checkpoint_ms);
  EXPECT_GE(aligned.mean_checkpoint_ms / switched.mean_checkpoint_ms, 5.0);
  EXPECT_GT(switched.slow_input_channel_bytes, 0u) << "no input-side channel state";

  const Measured patient = RunPipeline(engine::CheckpointMode::kUnaligned, Duration::Seconds(600));
  ASSERT_TRUE(patient.finished);
  EXPECT_EQ(patient.alignment_timeouts, 0);
  EXPECT_EQ(patient.slow_input_channel_bytes + patient.source_output_channel_bytes, 0u);
}

}  // namespace
}  // namespace faultline
