// Barrier handling of one task with 2 or 3 inputs, in each mode, with the barriers arriving in
// every order: each source's link to the keyed task gets its own delay, and every permutation of
// the delays is run. From the trace and the processing observer the test checks, per checkpoint
// at the keyed task: the barriers arrived in the order the delays dictate; in aligned mode no
// record of an input was processed between its barrier and the end of alignment (blocking),
// while at-least-once mode does process them; unaligned mode snapshots at the first barrier;
// and the output keeps the mode's guarantee. Also barrier n+1 arriving on one input before n
// completed on another (two checkpoints in flight), and a checkpoint cancelled (expired) in the
// middle of its alignment, which must unblock the inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/api/job.h"
#include "engine/exec/events.h"
#include "engine/exec/observer.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using engine::EngineEvent;

// Delays every message a source node sends to the keyed task's node.
class LinkDelays : public sim::FaultInjector {
 public:
  LinkDelays(std::map<uint32_t, Duration> delays, uint32_t to)
      : delays_(std::move(delays)), to_(to) {}
  sim::FaultEffect Decide(const sim::FaultSite& site) override {
    if (site.point != sim::FaultPoint::kNetSend || site.peer != to_) return {};
    auto it = delays_.find(site.node);
    if (it == delays_.end() || it->second == Duration::Zero()) return {};
    return sim::FaultEffect{.extra_delay = it->second, .fault_name = "slow-link"};
  }

 private:
  std::map<uint32_t, Duration> delays_;
  uint32_t to_;
};

// What the keyed task did, in time order: barriers per input, alignment, snapshots, processing.
struct Step {
  enum Kind { kBarrier, kAligned, kSnapshot, kProcess, kAborted } kind;
  uint64_t checkpoint = 0;
  uint32_t input = 0;
};

class Watch : public sim::TraceObserver, public engine::ProcessingObserver {
 public:
  explicit Watch(std::string task) : task_(std::move(task)) {}
  void OnRecord(const sim::TraceRecord& r) override {
    if (r.kind != sim::TraceKind::kEngine) return;
    if (r.args[0] == engine::Ev(EngineEvent::kCheckpointAborted)) {
      steps.push_back({Step::kAborted, static_cast<uint64_t>(r.args[1]), 0});
      return;
    }
    if (r.detail != task_) return;
    const auto id = static_cast<uint64_t>(r.args[1]);
    switch (static_cast<EngineEvent>(r.args[0])) {
      case EngineEvent::kBarrierReceived:
        steps.push_back({Step::kBarrier, id, static_cast<uint32_t>(r.args[2])});
        break;
      case EngineEvent::kAligned:
        steps.push_back({Step::kAligned, id, 0});
        break;
      case EngineEvent::kSnapshotCaptured:
        steps.push_back({Step::kSnapshot, id, 0});
        break;
      case EngineEvent::kCheckpointAborted:
        break;
      default:
        break;
    }
  }
  void OnSourceEmit(uint32_t, uint64_t, const engine::RecordId&) override {}
  void OnProcess(uint32_t task, uint64_t, uint32_t input, const engine::Record&) override {
    if (task == keyed_task) steps.push_back({Step::kProcess, 0, input});
  }
  void OnSnapshot(uint32_t, uint64_t, uint64_t) override {}
  void OnStart(uint32_t, uint64_t, uint64_t) override {}

  uint32_t keyed_task = 0;
  std::vector<Step> steps;

 private:
  std::string task_;
};

struct Outcome {
  engine::JobStatus status;
  bool exactly_once = false;
  bool at_least_once = false;
  std::vector<Step> steps;
  std::vector<std::string> aborted;  // checkpoint-aborted details
  int completed = 0;
};

