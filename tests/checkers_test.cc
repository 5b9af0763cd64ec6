// The checkers of ORACLES.md against the engine: the reference interpreter on its own; EO-OUT on
// a clean run and on runs whose committed output is altered after the fact (a dropped, a
// duplicated, a changed record); EO-CUT on clean and crashed runs and on a run whose keyed blob
// is rewritten after the fact; and both rules against the teaching switches they must catch.
#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "checkers/eo_cut.h"
#include "checkers/eo_out.h"
#include "checkers/order_log.h"
#include "checkers/reference.h"
#include "checkers/run_view.h"
#include "engine/api/job.h"
#include "engine/exec/events.h"
#include "engine/state/key_groups.h"
#include "engine/state/state_backend.h"
#include "faults/crash_when.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using checkers::Verdict;
using engine::Record;

using RunningSum = testing_support::RunningSumAndCount;

constexpr uint32_t kPartitions = 4;
constexpr uint32_t kKeys = 40;
constexpr uint32_t kSumOperator = 2;  // source, double, sum, out

// source -> map (double) -> key_by -> running sum -> two-phase-commit sink, parallelism 4. A
// source emits a record every 2 simulated milliseconds, so 1000 records per partition last two
// seconds: ten checkpoints at 200 ms.
engine::JobGraph ExampleJob() {
  engine::JobBuilder job("checkers");
  job.Source("source", {.source_id = 0, .parallelism = kPartitions})
      .WithRecordCost(Duration::Millis(2))
      .Map("double",
           [](const Record& r) {
             return Record{r.key, r.value * 2, {}};
           })
      .KeyBy([](const Record& r) { return r.key; })
      .Process("sum", std::make_shared<RunningSum>())
      .Sink("out", {.kind = engine::SinkKind::kTwoPhaseCommit});
  return job.Build().value();
}

Record SourceValue(uint32_t partition, uint32_t i) {
  return Record{"k" + std::to_string((partition * 7919 + i * 31) % kKeys),
                static_cast<int64_t>(i % 13) + 1,
                {}};
}

// --- the reference on its own ----------------------------------------------------------------

std::vector<Record> SourceRecords(uint32_t per_partition) {
  std::vector<Record> out;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    for (uint32_t i = 0; i < per_partition; ++i) {
      Record r = SourceValue(p, i);
      r.provenance = engine::Provenance::Of(engine::RecordId{0, p, i});
      out.push_back(std::move(r));
    }
  }
  return out;
}

TEST(ReferenceTest, ComputesTheExampleJobsSums) {
  const engine::JobGraph job = ExampleJob();
  const checkers::Reference reference(job);
  checkers::ReferenceInput input;
  input.sources = SourceRecords(500);
  const checkers::ReferenceResult result = reference.Run(input);

  std::map<std::string, int64_t> sums;
  std::map<std::string, int64_t> counts;
  std::map<std::string, engine::Provenance> provenance;
  for (const Record& r : input.sources) {
    sums[r.key] += 2 * r.value;
    ++counts[r.key];
    provenance[r.key] += r.provenance;
  }
  ASSERT_EQ(result.sink.size(), input.sources.size());
  ASSERT_EQ(result.state.at(kSumOperator).size(), sums.size());
  std::map<std::string, int64_t> last;
  for (const Record& r : result.sink) last[r.key] = r.value;
  EXPECT_EQ(last, sums) << "the last running sum per key is the key's total";
  for (const auto& [key, state] : result.state.at(kSumOperator)) {
    EXPECT_EQ(state.values.at("sum"), sums[key]) << key;
    EXPECT_EQ(state.reducing.at("count"), counts[key]) << key;
    EXPECT_EQ(state.provenance, provenance[key]) << key;
  }
  EXPECT_TRUE(result.unmatched.empty());
}

