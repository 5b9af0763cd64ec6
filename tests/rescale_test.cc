// Rescaling whole jobs (scenarios/library/rescale_4_to_*): the job restarts from a checkpoint at
// another parallelism, its keyed state redistributed by key group, source offsets as union state
// and sink transactions to subtask (old mod new), then survives a crash at the new parallelism.
// The output is judged here by a rule that holds whatever the interleaving: with a counting
// aggregate and a two-phase-commit sink, the committed values of key k are exactly 1..n(k), each
// once, where n(k) is the number of input records of k. A lost restore (state or offsets) breaks
// it with a repeated or missing count, a lost or doubly committed transaction with a missing or
// repeated one. Heap, RocksDB full and RocksDB incremental state.
#include "engine/exec/rescale.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "checkers/checker.h"
#include "checkers/eo_cut.h"
#include "checkers/eo_out.h"
#include "checkers/registry.h"
#include "engine/exec/cluster.h"
#include "engine/exec/events.h"
#include "tests/support/counting_rule.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

enum class Backend { kHeap, kRocksDb, kRocksDbIncremental };

std::string BackendName(Backend b) {
  switch (b) {
    case Backend::kHeap:
      return "Heap";
    case Backend::kRocksDb:
      return "RocksDb";
    case Backend::kRocksDbIncremental:
      return "RocksDbIncremental";
  }
  return "?";
}

using Param = std::tuple<std::string, Backend>;

class RescaleJobTest : public ::testing::TestWithParam<Param> {};

TEST_P(RescaleJobTest, EveryInputRecordCountedOnceAtTheNewParallelism) {
  const auto& [file, backend] = GetParam();
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, file, {}, [backend](scenarios::proto::Scenario& s) {
        s.mutable_job()->mutable_operators(3)->mutable_aggregate()->set_function("count");
        if (backend != Backend::kHeap) {
          s.mutable_checkpointing()->set_backend(scenarios::proto::Checkpointing::ROCKSDB);
          s.mutable_checkpointing()->set_incremental(backend == Backend::kRocksDbIncremental);
        }
      });
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  // The job ran at the new parallelism from the rescale on (and through the crash after it).
  const std::vector<checkers::RestoreRecord>& deployments = run->recorder->recording().deployments;
  ASSERT_GE(deployments.size(), 3u);
  EXPECT_EQ(deployments.front().generation, 0u);
  EXPECT_EQ(deployments[1].generation, 1u);
  EXPECT_EQ(deployments[1].checkpoint, 3u);
  EXPECT_EQ(deployments.back().generation, 1u);
  EXPECT_GT(deployments.back().checkpoint, 3u);

  const checkers::RunView view = run->View();
  testing_support::ExpectEveryInputCountedOnce(view, 200);  // keys: 200
  std::set<std::string> writers;
  for (const checkers::CommittedRecord& c : view.committed) writers.insert(c.writer);
  // Every writer of both parallelisms committed output.
  const uint32_t parallelism = run->jw->setup().JobOf(1).operators.back().parallelism;
  EXPECT_EQ(writers.size(), std::max<size_t>(4, parallelism)) << ::testing::PrintToString(writers);
}

INSTANTIATE_TEST_SUITE_P(
    Library, RescaleJobTest,
    ::testing::Combine(::testing::Values("rescale_4_to_2.textproto", "rescale_4_to_8.textproto"),
                       ::testing::Values(Backend::kHeap, Backend::kRocksDb,
                                         Backend::kRocksDbIncremental)),
    [](const ::testing::TestParamInfo<Param>& param_info) {
      std::string name =
          std::get<0>(param_info.param).substr(0, std::get<0>(param_info.param).find('.'));
      std::erase(name, '_');
      return name + BackendName(std::get<1>(param_info.param));
    });

