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

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "checkers/eo_out.h"
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

// EO-OUT follows each key across the rescale (its key group's owners at each parallelism): the
// real run holds, and one committed value changed after the rescale is a violation.
TEST(RescaleJobTest, EoOutComparesValuesAcrossTheRescale) {
  std::unique_ptr<testing_support::LibraryRun> run =
      testing_support::RunLibrary(FAULTLINE_SCENARIO_LIBRARY_DIR, "rescale_4_to_2.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  checkers::RunView view = run->View();
  for (const checkers::RestoreRecord& d : run->recorder->recording().deployments) {
    if (d.generation != 0) view.rescaled_attempts[d.attempt] = d.generation;
  }
  ASSERT_FALSE(view.rescaled_attempts.empty());
  const checkers::Verdict held = checkers::CheckExactlyOnceOutput(view);
  EXPECT_FALSE(held.violated()) << held.ToString();
  EXPECT_TRUE(held.Has(checkers::Unjudged::kRescaledNotFollowed)) << held.ToString();
  EXPECT_TRUE(held.unexplained().empty()) << held.ToString();
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