// `inputs` sources (one per TaskManager) -> key_by -> one keyed task (on its own TaskManager).
Outcome RunJob(engine::CheckpointMode mode, const std::vector<Duration>& delays,
               const engine::CheckpointConfig& checkpoints) {
  const auto inputs = static_cast<uint32_t>(delays.size());
  engine::JobBuilder job("barriers");
  job.Source("source", {.source_id = 0, .parallelism = inputs})
      .WithRecordCost(Duration::Micros(300))
      .KeyBy([](const engine::Record& r) { return r.key; })
      .Process("sum", std::make_shared<testing_support::RunningSum>(), 1)
      .Sink("out", {.kind = mode == engine::CheckpointMode::kAtLeastOnce
                                ? engine::SinkKind::kAtLeastOnce
                                : engine::SinkKind::kTwoPhaseCommit});
  engine::EngineConfig config;
  config.checkpoints = checkpoints;
  config.checkpoints.mode = mode;
  Watch watch("sum+out#0");
  config.observer = &watch;
  sim::JobWorldOptions options;
  options.task_managers = inputs + 1;  // sources on nodes 1..n, the keyed task on n+1
  options.source_partitions = inputs;
  auto jw = sim::JobWorld::Create(job.Build().value(), config, options).value();
  watch.keyed_task = inputs;  // plan order: the sources, then the keyed task
  EXPECT_EQ(jw->setup().plan.tasks[inputs].node, inputs + 1);
  const std::multiset<uint64_t> ids = testing_support::FillSource(*jw, inputs, 5000);
  std::map<uint32_t, Duration> by_node;
  for (uint32_t i = 0; i < inputs; ++i) by_node[jw->setup().plan.tasks[i].node] = delays[i];
  LinkDelays slow(by_node, inputs + 1);
  jw->world().faults().Install(&slow);
  jw->world().trace().AddObserver(&watch);
  struct Aborts : sim::TraceObserver {
    void OnRecord(const sim::TraceRecord& r) override {
      if (r.kind != sim::TraceKind::kEngine) return;
      if (r.args[0] == engine::Ev(EngineEvent::kCheckpointAborted)) list.push_back(r.detail);
      if (r.args[0] == engine::Ev(EngineEvent::kPointerMoved)) ++completed;
    }
    std::vector<std::string> list;
    int completed = 0;
  } aborts;
  jw->world().trace().AddObserver(&aborts);
  jw->Start();
  Outcome result;
  result.status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(60));
  jw->world().trace().RemoveObserver(&watch);
  jw->world().trace().RemoveObserver(&aborts);
  jw->world().faults().Uninstall(&slow);
  const std::multiset<uint64_t> reflected = testing_support::Reflected(*jw);
  result.exactly_once = reflected == ids;
  result.at_least_once =
      std::all_of(ids.begin(), ids.end(), [&](uint64_t id) { return reflected.count(id) > 0; });
  result.steps = std::move(watch.steps);
  result.aborted = std::move(aborts.list);
  result.completed = aborts.completed;
  return result;
}

// Per checkpoint at the keyed task: the inputs in barrier arrival order.
std::map<uint64_t, std::vector<uint32_t>> ArrivalOrders(const std::vector<Step>& steps) {
  std::map<uint64_t, std::vector<uint32_t>> order;
  for (const Step& s : steps) {
    if (s.kind == Step::kBarrier) order[s.checkpoint].push_back(s.input);
  }
  return order;
}

// Records processed from an input after its barrier n and before n's alignment completed.
int ProcessedWhileBlocked(const std::vector<Step>& steps) {
  int violations = 0;
  std::set<uint32_t> blocked;
  std::set<uint64_t> aborted;  // late barriers of these are ignored by the task
  uint64_t aligning = 0;
  for (const Step& s : steps) {
    if (s.kind == Step::kAborted) aborted.insert(s.checkpoint);
    if (s.kind == Step::kBarrier && !aborted.count(s.checkpoint)) {
      if (s.checkpoint != aligning) {
        blocked.clear();
        aligning = s.checkpoint;
      }
      blocked.insert(s.input);
    } else if (s.kind == Step::kAligned || (s.kind == Step::kAborted && s.checkpoint == aligning)) {
      blocked.clear();
    } else if (s.kind == Step::kProcess && blocked.count(s.input)) {
      ++violations;
    }
  }
  return violations;
}

engine::CheckpointConfig Every(Duration interval) {
  engine::CheckpointConfig c;
  c.interval = interval;
  return c;
}

class BarrierOrderTest : public ::testing::TestWithParam<std::tuple<engine::CheckpointMode, int>> {
};