// EO-OUT follows each key across the rescale (its key group's owners at each parallelism) and
// each channel at its attempt's parallelism: the real run passes judged, and one committed value
// changed after the rescale is a violation.
TEST(RescaleJobTest, EoOutComparesValuesAcrossTheRescale) {
  std::unique_ptr<testing_support::LibraryRun> run =
      testing_support::RunLibrary(FAULTLINE_SCENARIO_LIBRARY_DIR, "rescale_4_to_2.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  checkers::RunView view = run->View();
  view.rescaled_attempts =
      checkers::RescaledAttempts(run->jw->setup(), run->recorder->recording().deployments);
  ASSERT_FALSE(view.rescaled_attempts.empty());
  const checkers::Verdict held = checkers::CheckExactlyOnceOutput(view);
  EXPECT_TRUE(held.passed()) << held.ToString();
  EXPECT_TRUE(held.judged()) << held.ToString();
  // A value committed by an attempt at parallelism 2, one off.
  auto it = std::find_if(view.committed.begin(), view.committed.end(),
                         [&](const checkers::CommittedRecord& c) {
                           return view.rescaled_attempts.count(c.epoch) != 0;
                         });
  ASSERT_NE(it, view.committed.end());
  it->record.value += 1;
  const checkers::Verdict broken = checkers::CheckExactlyOnceOutput(view);
  EXPECT_TRUE(broken.violated()) << broken.ToString();
}

// tests/scenarios/rescale_keyed_producers.textproto: 2 -> 3 at checkpoint 3, keyed operators
// feeding a hash and a rebalance exchange, then a crash restoring at parallelism 3.
struct KeyedProducersRun {
  std::unique_ptr<testing_support::LibraryRun> run;
  checkers::RunView view;
};

KeyedProducersRun RunKeyedProducers(
    const std::function<void(scenarios::proto::Scenario&)>& edit = {}) {
  KeyedProducersRun out;
  out.run = testing_support::RunLibrary(FAULTLINE_TEST_SCENARIOS_DIR,
                                        "rescale_keyed_producers.textproto", {}, edit);
  out.view = out.run->View();
  out.view.rescaled_attempts =
      checkers::RescaledAttempts(out.run->jw->setup(), out.run->recorder->recording().deployments);
  return out;
}

// The sink's input channels at parallelism 3 carry what the restored keyed `count` sent, which
// EO-OUT models from each key group's history through its owners at both parallelisms: the run
// passes judged. Two records a sink subtask took in a row from one channel, swapped in the order
// log, break that channel's order: caught in the attempt that restored the old parallelism's
// checkpoint (3) and in the one that restored the new one's (7).
TEST(RescaleJobTest, ChannelOrderIsVerifiedAtEachAttemptsParallelism) {
  KeyedProducersRun r = RunKeyedProducers();
  ASSERT_EQ(r.run->status, engine::JobStatus::kFinished);
  ASSERT_EQ(r.view.rescaled_attempts.size(), 2u) << "the rescale and the failover after it";
  const checkers::Verdict clean = checkers::CheckExactlyOnceOutput(r.view);
  EXPECT_TRUE(clean.passed()) << clean.ToString();
  EXPECT_TRUE(clean.judged()) << clean.ToString();

  const engine::ExecutionPlan& plan = r.run->jw->setup().PlanOf(1);
  const uint32_t sink = plan.tasks_of_chain.back().front();
  size_t swapped_attempts = 0;
  for (const checkers::AttemptLog* const_log : r.run->log.AttemptsOf(sink)) {
    if (!r.view.rescaled_attempts.contains(const_log->attempt)) continue;
    auto* log = const_cast<checkers::AttemptLog*>(const_log);
    // The first record followed on its channel by a different one.
    std::optional<std::pair<size_t, size_t>> pair;
    for (size_t i = 0; i < log->processed.size() && !pair; ++i) {
      for (size_t j = i + 1; j < log->processed.size(); ++j) {
        if (log->processed[j].input != log->processed[i].input) continue;
        if (log->processed[j].record != log->processed[i].record) pair.emplace(i, j);
        break;
      }
    }
    ASSERT_TRUE(pair.has_value()) << "attempt " << log->attempt;
    std::swap(log->processed[pair->first].record, log->processed[pair->second].record);
    const checkers::Verdict swapped = checkers::CheckExactlyOnceOutput(r.view);
    ASSERT_TRUE(swapped.violated()) << "attempt " << log->attempt << ": " << swapped.ToString();
    EXPECT_NE(swapped.first()->what.find("did not deliver next"), std::string::npos)
        << swapped.ToString();
    EXPECT_EQ(swapped.first()->evidence.attempt, log->attempt) << swapped.ToString();
    std::swap(log->processed[pair->first].record, log->processed[pair->second].record);
    ++swapped_attempts;
  }
  EXPECT_EQ(swapped_attempts, 2u);
}

// EO-CUT judges every checkpoint at the parallelism of the attempt that took it (keys placed by
// its key-group ranges, both keyed operators): the run passes judged. A keyed snapshot of a
// checkpoint taken at parallelism 3, replaced by the same subtask's snapshot of an earlier
// checkpoint, lacks the records between them: caught at that checkpoint.
TEST(RescaleJobTest, EoCutJudgesCutsAtTheRescaledParallelism) {
  KeyedProducersRun r = RunKeyedProducers();
  ASSERT_EQ(r.run->status, engine::JobStatus::kFinished);
  const checkers::Verdict clean = checkers::CheckConsistentCuts(r.view);
  EXPECT_TRUE(clean.passed()) << clean.ToString();
  EXPECT_TRUE(clean.judged()) << clean.ToString();

  // Every keyed snapshot the engine sent, live or archived, by task and attempt, then checkpoint.
  checkers::BlobMap live = *r.view.blobs;
  sim::BlobHistory history = *r.view.history;
  std::map<std::pair<std::string, uint64_t>, std::map<uint64_t, checkers::Bytes*>> keyed;
  const auto add = [&](const std::string& name, checkers::Bytes& bytes) {
    constexpr std::string_view kPrefix = "checkpoints/chk-";
    if (!name.starts_with(kPrefix) || !name.ends_with("/keyed")) return;
    const size_t slash = name.find('/', kPrefix.size());
    const uint64_t checkpoint = std::stoull(name.substr(kPrefix.size(), slash - kPrefix.size()));
    const size_t attempt_at = name.find("/attempt-", slash);
    const std::string task = name.substr(slash + 1, attempt_at - slash - 1);
    const uint64_t attempt = std::stoull(name.substr(attempt_at + 9));
    keyed[{task, attempt}][checkpoint] = &bytes;
  };
  for (auto& [name, bytes] : live) add(name, bytes);
  for (auto& [name, archived] : history.archive) add(name, archived.bytes);
  std::optional<uint64_t> victim;
  for (auto& [task_attempt, by_checkpoint] : keyed) {
    if (!r.view.rescaled_attempts.contains(task_attempt.second) || by_checkpoint.size() < 2) {
      continue;
    }
    auto later = std::next(by_checkpoint.begin());
    if (*later->second == *by_checkpoint.begin()->second) continue;
    *later->second = *by_checkpoint.begin()->second;
    victim = later->first;
    break;
  }
  ASSERT_TRUE(victim.has_value()) << "no subtask at parallelism 3 changed between snapshots";
  checkers::RunView view = r.view;
  view.blobs = &live;
  view.history = &history;
  const checkers::Verdict caught = checkers::CheckConsistentCuts(view);
  ASSERT_TRUE(caught.violated()) << caught.ToString();
  EXPECT_EQ(caught.first()->evidence.checkpoint_id, *victim) << caught.ToString();
}

// An upsert sink's final table, judged across the rescale (the reference along each key's
// history through its key group's owners): the run passes judged, and a key's last upsert,
// written at parallelism 3, changed is a violation. The sink takes `count` forward, keyed by its
// key (behind a rebalance a key's last value would depend on arrival order).
TEST(RescaleJobTest, UpsertTableJudgedAcrossTheRescale) {
  KeyedProducersRun r = RunKeyedProducers([](scenarios::proto::Scenario& s) {
    scenarios::proto::Operator* sink = s.mutable_job()->mutable_operators(5);
    sink->set_input(scenarios::proto::Operator::DEFAULT);
    sink->mutable_sink()->set_kind(scenarios::proto::Sink::UPSERT);
  });
  ASSERT_EQ(r.run->status, engine::JobStatus::kFinished);
  ASSERT_FALSE(r.view.rescaled_attempts.empty());
  const checkers::Verdict clean = checkers::CheckExactlyOnceOutput(r.view);
  EXPECT_TRUE(clean.passed()) << clean.ToString();
  EXPECT_TRUE(clean.judged()) << clean.ToString();
  // The last upsert (the table's value of its key), written by an attempt at parallelism 3.
  ASSERT_FALSE(r.view.committed.empty());
  checkers::CommittedRecord& last = r.view.committed.back();
  ASSERT_TRUE(r.view.rescaled_attempts.contains(last.epoch));
  last.record.value += 1;
  const checkers::Verdict broken = checkers::CheckExactlyOnceOutput(r.view);
  ASSERT_TRUE(broken.violated()) << broken.ToString();
  EXPECT_EQ(broken.first()->what, "the upsert sink's final table differs from the reference")
      << broken.ToString();
}

// AL-LOSS across a rescale (at-least-once checkpoints and sink): the run passes judged; every
// committed copy of a record read after the rescale taken out is a loss.
TEST(RescaleJobTest, AlLossJudgesAnAtLeastOnceRescale) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "rescale_4_to_2.textproto", {},
      [](scenarios::proto::Scenario& s) {
        s.mutable_checkpointing()->set_mode(scenarios::proto::Checkpointing::AT_LEAST_ONCE);
        s.mutable_job()->mutable_operators(4)->mutable_sink()->set_kind(
            scenarios::proto::Sink::AT_LEAST_ONCE);
        s.clear_checkers();  // the library file's name EO-OUT, which this mode does not promise
      });
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  Result<checkers::RunRecord> record =
      checkers::RecordRun(*run->jw, *run->recorder, &run->log, {.status = run->status});
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  ASSERT_FALSE(record->view.rescaled_attempts.empty());
  const checkers::Verdict clean = checkers::CheckAtLeastOnce(*record);
  EXPECT_TRUE(clean.passed()) << clean.ToString();
  EXPECT_TRUE(clean.judged()) << clean.ToString();
  // The last committed record's source record, written at parallelism 2: every copy taken out.
  const engine::Provenance lost = record->view.committed.back().record.provenance;
  ASSERT_TRUE(record->view.rescaled_attempts.contains(record->view.committed.back().epoch));
  std::erase_if(record->view.committed, [&lost](const checkers::CommittedRecord& c) {
    return c.record.provenance == lost;
  });
  const checkers::Verdict broken = checkers::CheckAtLeastOnce(*record);
  ASSERT_TRUE(broken.violated()) << broken.ToString();
  EXPECT_EQ(broken.first()->what, "a source record is missing from the committed output")
      << broken.ToString();
}

