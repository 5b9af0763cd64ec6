// Testing your own job under generated fault plans, from your own project.
//
// BuildJob is your job, written with the job API (as in faultline's examples/word_totals.cc).
// faultline::harness generates the rest around it: a simulated cluster and network, checkpoint
// settings, a source log for your sources (source_id 0), and a fault plan whose faults name your
// source and sink subtasks; it runs every checker of the mode and says whether exactly-once (or
// at-least-once) held. A failing case is written out as a scenario file with how to replay it.
// For RapidCheck (generated and shrunk cases), see <faultline/harness.h>'s second example.
#include <faultline/harness.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>

namespace {

using faultline::engine::Collector;
using faultline::engine::KeyedContext;
using faultline::engine::Record;

// Your operator: per key, the largest value seen so far, emitted for every input.
class LargestSoFar final : public faultline::engine::KeyedProcessFunction {
 public:
  void Process(const Record& in, KeyedContext& state, Collector& out) override {
    const std::optional<int64_t> best = state.GetValue("best");
    const int64_t largest = best ? std::max(*best, in.value) : in.value;
    state.SetValue("best", largest);
    out.Emit(Record{state.key(), largest, {}});
  }
};

faultline::engine::JobGraph BuildJob() {
  faultline::engine::JobBuilder job("largest-so-far");
  job.Source("source", {.source_id = 0, .parallelism = 2})
      .Map("triple",
           [](const Record& r) {
             return Record{r.key, r.value * 3, {}};
           })
      .KeyBy([](const Record& r) { return r.key; })
      .Process("largest", std::make_shared<LargestSoFar>(), 2)
      .Sink("out", {.kind = faultline::engine::SinkKind::kTwoPhaseCommit});
  auto built = job.Build();
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  return std::move(*built);
}

// A fixed sample of generated cases (seeds 1..N: the same cases every run).
TEST(MyJob, HoldsUnderGeneratedFaults) {
  faultline::harness::Options options;
  options.cases = 8;
  options.modes = {0};  // ALIGNED (1: UNALIGNED, 2: AT_LEAST_ONCE)
  const faultline::harness::Summary summary =
      faultline::harness::CheckJobUnderFaults(BuildJob(), options);
  EXPECT_TRUE(summary.ok()) << summary.Describe();
  EXPECT_EQ(summary.cases, 8u);
}

}  // namespace