TEST(ReferenceTest, ReplaysAKeyInTheGivenOrderAndReportsWhatItCannotPlace) {
  const engine::JobGraph job = ExampleJob();
  const checkers::Reference reference(job);
  checkers::ReferenceInput input;
  input.sources = SourceRecords(100);
  // k0's records as the keyed operator sees them (doubled), in reverse, plus one never sent.
  std::vector<Record> k0;
  for (const Record& r : input.sources) {
    if (r.key == "k0") k0.push_back(Record{r.key, 2 * r.value, r.provenance});
  }
  ASSERT_GE(k0.size(), 2u);
  std::vector<Record> order(k0.rbegin(), k0.rend());
  order.push_back(Record{"k0", 5, engine::Provenance::Of(engine::RecordId{0, 9, 9})});
  input.order[kSumOperator]["k0"] = order;
  const checkers::ReferenceResult result = reference.Run(input);

  std::vector<int64_t> sums;
  for (const Record& r : result.sink) {
    if (r.key == "k0") sums.push_back(r.value);
  }
  ASSERT_EQ(sums.size(), k0.size());
  EXPECT_EQ(sums.front(), k0.back().value) << "the first record processed is the last sent";
  ASSERT_EQ(result.unmatched.size(), 1u);
  EXPECT_EQ(result.unmatched[0].record.provenance.hash_sum, (engine::RecordId{0, 9, 9}.Hash()));
}

// At-least-once: after a restore a source replays records the keyed state had already counted
// (its snapshot came after them: barriers are not aligned), so the task's history processes them
// twice. With `repeats` the reference processes them as often as logged, where logged
// (generated seeds 43681, 98136: a count and a filter behind it); without, they are unmatched.
TEST(ReferenceTest, RepeatsARecordTheLogProcessedAgainAfterARestore) {
  const engine::JobGraph job = ExampleJob();
  const checkers::Reference reference(job);
  checkers::ReferenceInput input;
  input.sources = SourceRecords(100);
  std::vector<Record> k0;  // k0's records as the keyed operator sees them (doubled)
  for (const Record& r : input.sources) {
    if (r.key == "k0") k0.push_back(Record{r.key, 2 * r.value, r.provenance});
  }
  ASSERT_GE(k0.size(), 4u);
  std::vector<Record> order(k0.begin(), k0.begin() + 3);
  order.push_back(k0[1]);  // the restored offsets are after k0[0]: k0[1] and k0[2] come again
  order.push_back(k0[2]);
  order.insert(order.end(), k0.begin() + 3, k0.end());
  int64_t total = 0;
  for (const Record& r : order) total += r.value;
  input.order[kSumOperator]["k0"] = order;

  const checkers::ReferenceResult without = reference.Run(input);
  EXPECT_EQ(without.unmatched.size(), 2u) << "the repeats are not delivered that often";

  input.repeats = true;
  const checkers::ReferenceResult result = reference.Run(input);
  EXPECT_TRUE(result.unmatched.empty());
  std::vector<int64_t> sums;
  for (const Record& r : result.sink) {
    if (r.key == "k0") sums.push_back(r.value);
  }
  ASSERT_EQ(sums.size(), order.size()) << "each repeat emits again";
  EXPECT_EQ(sums[3], order[0].value + order[1].value + order[2].value + order[3].value)
      << "the first repeat is processed where the log has it";
  EXPECT_EQ(sums.back(), total);
  EXPECT_EQ(result.state.at(kSumOperator).at("k0").values.at("sum"), total);
  EXPECT_EQ(result.processed.at(kSumOperator).at("k0").size(), order.size());
}