// A crash right after the rescale, before the new parallelism completed a checkpoint: the
// failover restores the old parallelism's checkpoint at the new parallelism again.
TEST(RescaleJobTest, FailoverBeforeTheFirstCheckpointAtTheNewParallelism) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "rescale_4_to_2.textproto", {},
      [](scenarios::proto::Scenario& s) {
        s.mutable_job()->mutable_operators(3)->mutable_aggregate()->set_function("count");
        scenarios::proto::Fault* crash = s.mutable_faults(1);
        crash->mutable_trigger()->mutable_on()->set_event("restore-finished");
        crash->mutable_trigger()->mutable_on()->clear_checkpoint();
        crash->mutable_trigger()->mutable_on()->set_occurrence(3);
      });
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const std::vector<checkers::RestoreRecord>& deployments = run->recorder->recording().deployments;
  ASSERT_GE(deployments.size(), 3u);
  EXPECT_EQ(deployments[1].generation, 1u);
  EXPECT_EQ(deployments[2].generation, 1u);
  EXPECT_EQ(deployments[2].checkpoint, 3u) << "no checkpoint completed at parallelism 2 yet";
  testing_support::ExpectEveryInputCountedOnce(run->View(), 200);
}

// The redistribution rules, on the plan: keyed handles by overlapping key groups, source state
// to every source subtask, sink state to subtask (old mod new).
TEST(RedistributeStateTest, KeyGroupsUnionAndModulo) {
  engine::JobBuilder real("j");
  class Nop final : public engine::KeyedProcessFunction {
   public:
    void Process(const engine::Record&, engine::KeyedContext&, engine::Collector&) override {}
  };
  real.Source("src", {.source_id = 0, .parallelism = 4})
      .KeyBy([](const engine::Record& r) { return r.key; })
      .Process("sum", std::make_shared<Nop>())
      .Sink("out", {});
  Result<engine::JobGraph> graph = real.Build();
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  Result<std::shared_ptr<const engine::JobSetup>> setup = engine::PrepareJob(
      *graph, engine::EngineConfig{}, engine::ClusterSpec{0, {1, 2}},
      {engine::Rescale{.parallelism = 2, .operators = {}},
       engine::Rescale{.parallelism = 4, .operators = {}}});  // the job as submitted: no new one
  ASSERT_TRUE(setup.ok()) << setup.status().ToString();
  ASSERT_EQ((*setup)->generations(), 2u);
  const engine::ExecutionPlan& old_plan = (*setup)->PlanOf(0);
  std::map<uint32_t, engine::TaskSnapshot> state;
  for (const engine::TaskSpec& task : old_plan.tasks) {
    engine::TaskSnapshot& s = state[task.index];
    s.task = task.index;
    s.checkpoint_id = 7;
    const std::string dir = "checkpoints/chk-7/" + task.name + "/";
    if (task.chain == 0) s.handles.push_back({engine::HandleKind::kOperator, dir + "source", 1, 1});
    if (task.chain == 1) {
      s.handles.push_back({engine::HandleKind::kKeyed, dir + "keyed", 1, 1});
      s.handles.push_back({engine::HandleKind::kOperator, dir + "sink", 1, 1});
    }
  }
  Result<std::map<uint32_t, engine::TaskSnapshot>> moved =
      engine::RedistributeState(**setup, 0, 1, state);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  const engine::ExecutionPlan& new_plan = (*setup)->PlanOf(1);
  ASSERT_EQ(moved->size(), new_plan.tasks.size());
  auto names = [](const engine::TaskSnapshot& s) {
    std::vector<std::string> out;
    for (const engine::BlobHandle& h : s.handles) out.push_back(h.blob);
    return out;
  };
  // Source subtasks: every old cursor blob.
  for (uint32_t t : new_plan.tasks_of_chain[0]) EXPECT_EQ(moved->at(t).handles.size(), 4u);
  // sum+out#0: keyed of old 0 and 1, sinks of old 0 and 2; #1: keyed 2, 3, sinks 1, 3.
  const std::vector<std::string> first = names(moved->at(new_plan.tasks_of_chain[1][0]));
  EXPECT_EQ(first, (std::vector<std::string>{
                       "checkpoints/chk-7/sum+out#0/keyed", "checkpoints/chk-7/sum+out#0/sink",
                       "checkpoints/chk-7/sum+out#1/keyed", "checkpoints/chk-7/sum+out#2/sink"}));
  const std::vector<std::string> second = names(moved->at(new_plan.tasks_of_chain[1][1]));
  EXPECT_EQ(second, (std::vector<std::string>{
                        "checkpoints/chk-7/sum+out#1/sink", "checkpoints/chk-7/sum+out#2/keyed",
                        "checkpoints/chk-7/sum+out#3/keyed", "checkpoints/chk-7/sum+out#3/sink"}));
  // Channel state cannot move.
  state[4].handles.push_back({engine::HandleKind::kInputChannel, "x/input-channels", 1, 1});
  EXPECT_EQ(engine::RedistributeState(**setup, 0, 1, state).status().code(),
            StatusCode::kFailedPrecondition);
  // A rescale that breaks a forward edge is refused.
  EXPECT_FALSE(engine::RescaleJob(*graph, {.parallelism = 0, .operators = {{"sum", 3}}}).ok());
  EXPECT_FALSE(engine::RescaleJob(*graph, {.parallelism = 0, .operators = {{"nope", 3}}}).ok());
}

}  // namespace
}  // namespace faultline
