// Random crashes, restarts, partitions and stalls across many seeds, in each checkpointing mode:
// the job always finishes, and the committed output keeps the mode's guarantee. 12 seeds per mode
// in CI; FAULTLINE_SEEDS=N runs N, FAULTLINE_FIRST_SEED=S starts at S, and FAULTLINE_DUMP=1
// prints the engine events, crashes and checkpoint history of each run (to debug one seed).
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>

#include "base/rng.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

uint64_t Seeds() {
  const char* env = std::getenv("FAULTLINE_SEEDS");
  const uint64_t n = env == nullptr ? 0 : std::strtoull(env, nullptr, 10);
  return n == 0 ? 12 : n;
}

struct Mode {
  engine::CheckpointMode mode;
  Duration aligned_timeout;  // unaligned mode: start aligned, switch after this long
  std::string name;
};

// FAULTLINE_FIRST_SEED=S starts at seed S (to reproduce one failing seed).
uint64_t FirstSeed() {
  const char* env = std::getenv("FAULTLINE_FIRST_SEED");
  return env == nullptr ? 1 : std::strtoull(env, nullptr, 10);
}

class RandomFaultsTest : public ::testing::TestWithParam<Mode> {};

TEST_P(RandomFaultsTest, EveryRunFinishesWithItsGuarantee) {
  const engine::CheckpointMode mode = GetParam().mode;
  for (uint64_t seed = FirstSeed(); seed < FirstSeed() + Seeds(); ++seed) {
    engine::EngineConfig config;
    config.checkpoints.mode = mode;
    config.checkpoints.aligned_timeout = GetParam().aligned_timeout;
    config.checkpoints.interval = Duration::Millis(300);
    sim::JobWorldOptions options;
    options.world.seed = seed;
    auto jw =
        sim::JobWorld::Create(
            testing_support::KeyedJob(
                {.name = "random", .keyed_record_cost = Duration::Micros(seed % 2 == 0 ? 400 : 0)}),
            config, options)
            .value();
    const std::multiset<uint64_t> ids = testing_support::FillSource(*jw, 4, 4000);
    // The faults come from the seed too: one to three crashes of any node, and a partition
    // between the JobManager and one TaskManager.
    Rng rng = Rng(seed).Fork("test/faults");
    const int64_t crashes = rng.UniformInt(1, 3);
    for (int64_t i = 0; i < crashes; ++i) {
      const auto node = static_cast<uint32_t>(rng.UniformInt(0, 3));
      const Duration at = rng.UniformDuration(Duration::Millis(200), Duration::Millis(2500));
      const Duration down = rng.UniformDuration(Duration::Millis(50), Duration::Millis(800));
      jw->world().loop().Schedule(Time::Zero() + at, [&jw, node, down] {
        if (!jw->world().IsUp(node)) return;
        jw->world().Crash(node, "random crash");
        jw->world().loop().ScheduleAfter(down, [&jw, node] { jw->world().Restart(node); });
      });
    }
    const auto cut = static_cast<uint32_t>(rng.UniformInt(1, 3));
    const Duration cut_at = rng.UniformDuration(Duration::Millis(200), Duration::Millis(2500));
    jw->world().loop().Schedule(Time::Zero() + cut_at, [&jw, cut] {
      const uint64_t id = jw->world().network().Partition({0}, {cut});
      jw->world().loop().ScheduleAfter(Duration::Millis(300),
                                       [&jw, id] { jw->world().network().Heal(id); });
    });
    // A stall (a long GC pause) of one TaskManager, long enough to miss heartbeats sometimes.
    const auto stalled = static_cast<uint32_t>(rng.UniformInt(1, 3));
    const Duration stall_at = rng.UniformDuration(Duration::Millis(200), Duration::Millis(2500));
    const Duration stall = rng.UniformDuration(Duration::Millis(100), Duration::Seconds(4));
    jw->world().loop().Schedule(Time::Zero() + stall_at, [&jw, stalled, stall] {
      if (!jw->world().IsUp(stalled) || jw->world().IsPaused(stalled)) return;
      jw->world().Pause(stalled);
      jw->world().loop().ScheduleAfter(stall, [&jw, stalled] {
        if (jw->world().IsUp(stalled)) jw->world().Resume(stalled);
      });
    });
    struct Dump : sim::TraceObserver {
      void OnRecord(const sim::TraceRecord& r) override {
        if (r.kind == sim::TraceKind::kEngine || r.kind == sim::TraceKind::kNodeCrash ||
            r.kind == sim::TraceKind::kNodeRestart || r.kind == sim::TraceKind::kNodePause ||
            r.kind == sim::TraceKind::kNodeResume || r.kind == sim::TraceKind::kPartition ||
            r.kind == sim::TraceKind::kChannelFailed) {
          std::fprintf(stderr, "%s\n", sim::FormatTraceRecord(r).c_str());
        }
      }
    } dump;
    if (std::getenv("FAULTLINE_DUMP") != nullptr) jw->world().trace().AddObserver(&dump);
    jw->Start();
    const engine::JobStatus status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(300));
    if (std::getenv("FAULTLINE_DUMP") != nullptr) {
      jw->world().trace().RemoveObserver(&dump);
      for (const auto& s : jw->job_manager()->history()) {
        std::fprintf(stderr, "checkpoint %llu status %d %s\n",
                     static_cast<unsigned long long>(s.id), static_cast<int>(s.status),
                     s.failure.c_str());
      }
    }
    ASSERT_EQ(status, engine::JobStatus::kFinished)
        << "seed " << seed << ": " << (jw->job_manager() ? jw->job_manager()->failure() : "");
    const std::multiset<uint64_t> reflected = testing_support::Reflected(*jw);
    if (mode == engine::CheckpointMode::kAtLeastOnce) {
      for (uint64_t id : ids) ASSERT_GE(reflected.count(id), 1u) << "seed " << seed << " lost";
    } else {
      ASSERT_EQ(reflected, ids) << "seed " << seed << ": exactly-once broken";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, RandomFaultsTest,
    ::testing::Values(
        Mode{engine::CheckpointMode::kAligned, Duration::Zero(), "aligned"},
        Mode{engine::CheckpointMode::kUnaligned, Duration::Zero(), "unaligned"},
        Mode{engine::CheckpointMode::kUnaligned, Duration::Millis(5), "aligned_with_timeout"},
        Mode{engine::CheckpointMode::kAtLeastOnce, Duration::Zero(), "at_least_once"}),
    [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace faultline