TEST(ReferenceTest, FilterDropsAndFlatMapGivesProvenanceToItsFirstOutputOnly) {
  engine::JobBuilder builder("shapes");
  builder.Source("source", {.source_id = 0, .parallelism = 1})
      .Filter("even", [](const Record& r) { return r.value % 2 == 0; })
      .FlatMap("twice",
               [](const Record& r, engine::Collector& out) {
                 out.Emit(Record{r.key, r.value, {}});
                 out.Emit(Record{r.key, r.value, {}});
               })
      .KeyBy([](const Record& r) { return r.key; })
      .Process("sum", std::make_shared<RunningSum>())
      .Sink("out");
  const engine::JobGraph job = builder.Build().value();
  checkers::ReferenceInput input;
  input.sources = SourceRecords(50);
  const checkers::ReferenceResult result = checkers::Reference(job).Run(input);

  size_t even = 0;
  for (const Record& r : input.sources) even += r.value % 2 == 0 ? 1 : 0;
  ASSERT_EQ(result.sink.size(), 2 * even);
  size_t reflecting = 0;
  engine::Provenance total;
  for (const Record& r : result.sink) {
    reflecting += r.provenance.count == 1 ? 1 : 0;
    total += r.provenance;
  }
  EXPECT_EQ(reflecting, even) << "one output per kept record carries its id";
  EXPECT_EQ(total.count, even);
}

// A record's way to the first keyed operator (what EO-CUT's CutReference folds) crosses every
// edge before it as Reference::Run does: a broadcast between stateless operators copies.
TEST(ReferenceTest, ArrivingCrossesABroadcastBetweenStatelessOperators) {
  engine::JobBuilder builder("broadcast");
  builder.Source("source", {.source_id = 0, .parallelism = 1})
      .Broadcast()
      .Map(
          "copy",
          [](const Record& r) {
            return Record{r.key, r.value, {}};
          },
          2)
      .KeyBy([](const Record& r) { return r.key; })
      .Process("sum", std::make_shared<RunningSum>())
      .Sink("out");
  const engine::JobGraph job = builder.Build().value();
  const checkers::Reference reference(job);
  checkers::ReferenceInput input;
  input.sources = SourceRecords(10);
  const checkers::ReferenceResult all = reference.Run(input);
  std::map<std::string, uint64_t> arriving;
  for (const Record& source : input.sources) {
    const std::vector<Record> copies = reference.Arriving(2, source);
    EXPECT_EQ(copies.size(), 2u);
    for (const Record& r : copies) ++arriving[r.key];
  }
  for (const auto& [key, state] : all.state.at(2)) {
    EXPECT_EQ(state.provenance.count, arriving[key]) << key;
  }
}

// A record withheld at an operator (in flight on its input channels) was processed by the
// operators before it and by none after: a broadcast copy is taken out once, a keyed operator
// upstream keeps it in its state, and a withheld record that does not arrive there is reported.
TEST(ReferenceTest, AWithheldRecordIsTakenOutWhereItWas) {
  engine::JobBuilder builder("withheld");
  builder.Source("source", {.source_id = 0, .parallelism = 1})
      .KeyBy([](const Record& r) { return r.key; })
      .Process("sum", std::make_shared<RunningSum>())
      .Filter(
          "odd", [](const Record& r) { return r.value % 2 != 0; }, 2)
      .Broadcast()
      .Sink("out", {.parallelism = 3});
  const engine::JobGraph job = builder.Build().value();
  const checkers::Reference reference(job);
  checkers::ReferenceInput input;
  input.sources = SourceRecords(40);
  const checkers::ReferenceResult all = reference.Run(input);
  ASSERT_FALSE(all.sink.empty());
  // One broadcast copy of the first sink record, in flight to one sink subtask.
  const Record copy = all.sink.front();
  checkers::ReferenceInput at_sink = input;
  at_sink.withheld[3].push_back(copy);
  const checkers::ReferenceResult less = reference.Run(at_sink);
  EXPECT_EQ(less.sink.size() + 1, all.sink.size());
  EXPECT_EQ(std::count(less.sink.begin(), less.sink.end(), copy) + 1,
            std::count(all.sink.begin(), all.sink.end(), copy));
  EXPECT_TRUE(less.unmatched_withheld.empty());
  // The sum's output in flight to the filter: the sum's state keeps it, the sink loses its copies.
  checkers::ReferenceInput at_filter = input;
  at_filter.withheld[2].push_back(copy);
  const checkers::ReferenceResult before_filter = reference.Run(at_filter);
  EXPECT_EQ(before_filter.state, all.state);
  EXPECT_EQ(before_filter.sink.size() + 3, all.sink.size());
  // Withheld twice on one lineage: before the filter and again at the sink (all its copies
  // are gone already), so the second has nothing to take out.
  at_filter.withheld[3].push_back(copy);
  const checkers::ReferenceResult twice = reference.Run(at_filter);
  ASSERT_EQ(twice.unmatched_withheld.size(), 1u);
  EXPECT_EQ(twice.unmatched_withheld.front().op, 3u);
  // A record without provenance (a flat_map's later copy) is taken out by key and value.
  Record no_provenance = copy;
  no_provenance.provenance = {};
  checkers::ReferenceInput stray = input;
  stray.withheld[3].push_back(no_provenance);
  const checkers::ReferenceResult unmatched = reference.Run(stray);
  ASSERT_EQ(unmatched.unmatched_withheld.size(), 1u) << "no such record arrives there";
  // In flight to the sum: not in its state.
  checkers::ReferenceInput at_sum = input;
  at_sum.withheld[1].push_back(input.sources.front());
  const checkers::ReferenceResult unsummed = reference.Run(at_sum);
  const std::string& key = input.sources.front().key;
  EXPECT_EQ(unsummed.state.at(1).at(key).provenance.count + 1,
            all.state.at(1).at(key).provenance.count);
}