TEST_P(BarrierOrderTest, EveryArrivalOrder) {
  const auto [mode, inputs] = GetParam();
  std::vector<Duration> delays;
  // Longer than the 100 ms buffer timeout, so a fast input has data to offer while it waits.
  for (int i = 0; i < inputs; ++i) delays.push_back(Duration::Millis(150 * i));
  std::sort(delays.begin(), delays.end());
  int permutations = 0;
  do {
    ++permutations;
    const Outcome r = RunJob(mode, delays, Every(Duration::Millis(500)));
    ASSERT_EQ(r.status, engine::JobStatus::kFinished);
    ASSERT_GE(r.completed, 3);
    // The input with the shortest delay delivers every barrier first, the longest last.
    std::vector<uint32_t> expected(static_cast<size_t>(inputs));
    for (uint32_t i = 0; i < expected.size(); ++i) expected[i] = i;
    std::sort(expected.begin(), expected.end(),
              [&](uint32_t a, uint32_t b) { return delays[a] < delays[b]; });
    int checked = 0;
    for (const auto& [checkpoint, order] : ArrivalOrders(r.steps)) {
      if (order.size() != expected.size()) continue;  // the final one may race end of input
      EXPECT_EQ(order, expected) << "checkpoint " << checkpoint;
      ++checked;
    }
    EXPECT_GE(checked, 3);
    const int blocked = ProcessedWhileBlocked(r.steps);
    if (mode == engine::CheckpointMode::kAligned) {
      EXPECT_EQ(blocked, 0) << "aligned mode processed records behind a barrier";
      EXPECT_TRUE(r.exactly_once);
    } else if (mode == engine::CheckpointMode::kAtLeastOnce) {
      if (delays.back() > Duration::Zero()) {
        EXPECT_GT(blocked, 0) << "at-least-once mode does not block";
      }
      EXPECT_TRUE(r.at_least_once);
    } else {
      // Unaligned: the snapshot comes with the first barrier, before any other input's barrier.
      std::set<uint64_t> started;
      for (size_t i = 0; i + 1 < r.steps.size(); ++i) {
        if (r.steps[i].kind != Step::kBarrier || !started.insert(r.steps[i].checkpoint).second) {
          continue;
        }
        for (size_t j = i + 1; j < r.steps.size(); ++j) {
          if (r.steps[j].kind == Step::kSnapshot) break;
          ASSERT_NE(r.steps[j].kind, Step::kBarrier) << "unaligned snapshot waited";
        }
      }
      EXPECT_TRUE(r.exactly_once);
    }
  } while (std::next_permutation(delays.begin(), delays.end()));
  EXPECT_EQ(permutations, inputs == 2 ? 2 : 6);
}

INSTANTIATE_TEST_SUITE_P(ModesAndInputs, BarrierOrderTest,
                         ::testing::Combine(::testing::Values(engine::CheckpointMode::kAligned,
                                                              engine::CheckpointMode::kUnaligned,
                                                              engine::CheckpointMode::kAtLeastOnce),
                                            ::testing::Values(2, 3)),
                         [](const auto& param_info) {
                           std::string name(
                               engine::CheckpointModeName(std::get<0>(param_info.param)));
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name + "_" + std::to_string(std::get<1>(param_info.param)) +
                                  "_inputs";
                         });

// Two checkpoints in flight and a slow input: barrier n+1 arrives on the fast inputs before n
// has arrived on the slow one. Aligned: the fast inputs are blocked behind n, so n completes
// first; at-least-once: n is declined (subsumed) or completes, never a stuck input.
TEST(BarrierOvertakingTest, BarrierNPlusOneBeforeNCompletedElsewhere) {
  for (engine::CheckpointMode mode :
       {engine::CheckpointMode::kAligned, engine::CheckpointMode::kAtLeastOnce}) {
    engine::CheckpointConfig c = Every(Duration::Millis(50));
    c.max_concurrent = 3;
    c.tolerable_failures = 1000;
    const Outcome r = RunJob(mode, {Duration::Zero(), Duration::Zero(), Duration::Millis(150)}, c);
    std::string reasons;
    for (const std::string& why : r.aborted) reasons += why + "\n";
    ASSERT_EQ(r.status, engine::JobStatus::kFinished) << reasons;
    EXPECT_GE(r.completed, 3);
    // Some barrier n+1 arrived (on some input) before barrier n arrived on every input.
    std::map<uint64_t, size_t> seen;
    bool overtaken = false;
    for (const Step& s : r.steps) {
      if (s.kind != Step::kBarrier) continue;
      ++seen[s.checkpoint];
      if (seen.count(s.checkpoint - 1) && seen[s.checkpoint - 1] < 3) overtaken = true;
    }
    if (mode == engine::CheckpointMode::kAtLeastOnce) {
      EXPECT_TRUE(overtaken) << "the scenario should make n+1 overtake n";
      EXPECT_TRUE(r.at_least_once);
    } else {
      EXPECT_EQ(ProcessedWhileBlocked(r.steps), 0);
      EXPECT_TRUE(r.exactly_once);
    }
  }
}

// A checkpoint cancelled in the middle of its alignment (it expires): the blocked inputs are
// released, the job goes on and finishes exactly once.
TEST(BarrierCancellationTest, AnAbortedCheckpointReleasesItsBlockedInputs) {
  engine::CheckpointConfig c = Every(Duration::Millis(300));
  c.timeout = Duration::Millis(60);  // shorter than the slow input's 150 ms
  c.tolerable_failures = 1000;
  const Outcome r =
      RunJob(engine::CheckpointMode::kAligned, {Duration::Zero(), Duration::Millis(150)}, c);
  ASSERT_EQ(r.status, engine::JobStatus::kFinished);
  int expired = 0;
  for (const std::string& why : r.aborted) expired += why.find("expired") != std::string::npos;
  EXPECT_GT(expired, 0);
  EXPECT_EQ(ProcessedWhileBlocked(r.steps), 0);
  EXPECT_TRUE(r.exactly_once);
}

}  // namespace
}  // namespace faultline
