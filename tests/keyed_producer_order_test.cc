// EO-OUT's order check models a producer whose chain keeps keyed state (a keyed aggregate feeding
// a rebalance): it runs the chain from the state the producer's attempt restored, rebuilt from
// the committed history of the checkpoint it restored, so what the producer sent after a restore
// follows from its own logged order. Real run: tests/regressions/keyed_chain_order.textproto
// (source -> key_by -> running sum -> rebalance -> sink) with its TaskManager crashed mid-run.
// Clean, EO-OUT passes judged (it was INCONCLUSIVE, order-unknown, before); with two records the
// sink took from the restored aggregate swapped in the order log, it fails.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "checkers/eo_out.h"
#include "checkers/order_log.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

using checkers::Verdict;

// The regression's job, its TaskManager crashed at 1.5 s (after some checkpoints) instead of at
// the start, so the aggregate's second attempt restores a running sum.
std::unique_ptr<testing_support::LibraryRun> RunWithRestore() {
  return testing_support::RunLibrary(FAULTLINE_REGRESSIONS_DIR, "keyed_chain_order.textproto",
                                     nullptr, [](scenarios::proto::Scenario& spec) {
                                       ASSERT_EQ(spec.faults_size(), 1);
                                       spec.mutable_faults(0)->mutable_trigger()->set_at("1500ms");
                                     });
}

// The restored attempt of the sink task (the last chain's only task).
checkers::AttemptLog* RestoredSinkAttempt(testing_support::LibraryRun& run) {
  const uint32_t sink = run.jw->setup().plan.tasks_of_chain.back().front();
  for (const checkers::AttemptLog* log : run.log.AttemptsOf(sink)) {
    if (log->start_checkpoint.value_or(0) > 0) return const_cast<checkers::AttemptLog*>(log);
  }
  return nullptr;
}

TEST(KeyedProducerOrderTest, ARestoredKeyedProducerIsJudgedAndASwapFails) {
  std::unique_ptr<testing_support::LibraryRun> run = RunWithRestore();
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  checkers::AttemptLog* restored = RestoredSinkAttempt(*run);
  ASSERT_NE(restored, nullptr) << "the crash should restore a checkpoint";
  ASSERT_GE(restored->processed.size(), 2u);

  const Verdict clean = checkers::CheckExactlyOnceOutput(run->View());
  EXPECT_TRUE(clean.passed()) << clean.ToString();
  EXPECT_TRUE(clean.judged()) << clean.ToString();

  // The running sum's outputs differ record to record, so any swap breaks the channel's order.
  std::swap(restored->processed[0], restored->processed[1]);
  const Verdict swapped = checkers::CheckExactlyOnceOutput(run->View());
  ASSERT_TRUE(swapped.violated()) << swapped.ToString();
  EXPECT_NE(swapped.first()->what.find("did not deliver next"), std::string::npos)
      << swapped.ToString();
}

}  // namespace
}  // namespace faultline