// --- engine runs -----------------------------------------------------------------------------

// A run of the example job with the order log installed.
struct ExampleRun {
  sim::JobWorld* world = nullptr;  // set once created; the log's clock reads it
  checkers::OrderLog log{checkers::OrderLog::Options{
      .now = [this] { return world == nullptr ? Time::Zero() : world->world().now(); }}};
  std::unique_ptr<sim::JobWorld> jw;
  engine::JobStatus status = engine::JobStatus::kStarting;
  uint32_t restarts = 0;

  checkers::RunView View() {
    Result<checkers::RunView> view = checkers::ViewOf(*jw, &log);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return *view;
  }
};

bool IsEngineEvent(const sim::TraceRecord& r, engine::EngineEvent e, int64_t checkpoint_min) {
  return r.kind == sim::TraceKind::kEngine && r.args[0] == engine::Ev(e) &&
         r.args[1] >= checkpoint_min;
}

// Slows the JobManager's link to TaskManager 3: its source's trigger arrives late, by more than
// the 100 ms buffer timeout, so the other sources' records behind the barrier reach the keyed
// tasks first (teaching_switches_test.cc's scenario).
class SlowControlLink : public sim::FaultInjector {
 public:
  sim::FaultEffect Decide(const sim::FaultSite& site) override {
    if (site.point != sim::FaultPoint::kNetSend || site.node != 0 || site.peer != 3) return {};
    return sim::FaultEffect{.extra_delay = Duration::Millis(300),
                            .fault_name = "slow-control-link"};
  }
};

struct Scenario {
  engine::TeachingSwitches switches;
  bool observe = true;  // install the order log
  bool crash_job_manager_after_3 = false;
  bool slow_control_link = false;
  std::function<void(sim::JobWorld&)> at_450ms;  // a fault injected at 450 ms
};

std::unique_ptr<ExampleRun> RunExample(const Scenario& scenario, uint32_t per_partition = 1000) {
  auto run = std::make_unique<ExampleRun>();
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(200);
  config.checkpoints.retained = 1000;  // keep every completed checkpoint for EO-CUT
  config.switches = scenario.switches;
  config.observer = scenario.observe ? &run->log : nullptr;
  run->jw = sim::JobWorld::Create(ExampleJob(), config, sim::JobWorldOptions{}).value();
  run->world = run->jw.get();
  sim::JobWorld& jw = *run->jw;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    for (uint32_t i = 0; i < per_partition; ++i) jw.AddSourceRecord(p, SourceValue(p, i));
  }
  faults::CrashWhen crash(
      &jw,
      [](const sim::TraceRecord& r) {
        return IsEngineEvent(r, engine::EngineEvent::kPointerMoved, 3);
      },
      /*crash_job_manager=*/true);
  SlowControlLink slow;
  if (scenario.crash_job_manager_after_3) jw.world().trace().AddObserver(&crash);
  if (scenario.slow_control_link) jw.world().faults().Install(&slow);
  if (scenario.at_450ms) {
    jw.world().loop().Schedule(Time::Zero() + Duration::Millis(450),
                               [&jw, &scenario] { scenario.at_450ms(jw); });
  }
  jw.Start();
  run->status = jw.RunUntilDone(Time::Zero() + Duration::Seconds(60));
  if (scenario.crash_job_manager_after_3) {
    jw.world().trace().RemoveObserver(&crash);
    EXPECT_TRUE(crash.fired()) << "checkpoint 3 never completed";
  }
  if (scenario.slow_control_link) jw.world().faults().Uninstall(&slow);
  if (engine::JobManager* jm = jw.job_manager()) run->restarts = jm->restarts();
  return run;
}

size_t CompletedCheckpoints(ExampleRun& run) {
  size_t n = 0;
  for (const auto& [name, bytes] : run.jw->world().blob_store().objects()) {
    if (name.ends_with("/_metadata")) ++n;
  }
  return n;
}

std::optional<engine::RecordId> IdOf(const Record& r) {
  if (r.provenance.count != 1) return std::nullopt;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    for (uint64_t i = 0; i < 10000; ++i) {
      if (engine::RecordId{0, p, i}.Hash() == r.provenance.hash_sum) {
        return engine::RecordId{0, p, i};
      }
    }
  }
  return std::nullopt;
}

void ExpectFailsOn(const Verdict& verdict, std::string_view what, const Record& record) {
  ASSERT_TRUE(verdict.violated()) << verdict.ToString();
  const checkers::Violation& v = *verdict.first();
  EXPECT_NE(v.what.find(what), std::string::npos) << verdict.ToString();
  ASSERT_TRUE(v.evidence.record.has_value()) << verdict.ToString();
  EXPECT_EQ(*v.evidence.record, IdOf(record).value()) << verdict.ToString();
}

TEST(ExactlyOnceOutputTest, PassesACleanRunAndCatchesEachAlteredRecord) {
  std::unique_ptr<ExampleRun> run = RunExample({});
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView clean = run->View();
  ASSERT_EQ(clean.committed.size(), kPartitions * 1000u);
  const Verdict verdict = checkers::CheckExactlyOnceOutput(clean);
  EXPECT_TRUE(verdict.passed()) << verdict.ToString();
  EXPECT_TRUE(verdict.notes().empty()) << verdict.ToString();

  const size_t victim = clean.committed.size() / 2;
  const Record& record = clean.committed[victim].record;
  {
    checkers::RunView dropped = clean;
    dropped.committed.erase(dropped.committed.begin() + static_cast<ptrdiff_t>(victim));
    ExpectFailsOn(checkers::CheckExactlyOnceOutput(dropped), "missing", record);
  }
  {
    checkers::RunView duplicated = clean;
    duplicated.committed.push_back(duplicated.committed[victim]);
    ExpectFailsOn(checkers::CheckExactlyOnceOutput(duplicated), "more than once", record);
  }
  {
    checkers::RunView flipped = clean;
    flipped.committed[victim].record.value += 1;
    const Verdict v = checkers::CheckExactlyOnceOutput(flipped);
    ExpectFailsOn(v, "value differs", record);
    EXPECT_EQ(v.further_violations(), 0u) << "one changed value, one violation";
  }
}

TEST(OrderLogTest, RecordsWithoutChangingTheTrace) {
  std::unique_ptr<ExampleRun> observed = RunExample({});
  std::unique_ptr<ExampleRun> unobserved = RunExample({.observe = false});
  EXPECT_EQ(observed->jw->world().trace().hash(), unobserved->jw->world().trace().hash());
  const checkers::AttemptLog* keyed = observed->log.Find(4, 1);  // sum+out#0, first attempt
  ASSERT_NE(keyed, nullptr);
  EXPECT_EQ(keyed->start_checkpoint, 0u);
  EXPECT_FALSE(keyed->processed.empty());
  EXPECT_FALSE(keyed->snapshots.empty());
  EXPECT_FALSE(observed->log.overflowed());
}

TEST(ConsistentCutTest, PassesAFaultFreeRun) {
  std::unique_ptr<ExampleRun> run = RunExample({});
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  EXPECT_GE(CompletedCheckpoints(*run), 3u);
  const Verdict verdict = checkers::CheckConsistentCuts(run->View());
  EXPECT_TRUE(verdict.passed()) << verdict.ToString();
  EXPECT_TRUE(verdict.notes().empty()) << verdict.ToString();
}

TEST(ConsistentCutTest, PassesARunWithATaskManagerCrash) {
  Scenario scenario;
  scenario.at_450ms = [](sim::JobWorld& jw) {
    jw.world().Crash(2, "test: TaskManager crash");
    jw.world().loop().ScheduleAfter(Duration::Millis(300), [&jw] { jw.world().Restart(2); });
  };
  std::unique_ptr<ExampleRun> run = RunExample(scenario);
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  EXPECT_GE(run->restarts, 1u);
  const checkers::RunView view = run->View();
  const Verdict cut = checkers::CheckConsistentCuts(view);
  EXPECT_TRUE(cut.passed()) << cut.ToString();
  const Verdict out = checkers::CheckExactlyOnceOutput(view);
  EXPECT_TRUE(out.passed()) << out.ToString();
}

// Rewrites one key's "sum" in checkpoint 2's first keyed blob, as a fresh heap backend
// re-encodes it; returns (blob, key).
std::pair<std::string, std::string> AlterOneSum(sim::JobWorld& jw) {
  const std::string prefix = "checkpoints/chk-2/sum+out#0/";
  std::string name;
  for (const auto& [blob, bytes] : jw.world().blob_store().objects()) {
    if (blob.starts_with(prefix) && blob.ends_with("/keyed")) name = blob;
  }
  EXPECT_FALSE(name.empty()) << "no keyed blob under " << prefix;
  const engine::OperatorSpec& sum = jw.setup().job.operators[kSumOperator];
  auto backend = engine::NewHeapStateBackend(
      engine::KeyGroupRangeForOperator(0, sum.parallelism, sum.max_parallelism));
  const checkers::Bytes original = *jw.world().blob_store().Peek(name);
  EXPECT_TRUE(backend->Restore({engine::RestoreSource{name, &original}}).ok());
  const engine::StateId id = backend->Register("sum", engine::StateKind::kValue).value();
  std::string key;
  engine::KeyGroup group = 0;
  std::string* key_out = &key;
  engine::KeyGroup* group_out = &group;
  backend->ForEachEntry([key_out, group_out](std::string_view state, engine::KeyGroup g,
                                             std::string_view k, std::string_view,
                                             std::span<const uint8_t>) {
    if (key_out->empty() && state == "sum") {
      *key_out = std::string(k);
      *group_out = g;
    }
  });
  EXPECT_FALSE(key.empty());
  engine::Bytes value = *backend->Get(id, group, key, "");
  value[0] ^= 0x01;  // the sum changes by one
  backend->Put(id, group, key, "", value);
  checkers::Bytes altered = backend->Capture()->Materialize().value();
  jw.world().blob_store().Put(0, name, std::move(altered), [](Status s) { EXPECT_TRUE(s.ok()); });
  jw.world().RunFor(Duration::Seconds(1));
  return {name, key};
}

TEST(ConsistentCutTest, CatchesARewrittenKeyedBlobAsAValueMismatch) {
  std::unique_ptr<ExampleRun> run = RunExample({});
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const auto [blob, key] = AlterOneSum(*run->jw);
  const Verdict verdict = checkers::CheckConsistentCuts(run->View());
  ASSERT_TRUE(verdict.violated()) << verdict.ToString();
  const checkers::Violation& v = *verdict.first();
  EXPECT_NE(v.what.find("snapshotted value differs"), std::string::npos) << verdict.ToString();
  EXPECT_EQ(v.evidence.checkpoint_id, 2u);
  EXPECT_EQ(v.evidence.blob, blob);
  EXPECT_EQ(v.evidence.key, key);
  EXPECT_NE(v.evidence.detail.find("altered after capture"), std::string::npos)
      << "the checksum mismatch belongs in the evidence: " << verdict.ToString();
  EXPECT_EQ(verdict.further_violations(), 0u) << verdict.ToString();
}

// --- teaching switches -----------------------------------------------------------------------

TEST(TeachingSwitchCheckersTest, OffsetAfterEmitIsCaughtAsLoss) {
  Scenario scenario;
  scenario.switches.offset_after_emit = true;
  scenario.crash_job_manager_after_3 = true;
  std::unique_ptr<ExampleRun> run = RunExample(scenario);
  const checkers::RunView view = run->View();
  const Verdict out = checkers::CheckExactlyOnceOutput(view);
  ASSERT_TRUE(out.violated()) << "offset-after-emit went unnoticed";
  EXPECT_NE(out.first()->what.find("missing"), std::string::npos) << out.ToString();
  EXPECT_TRUE(out.first()->evidence.record.has_value()) << out.ToString();
  const Verdict cut = checkers::CheckConsistentCuts(view);
  EXPECT_TRUE(cut.violated()) << "checkpoint offsets past what was emitted went unnoticed";
  std::cout << out.ToString() << "\n" << cut.ToString() << "\n";

  std::unique_ptr<ExampleRun> control = RunExample({.crash_job_manager_after_3 = true});
  const checkers::RunView control_view = control->View();
  EXPECT_TRUE(checkers::CheckExactlyOnceOutput(control_view).passed());
  EXPECT_TRUE(checkers::CheckConsistentCuts(control_view).passed());
}

TEST(TeachingSwitchCheckersTest, NoAlignmentIsCaught) {
  Scenario scenario;
  scenario.switches.no_alignment = true;
  scenario.crash_job_manager_after_3 = true;
  scenario.slow_control_link = true;
  std::unique_ptr<ExampleRun> run = RunExample(scenario);
  const checkers::RunView view = run->View();
  // Records behind barrier n enter checkpoint n's state (EO-CUT); after the restore from 3 they
  // are replayed and committed again (EO-OUT).
  const Verdict cut = checkers::CheckConsistentCuts(view);
  ASSERT_TRUE(cut.violated()) << "no-alignment went unnoticed by EO-CUT";
  EXPECT_TRUE(cut.first()->evidence.record.has_value()) << cut.ToString();
  EXPECT_NE(cut.first()->evidence.detail.find("behind the cut"), std::string::npos)
      << cut.ToString();
  const Verdict out = checkers::CheckExactlyOnceOutput(view);
  ASSERT_TRUE(out.violated()) << "no-alignment went unnoticed by EO-OUT";
  EXPECT_NE(out.first()->what.find("more than once"), std::string::npos) << out.ToString();
  std::cout << cut.ToString() << "\n" << out.ToString() << "\n";

  std::unique_ptr<ExampleRun> control =
      RunExample({.crash_job_manager_after_3 = true, .slow_control_link = true});
  const checkers::RunView control_view = control->View();
  const Verdict control_cut = checkers::CheckConsistentCuts(control_view);
  const Verdict control_out = checkers::CheckExactlyOnceOutput(control_view);
  EXPECT_TRUE(control_cut.passed()) << control_cut.ToString();
  EXPECT_TRUE(control_out.passed()) << control_out.ToString();
}

}  // namespace
}  // namespace faultline
