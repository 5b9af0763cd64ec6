// The checkers behind checker.h on real runs: a clean run passes every one; the same run,
// altered after the fact (a committed record dropped or duplicated, a restored digest flipped, a
// blob deleted or rewritten, two records of a channel swapped, a transaction left uncommitted),
// fails exactly the rules that cover the alteration; and real faults planted with the teaching
// switches fail the rule ORACLES.md names for them, while the same run without the switch
// passes. Installing the recorder never changes the trace hash.
#include "checkers/checker.h"

#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "checkers/degradation.h"
#include "checkers/order_log.h"
#include "checkers/recorder.h"
#include "engine/api/job.h"
#include "engine/exec/events.h"
#include "faults/crash_when.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using checkers::RunRecord;
using checkers::Unjudged;
using checkers::Verdict;
using engine::EngineEvent;
using testing_support::IsEngineEvent;

// An injector for one fault point, restricted to targets containing `target`.
class Inject : public sim::FaultInjector {
 public:
  Inject(sim::FaultPoint point, std::string target, sim::FaultEffect effect, std::string op = "",
         uint32_t node = 0xffffffffu, std::string suffix = "")
      : point_(point),
        target_(std::move(target)),
        effect_(std::move(effect)),
        op_(std::move(op)),
        node_(node),
        suffix_(std::move(suffix)) {}
  sim::FaultEffect Decide(const sim::FaultSite& site) override {
    if (site.point != point_) return {};
    if (std::string_view(site.target).find(target_) == std::string_view::npos) return {};
    if (!std::string_view(site.target).ends_with(suffix_)) return {};
    if (!op_.empty() && site.op != op_) return {};
    if (node_ != 0xffffffffu && site.node != node_) return {};
    return effect_;
  }

 private:
  sim::FaultPoint point_;
  std::string target_;
  sim::FaultEffect effect_;
  std::string op_;
  uint32_t node_;
  std::string suffix_;
};

struct Scenario {
  engine::TeachingSwitches switches;
  std::function<bool(const sim::TraceRecord&)> crash_when;
  bool crash_job_manager = false;
  std::function<std::unique_ptr<sim::FaultInjector>()> fault;
  Duration limit = Duration::Seconds(120);
  uint32_t max_concurrent = 1;
  Duration interval = Duration::Millis(500);
  bool fallback = false;  // UnreadableCheckpointPolicy::kFallback, two retained checkpoints
  bool record = true;     // install the order log and the recorder
};

struct CheckedRun {
  sim::JobWorld* world = nullptr;
  checkers::OrderLog log{checkers::OrderLog::Options{
      .now = [this] { return world == nullptr ? Time::Zero() : world->world().now(); }}};
  std::unique_ptr<sim::JobWorld> jw;
  std::unique_ptr<checkers::RunRecorder> recorder;
  engine::JobStatus status = engine::JobStatus::kStarting;
  bool crashed = false;
  RunRecord record;

  Verdict Check(std::string_view id, const RunRecord& r) const {
    Result<Verdict> v = checkers::RunChecker(id, r);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return *v;
  }
  Verdict Check(std::string_view id) const { return Check(id, record); }
};

std::unique_ptr<CheckedRun> RunScenario(const Scenario& s) {
  auto run = std::make_unique<CheckedRun>();
  engine::EngineConfig config;
  config.checkpoints.interval = s.interval;
  config.checkpoints.max_concurrent = s.max_concurrent;
  config.switches = s.switches;
  if (s.fallback) {
    config.unreadable_checkpoint = engine::UnreadableCheckpointPolicy::kFallback;
    config.checkpoints.retained = 2;
  }
  if (s.record) config.observer = &run->log;
  run->jw = sim::JobWorld::Create(testing_support::KeyedJob({.name = "checkers"}), config,
                                  sim::JobWorldOptions{})
                .value();
  run->world = run->jw.get();
  sim::JobWorld& jw = *run->jw;
  testing_support::FillSource(jw, 4, 6000);
  faults::CrashWhen crash(&jw, s.crash_when, s.crash_job_manager);
  std::unique_ptr<sim::FaultInjector> fault = s.fault ? s.fault() : nullptr;
  if (s.crash_when) jw.world().trace().AddObserver(&crash);
  if (fault) jw.world().faults().Install(fault.get());
  if (s.record) {
    run->recorder = std::make_unique<checkers::RunRecorder>(jw);
    jw.world().trace().AddObserver(run->recorder.get());
  }
  jw.Start();
  run->status = jw.RunUntilDone(Time::Zero() + s.limit);
  run->crashed = crash.fired();
  if (s.crash_when) jw.world().trace().RemoveObserver(&crash);
  if (fault) jw.world().faults().Uninstall(fault.get());
  if (s.record) {
    jw.world().trace().RemoveObserver(run->recorder.get());
    Result<RunRecord> record =
        checkers::RecordRun(jw, *run->recorder, &run->log, {.status = run->status});
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    if (record.ok()) run->record = std::move(*record);
  }
  return run;
}

void ExpectFail(const Verdict& v, std::string_view what) {
  ASSERT_TRUE(v.violated()) << "expected a violation containing '" << what << "'";
  EXPECT_NE(v.first()->what.find(what), std::string::npos) << v.ToString();
  std::cout << v.ToString() << "\n";
}

void ExpectPass(const Verdict& v) {
  EXPECT_TRUE(v.passed()) << v.ToString();
}

// --- the interface -----------------------------------------------------------------------------

TEST(CheckerInterfaceTest, ListsTheCheckersAndRefusesAnUnknownOne) {
  const std::vector<std::string_view> known = checkers::KnownCheckers();
  EXPECT_EQ(known.size(), 8u);
  EXPECT_EQ(checkers::DefaultCheckers(engine::CheckpointMode::kAligned, true),
            (std::vector<std::string>{"EO-OUT", "EO-CUT", "DUR", "REC", "TXN", "LIVE"}));
  EXPECT_EQ(checkers::DefaultCheckers(engine::CheckpointMode::kAtLeastOnce, false),
            (std::vector<std::string>{"AL-LOSS", "DUR", "REC", "LIVE"}));
  EXPECT_EQ(checkers::RunChecker("NOPE", RunRecord{}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CheckerRegistryTest, OneRowPerCheckerReadByEveryUser) {
  std::set<std::string_view> names;
  for (const checkers::CheckerInfo& info : checkers::kCheckers) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name << " listed twice";
    EXPECT_NE(info.check, nullptr) << info.name;
    EXPECT_EQ(checkers::FindChecker(info.name), &info);
    EXPECT_FALSE(info.summary.empty()) << info.name;
    // A default must be allowed.
    EXPECT_EQ(info.default_modes & ~info.allowed_modes, 0) << info.name;
  }
  EXPECT_EQ(checkers::FindChecker("NOPE"), nullptr);
  EXPECT_EQ(checkers::KnownCheckers().size(), checkers::kCheckers.size());
  EXPECT_EQ(checkers::DefaultCheckers(engine::CheckpointMode::kUnaligned, false),
            (std::vector<std::string>{"EO-OUT", "EO-CUT", "DUR", "REC", "LIVE"}));
  const checkers::CheckerInfo& eo_out = *checkers::FindChecker("EO-OUT");
  EXPECT_NE(checkers::WhyNotApplicable(eo_out, engine::CheckpointMode::kAtLeastOnce, true), "");
  EXPECT_EQ(checkers::WhyNotApplicable(eo_out, engine::CheckpointMode::kAligned, false), "");
  const checkers::CheckerInfo& txn = *checkers::FindChecker("TXN");
  EXPECT_NE(checkers::WhyNotApplicable(txn, engine::CheckpointMode::kAligned, false), "");
}

// --- a clean run, and the same run altered after the fact --------------------------------------

// A TaskManager crash after checkpoint 3's acknowledgement: a restart, restores, commits.
Scenario CrashAfterAck() {
  Scenario s;
  s.crash_when = [](const sim::TraceRecord& r) {
    return IsEngineEvent(r, EngineEvent::kAckSent, 3);
  };
  return s;
}

class AlteredRunTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    run_ = RunScenario(CrashAfterAck()).release();
    ASSERT_TRUE(run_->crashed);
    ASSERT_EQ(run_->status, engine::JobStatus::kFinished);
    const Scenario twin = CrashAfterAck();
    second_hash_ = RunScenario(twin)->jw->world().trace().hash();
  }
  static void TearDownTestSuite() {
    delete run_;
    run_ = nullptr;
  }
  static CheckedRun* run_;
  static uint64_t second_hash_;
};
CheckedRun* AlteredRunTest::run_ = nullptr;
uint64_t AlteredRunTest::second_hash_ = 0;

TEST_F(AlteredRunTest, TheUnalteredRunPassesEveryChecker) {
  RunRecord r = run_->record;
  r.trace_hashes = {{r.trace_hash, second_hash_}};
  ASSERT_FALSE(r.recording.restores_finished.empty()) << "the crash should cause a restore";
  ASSERT_FALSE(r.recording.completions.empty());
  for (std::string_view id : checkers::KnownCheckers()) {
    const Verdict v = run_->Check(id, r);
    EXPECT_TRUE(v.passed()) << v.ToString();
    std::cout << v.ToString() << "\n";
  }
}

// ORACLES.md: "could not judge" is an outcome with a reason, never a PASS. Each reason, reached
// from the clean run by removing what the checker needs; the clean run has none (above).
// (channel-state-not-judged needs an unaligned checkpoint: see tests/checkers_test.cc.)
TEST_F(AlteredRunTest, EachUnjudgedReasonMakesItsCheckerInconclusive) {
  auto expect = [](const Verdict& v, Unjudged reason) {
    EXPECT_EQ(v.outcome(), Verdict::Outcome::kInconclusive) << v.ToString();
    EXPECT_TRUE(v.Has(reason)) << checkers::UnjudgedName(reason) << ": " << v.ToString();
    EXPECT_NE(v.ToString().find(checkers::UnjudgedName(reason)), std::string::npos);
  };
  std::set<Unjudged> reached;
  auto check = [&](std::string_view id, const RunRecord& r, Unjudged reason) {
    expect(run_->Check(id, r), reason);
    reached.insert(reason);
  };
  {
    RunRecord r = run_->record;
    checkers::BlobMap blobs = *r.view.blobs;
    std::erase_if(blobs, [](const auto& blob) { return blob.first.ends_with("/keyed"); });
    r.view.blobs = &blobs;
    check("EO-CUT", r, Unjudged::kCheckpointSkipped);
    const checkers::BlobMap none;
    r.view.blobs = &none;
    r.view.history = nullptr;  // nothing written, nothing archived
    check("EO-CUT", r, Unjudged::kNothingToCheck);
  }
  {
    // A completed checkpoint whose sink state was never stored whole: which transactions it
    // pre-committed is unknown to TXN.
    RunRecord r = run_->record;
    ASSERT_FALSE(r.recording.completions.empty());
    r.recording.completions.front().unreadable_sink_blobs.push_back("chk-1/out#0/sink");
    check("TXN", r, Unjudged::kCheckpointSkipped);
  }
  {
    RunRecord r = run_->record;
    r.recording.nodes.push_back({.time = r.end, .node = 1, .kind = sim::TraceKind::kNodeCrash});
    check("LIVE", r, Unjudged::kNoQuietPhase);
  }
  {
    // A fault in force at the end: a partition never healed, a pause never resumed.
    RunRecord r = run_->record;
    r.recording.nodes.push_back({.time = r.end,
                                 .node = runtime::kNoNode,
                                 .kind = sim::TraceKind::kPartition,
                                 .partition = 7});
    check("LIVE", r, Unjudged::kNoQuietPhase);
    r.recording.nodes.push_back(
        {.time = r.end, .node = runtime::kNoNode, .kind = sim::TraceKind::kHeal, .partition = 7});
    EXPECT_TRUE(run_->Check("LIVE", r).passed()) << "healed: not permanent";
    r.recording.nodes.push_back({.time = r.end, .node = 2, .kind = sim::TraceKind::kNodePause});
    check("LIVE", r, Unjudged::kNoQuietPhase);
  }
  {
    RunRecord r = run_->record;
    check("DET", r, Unjudged::kSecondRunNotMade);
    r.status = engine::JobStatus::kRunning;
    check("LIVE", r, Unjudged::kJobNotFinished);
    check("TXN", r, Unjudged::kJobNotFinished);
  }
  {
    RunRecord r = run_->record;
    r.view.order = nullptr;
    check("EO-OUT", r, Unjudged::kOrderUnknown);
  }
  {
    RunRecord r = run_->record;
    checkers::CommittedRecord stray = r.view.committed.front();
    stray.record.provenance = engine::Provenance{.count = 1, .hash_sum = 12345};
    r.view.committed.push_back(stray);
    check("AL-LOSS", r, Unjudged::kOutputUntraceable);
  }
  {
    RunRecord r = run_->record;
    r.recording.notes.push_back("a blob the recorder could not read");
    check("DUR", r, Unjudged::kRecordingIncomplete);
  }
  {
    // An attempt at a plan generation the job does not have: its keys cannot be followed
    // (tests/rescale_test.cc runs real rescales, judged).
    RunRecord r = run_->record;
    r.view.rescaled_attempts[2] = 1;
    check("EO-OUT", r, Unjudged::kOrderUnknown);
    check("EO-CUT", r, Unjudged::kOrderUnknown);
  }
  for (Unjudged reason : checkers::AllUnjudgedReasons()) {
    // An aligned run has none: tests/eo_cut_every_checkpoint_test.cc reaches it.
    if (reason == Unjudged::kChannelStateNotJudged) continue;
    EXPECT_TRUE(reached.count(reason)) << checkers::UnjudgedName(reason) << " not reached";
  }
}

TEST_F(AlteredRunTest, ADroppedCommittedRecordIsLossForAlLossLiveAndEoOut) {
  RunRecord r = run_->record;
  const size_t victim = r.view.committed.size() / 2;
  r.view.committed.erase(r.view.committed.begin() + static_cast<ptrdiff_t>(victim));
  ExpectFail(run_->Check("AL-LOSS", r), "missing");
  ExpectFail(run_->Check("LIVE", r), "does not cover");
  ExpectFail(run_->Check("EO-OUT", r), "missing");
  ExpectPass(run_->Check("DUR", r));
  ExpectPass(run_->Check("REC", r));
}

// A job that did not finish owes the output only what a completed checkpoint put behind it: a
// record missing before the furthest source offsets a completion recorded fails AL-LOSS; one
// beyond them (not emitted yet) is job-not-finished.
TEST_F(AlteredRunTest, AnUnfinishedJobOwesAlLossOnlyWhatACompletedCheckpointCovers) {
  RunRecord r = run_->record;
  r.status = engine::JobStatus::kFailed;
  // As if the job had failed after its first checkpoint completed.
  ASSERT_GE(r.recording.completions.size(), 2u);
  r.recording.completions.resize(1);
  std::map<uint32_t, uint64_t> covered;  // partition -> furthest completed offset
  for (const checkers::CompletionRecord& c : r.recording.completions) {
    ASSERT_TRUE(c.source_offsets.has_value());
    for (const auto& [p, offset] : *c.source_offsets) covered[p] = std::max(covered[p], offset);
  }
  ASSERT_FALSE(covered.empty());
  const checkers::SourceIndex index(r.view.sources);
  const auto drop = [&](bool behind) {
    RunRecord altered = r;
    auto& out = altered.view.committed;
    for (auto it = out.begin(); it != out.end(); ++it) {
      const std::optional<engine::RecordId> id = index.IdOf(it->record.provenance);
      if (!id) continue;
      const auto c = covered.find(id->partition);
      if (c != covered.end() && (id->offset < c->second) == behind) {
        out.erase(it);
        return altered;
      }
    }
    ADD_FAILURE() << "no committed record " << (behind ? "behind" : "beyond") << " the offsets";
    return altered;
  };
  ExpectFail(run_->Check("AL-LOSS", drop(true)), "missing");
  const Verdict beyond = run_->Check("AL-LOSS", drop(false));
  EXPECT_FALSE(beyond.violated()) << beyond.ToString();
  EXPECT_TRUE(beyond.Has(Unjudged::kJobNotFinished)) << beyond.ToString();
}

// A two-phase-commit sink publishes a checkpoint's records only when its transactions commit:
// a job that stopped before the commit (a TaskManager down for good) owes nothing behind it.
TEST_F(AlteredRunTest, AnUnfinishedJobOwesNothingBehindACheckpointItNeverCommitted) {
  RunRecord r = run_->record;
  r.status = engine::JobStatus::kFailed;
  ASSERT_GE(r.recording.completions.size(), 2u);
  r.recording.completions.resize(1);
  const checkers::CompletionRecord& first = r.recording.completions.front();
  ASSERT_FALSE(first.pending.empty());
  // Its records left out of the output, as if never committed.
  const checkers::SourceIndex index(r.view.sources);
  std::erase_if(r.view.committed, [&](const checkers::CommittedRecord& c) {
    const std::optional<engine::RecordId> id = index.IdOf(c.record.provenance);
    return id && first.source_offsets->contains(id->partition) &&
           id->offset < first.source_offsets->at(id->partition);
  });
  ExpectFail(run_->Check("AL-LOSS", r), "missing");  // its transactions did commit
  std::erase_if(r.recording.calls, [&](const checkers::ServiceCall& call) {
    return call.op == sim::ServiceOp::kCommit &&
           std::any_of(
               first.pending.begin(), first.pending.end(),
               [&call](const engine::PendingTransaction& p) { return p.txn == call.target; });
  });
  const Verdict never = run_->Check("AL-LOSS", r);
  EXPECT_FALSE(never.violated()) << never.ToString();
  EXPECT_TRUE(never.Has(Unjudged::kJobNotFinished)) << never.ToString();
}

// A checkpoint's snapshot of a two-phase-commit sink can still hold an older checkpoint's
// transaction (not yet committed when the snapshot was taken). Committing that older one (on
// the older checkpoint's notification) publishes only its records: the checkpoint owes its own
// records only once its newest transaction committed (generated seed 19662: a TaskManager lost
// between the two commits, the restore made impossible by an injected corruption).
TEST_F(AlteredRunTest, AnOlderTransactionCommittedDoesNotPublishALaterCheckpoint) {
  RunRecord r = run_->record;
  r.status = engine::JobStatus::kFailed;
  ASSERT_GE(r.recording.completions.size(), 2u);
  r.recording.completions.resize(2);
  const checkers::CompletionRecord& first = r.recording.completions[0];
  checkers::CompletionRecord& second = r.recording.completions[1];
  ASSERT_FALSE(first.pending.empty());
  ASSERT_FALSE(second.pending.empty());
  // The second snapshot taken while the first checkpoint's transactions were still pending.
  second.pending.insert(second.pending.begin(), first.pending.begin(), first.pending.end());
  // The second checkpoint's records (beyond the first's offsets) left out of the output.
  const checkers::SourceIndex index(r.view.sources);
  std::erase_if(r.view.committed, [&](const checkers::CommittedRecord& c) {
    const std::optional<engine::RecordId> id = index.IdOf(c.record.provenance);
    return id && second.source_offsets->contains(id->partition) &&
           id->offset < second.source_offsets->at(id->partition) &&
           (!first.source_offsets->contains(id->partition) ||
            id->offset >= first.source_offsets->at(id->partition));
  });
  ExpectFail(run_->Check("AL-LOSS", r), "missing");  // the second's transactions did commit
  std::erase_if(r.recording.calls, [&](const checkers::ServiceCall& call) {
    return call.op == sim::ServiceOp::kCommit &&
           std::none_of(
               first.pending.begin(), first.pending.end(),
               [&call](const engine::PendingTransaction& p) { return p.txn == call.target; });
  });
  const Verdict never = run_->Check("AL-LOSS", r);  // only the first's committed
  EXPECT_FALSE(never.violated()) << never.ToString();
  EXPECT_TRUE(never.Has(Unjudged::kJobNotFinished)) << never.ToString();
}

TEST_F(AlteredRunTest, ADuplicatedCommittedRecordIsANoteForAlLossAndAViolationForEoOut) {
  RunRecord r = run_->record;
  r.view.committed.push_back(r.view.committed[r.view.committed.size() / 2]);
  const Verdict al = run_->Check("AL-LOSS", r);
  ExpectPass(al);
  ASSERT_FALSE(al.notes().empty());
  EXPECT_NE(al.notes()[0].find("1 duplicate"), std::string::npos) << al.ToString();
  ExpectFail(run_->Check("EO-OUT", r), "more than once");
  ExpectPass(run_->Check("LIVE", r));
}

TEST_F(AlteredRunTest, AReadOfStateUnlikeTheCapturedFailsRec) {
  RunRecord r = run_->record;
  // A keyed blob a restore read: one state value differing changes the checkers' digest of it.
  checkers::BlobRead* keyed = nullptr;
  for (checkers::BlobRead& read : r.recording.reads) {
    if (read.digest && keyed == nullptr) keyed = &read;
  }
  ASSERT_NE(keyed, nullptr);
  *keyed->digest ^= 1;
  const Verdict v = run_->Check("REC", r);
  ExpectFail(v, "restored state differs");
  EXPECT_EQ(v.first()->evidence.checkpoint_id, keyed->checkpoint);
  EXPECT_EQ(v.first()->evidence.blob, keyed->blob);
  ExpectPass(run_->Check("DUR", r));
}

TEST_F(AlteredRunTest, RecDoesNotTrustTheDigestsTheEngineReports) {
  RunRecord r = run_->record;
  // The engine reporting a restored digest unlike the recorded one says nothing REC relies on:
  // REC computes the digest of what each restore read itself.
  ASSERT_FALSE(r.recording.restores_finished.empty());
  for (checkers::RestoreFinishedRecord& f : r.recording.restores_finished) f.digest_restored ^= 1;
  ExpectPass(run_->Check("REC", r));
}

TEST_F(AlteredRunTest, ARestoreThatReadAnOlderCheckpointFailsRec) {
  RunRecord r = run_->record;
  // The engine's events say the latest checkpoint was restored; the blobs read say otherwise.
  size_t altered = 0;
  for (checkers::BlobRead& read : r.recording.reads) {
    if (read.attempt < 2 || read.checkpoint < 2) continue;
    read.checkpoint -= 1;
    ++altered;
  }
  ASSERT_GT(altered, 0u);
  const Verdict v = run_->Check("REC", r);
  ExpectFail(v, "did not restore the latest completed checkpoint");
  EXPECT_NE(v.first()->evidence.detail.find("it read checkpoints/chk-"), std::string::npos)
      << v.first()->evidence.detail;
}

TEST_F(AlteredRunTest, ARestoreOfAnOlderCheckpointFailsRec) {
  RunRecord r = run_->record;
  ASSERT_GT(r.recording.deployments.size(), 1u);
  r.recording.deployments[1].checkpoint -= 1;
  ExpectFail(run_->Check("REC", r), "did not restore the latest completed checkpoint");
}

TEST_F(AlteredRunTest, ADeletedOrRewrittenBlobFailsDur) {
  const RunRecord& clean = run_->record;
  ASSERT_TRUE(clean.pointer.has_value());
  // A blob the retained checkpoint references, deleted from the store's contents...
  const checkers::Bytes& metadata = clean.view.blobs->at(clean.pointer->latest_metadata_blob);
  const checkers::CheckpointBlobs blobs =
      checkers::ReadCheckpointBlobs(metadata, clean.pointer->latest_metadata_blob).value();
  ASSERT_FALSE(blobs.referenced.empty());
  const std::string victim = blobs.referenced.front();
  {
    checkers::BlobMap without = *clean.view.blobs;
    without.erase(victim);
    RunRecord r = clean;
    r.view.blobs = &without;
    const Verdict v = run_->Check("DUR", r);
    ExpectFail(v, "gone or altered");
    EXPECT_EQ(v.first()->evidence.blob, victim);
  }
  // ... or rewritten (one byte flipped: its checksum no longer matches) ...
  {
    checkers::BlobMap flipped = *clean.view.blobs;
    flipped.at(victim).back() ^= 0x01;
    RunRecord r = clean;
    r.view.blobs = &flipped;
    ExpectFail(run_->Check("DUR", r), "gone or altered");
  }
  // ... or missing from the recorder's view at a completion, or deleted while retained.
  {
    RunRecord r = clean;
    r.recording.completions[0].blobs[0].present = false;
    const Verdict v = run_->Check("DUR", r);
    ExpectFail(v, "not durable");
    EXPECT_EQ(v.first()->evidence.checkpoint_id, r.recording.completions[0].checkpoint);
  }
  {
    RunRecord r = clean;
    r.recording.retained_touches.push_back(
        checkers::RetainedBlobTouch{r.end, sim::ServiceOp::kDelete, victim, blobs.checkpoint, 1});
    ExpectFail(run_->Check("DUR", r), "deleted a blob a retained checkpoint references");
  }
}

TEST_F(AlteredRunTest, TwoRecordsOfAChannelSwappedFailEoOut) {
  RunRecord r = run_->record;
  // The keyed task sum+out#0 (task 4) of the first attempt: two records of one input channel.
  const checkers::AttemptLog* log =
      run_->log.Find(4, run_->record.recording.deployments[0].attempt);
  ASSERT_NE(log, nullptr);
  auto& processed = const_cast<checkers::AttemptLog*>(log)->processed;
  size_t a = 0;
  size_t b = 0;
  for (size_t i = 1; i < processed.size() && b == 0; ++i) {
    if (processed[i].input == processed[0].input) b = i;
  }
  ASSERT_NE(b, 0u);
  std::swap(processed[a], processed[b]);
  const Verdict v = run_->Check("EO-OUT", r);
  std::swap(processed[a], processed[b]);
  ExpectFail(v, "");
  ExpectPass(run_->Check("AL-LOSS", r));
}

TEST_F(AlteredRunTest, TransactionsAlteredFailTxn) {
  const RunRecord& clean = run_->record;
  ASSERT_FALSE(clean.recording.completions.back().pending.empty());
  const std::string txn = clean.recording.completions.back().pending.front().txn;
  {
    RunRecord r = clean;
    r.txn_states[txn] = sim::TxnState::kPreCommitted;
    const Verdict v = run_->Check("TXN", r);
    ExpectFail(v, "never committed");
    EXPECT_EQ(v.first()->evidence.txn, txn);
  }
  {
    RunRecord r = clean;
    for (const checkers::ServiceCall& c : clean.recording.calls) {
      if (c.op == sim::ServiceOp::kCommit && c.ok()) {
        checkers::ServiceCall again = c;
        again.applied = r.end;
        r.recording.calls.push_back(again);
        break;
      }
    }
    ExpectFail(run_->Check("TXN", r), "committed more than once");
  }
  {
    RunRecord r = clean;
    checkers::CommittedRecord stray = r.view.committed.front();
    stray.txn = "out#0/attempt-9/txn-1";
    r.view.committed.push_back(stray);
    ExpectFail(run_->Check("TXN", r), "no completed checkpoint pre-committed");
  }
}

TEST_F(AlteredRunTest, NoProgressAfterFaultsStopFailsLive) {
  RunRecord r = run_->record;
  std::erase_if(r.recording.events, [&](const checkers::EngineEventRecord& e) {
    return (e.event == EngineEvent::kPointerMoved || e.event == EngineEvent::kJobFinished) &&
           e.time >= *r.quiet_from;
  });
  // Completions are the HA pointer's writes (not the engine's events): those go too.
  std::erase_if(r.recording.completions,
                [&](const checkers::CompletionRecord& c) { return c.time >= *r.quiet_from; });
  r.end = *r.quiet_from + checkers::LivenessBound(r.view.setup->config) + Duration::Seconds(1);
  ExpectFail(run_->Check("LIVE", r), "no checkpoint completed");
  r.status = engine::JobStatus::kFailed;
  r.failure = "gave up";
  ExpectFail(run_->Check("LIVE", r), "the job failed");
}

// Progress is records committed, not checkpoints (issue 11): the clean run with the output
// after the middle of the run held back for twice the liveness bound, while checkpoints go on
// completing. The old rule (a checkpoint completes within the bound) passed this run.
TEST_F(AlteredRunTest, CheckpointsCompletingWithoutCommitsFailLive) {
  RunRecord r = run_->record;
  const Duration bound = checkers::LivenessBound(r.view.setup->config);
  ASSERT_GT(r.view.committed.size(), 2u);
  const Time stall = r.view.committed[r.view.committed.size() / 2].visible_at;
  r.quiet_from = stall;
  size_t completions_in_stall = 0;
  for (const checkers::EngineEventRecord& e : r.recording.events) {
    if (e.event == EngineEvent::kPointerMoved && e.time > stall && e.time <= stall + bound) {
      ++completions_in_stall;
    }
  }
  ASSERT_GT(completions_in_stall, 0u) << "checkpoints must complete during the stall";
  const Duration hold = bound + bound;
  for (checkers::CommittedRecord& c : r.view.committed) {
    if (c.visible_at > stall) c.visible_at = c.visible_at + hold;
  }
  for (checkers::EngineEventRecord& e : r.recording.events) {
    if (e.event == EngineEvent::kJobFinished) e.time = e.time + hold;
  }
  r.end = r.end + hold;
  ExpectFail(run_->Check("LIVE", r), "committed output did not grow");
  // Held back less than the bound: progress.
  RunRecord brief = run_->record;
  brief.quiet_from = stall;
  for (checkers::CommittedRecord& c : brief.view.committed) {
    if (c.visible_at > stall) c.visible_at = c.visible_at + bound / 2;
  }
  ExpectPass(run_->Check("LIVE", brief));
  // The output after the middle never committed, the job still running at the end: a stall,
  // not only a job that did not finish.
  RunRecord running = run_->record;
  running.quiet_from = stall;
  std::erase_if(running.view.committed,
                [&](const checkers::CommittedRecord& c) { return c.visible_at > stall; });
  std::erase_if(running.recording.events, [](const checkers::EngineEventRecord& e) {
    return e.event == EngineEvent::kJobFinished;
  });
  running.status = engine::JobStatus::kRunning;
  running.end = stall + hold;
  ExpectFail(run_->Check("LIVE", running), "committed output did not grow");
  running.end = stall + bound / 2;  // ended within the bound: not judged
  const Verdict early = run_->Check("LIVE", running);
  EXPECT_EQ(early.outcome(), Verdict::Outcome::kInconclusive) << early.ToString();
}

TEST_F(AlteredRunTest, DetComparesTwoHashesAndNamesTheBuild) {
  RunRecord r = run_->record;
  r.trace_hashes = {{r.trace_hash, r.trace_hash ^ 1}};
  const Verdict v = run_->Check("DET", r);
  ExpectFail(v, "different trace hashes");
  EXPECT_NE(v.first()->evidence.detail.find(r.build_identity), std::string::npos);
  r.trace_hashes.reset();
  const Verdict unjudged = run_->Check("DET", r);
  EXPECT_EQ(unjudged.outcome(), Verdict::Outcome::kInconclusive) << unjudged.ToString();
  EXPECT_EQ(unjudged.reasons(), std::vector<Unjudged>{Unjudged::kSecondRunNotMade});
}

// --- observing only ----------------------------------------------------------------------------

TEST(RecorderTest, LeavesTheTraceHashUnchanged) {
  Scenario with = CrashAfterAck();
  Scenario without = CrashAfterAck();
  without.record = false;
  const std::unique_ptr<CheckedRun> a = RunScenario(with);
  const std::unique_ptr<CheckedRun> b = RunScenario(without);
  EXPECT_EQ(a->jw->world().trace().hash(), b->jw->world().trace().hash());
  EXPECT_EQ(a->jw->world().trace().count(), b->jw->world().trace().count());
  EXPECT_FALSE(a->record.recording.events.empty());
}

// --- real faults -------------------------------------------------------------------------------

using Switch = bool engine::TeachingSwitches::*;

Scenario WithSwitch(Scenario s, Switch sw) {
  s.switches.*sw = true;
  return s;
}

// ack-before-upload: checkpoint 3's puts fail; the task acknowledges anyway.
Scenario FailedUploads() {
  Scenario s;
  s.fault = [] {
    return std::make_unique<Inject>(
        sim::FaultPoint::kBlobPut, "chk-3/",
        sim::FaultEffect{.error = UnavailableError("503"), .fault_name = "blob-write-error"});
  };
  return s;
}

TEST(RealFaultTest, AckBeforeUploadFailsDur) {
  const auto on =
      RunScenario(WithSwitch(FailedUploads(), &engine::TeachingSwitches::ack_before_upload));
  // Under the switch every checkpoint races its uploads: completions come before the puts land.
  ExpectFail(on->Check("DUR"), "not durable");
  const auto off = RunScenario(FailedUploads());
  ExpectPass(off->Check("DUR"));
  ExpectPass(off->Check("REC"));
  ExpectPass(off->Check("TXN"));
}

// skip-checksum: checkpoint 3's keyed blob of sum+out#0 is silently corrupted at upload, then
// the JobManager fails over and restores checkpoint 3. (One task's only: a corruption that does
// not even decode fails its restore, and the job, before the others' restores finish.)
Scenario CorruptCheckpoint3() {
  Scenario s;
  s.crash_when = [](const sim::TraceRecord& r) {
    return IsEngineEvent(r, EngineEvent::kPointerMoved, 3);
  };
  s.crash_job_manager = true;
  s.fault = [] {
    return std::make_unique<Inject>(
        sim::FaultPoint::kBlobPut, "chk-3/sum+out#0/",
        sim::FaultEffect{.corrupt = true, .corrupt_from_end = 8, .fault_name = "bit-rot"}, "",
        0xffffffffu, "/keyed");
  };
  s.limit = Duration::Seconds(30);
  return s;
}

TEST(RealFaultTest, SkipChecksumFailsRecAndAnInjectedCorruptionIsNotDursViolation) {
  const auto on =
      RunScenario(WithSwitch(CorruptCheckpoint3(), &engine::TeachingSwitches::skip_checksum));
  ASSERT_TRUE(on->crashed);
  ExpectFail(on->Check("REC"), "fails its checksum");
  const Verdict dur = on->Check("DUR");
  ExpectPass(dur);  // the corruption was injected
  EXPECT_FALSE(dur.notes().empty()) << dur.ToString();

  // Without the switch the engine refuses the blob, reports checkpoint 3 unreadable and fails
  // the job (policy fail): expected degradation, noted by REC and LIVE.
  const auto off = RunScenario(CorruptCheckpoint3());
  ASSERT_TRUE(off->crashed);
  const Verdict rec = off->Check("REC");
  ExpectPass(rec);
  // The job stopped (policy fail): LIVE cannot judge progress to the end of input.
  const Verdict live = off->Check("LIVE");
  EXPECT_EQ(live.outcome(), Verdict::Outcome::kInconclusive) << live.ToString();
  EXPECT_TRUE(live.Has(Unjudged::kJobNotFinished)) << live.ToString();
  ExpectPass(off->Check("DUR"));
}

// A put torn by an injected fault (it said OK, it stored a prefix) destroys the blob: not DUR's
// violation. The engine reports checkpoint 3 unreadable and stops (policy fail), which the
// injected fault explains (the soak counts it as explained, not against the engine).
TEST(RealFaultTest, AnInjectedTornWriteIsNotDursViolationAndExplainsTheStop) {
  Scenario s = CorruptCheckpoint3();
  s.fault = [] {
    return std::make_unique<Inject>(sim::FaultPoint::kBlobPut, "chk-3/",
                                    sim::FaultEffect{.torn = true, .fault_name = "torn"}, "",
                                    0xffffffffu, "/keyed");
  };
  const auto run = RunScenario(s);
  ASSERT_TRUE(run->crashed);
  const Verdict dur = run->Check("DUR");
  ExpectPass(dur);
  ASSERT_FALSE(dur.notes().empty()) << dur.ToString();
  EXPECT_NE(dur.notes()[0].find("torn write"), std::string::npos) << dur.ToString();
  const Verdict live = run->Check("LIVE");
  EXPECT_TRUE(live.Has(Unjudged::kJobNotFinished)) << live.ToString();
  ASSERT_FALSE(live.unjudged().empty());
  EXPECT_NE(live.unjudged()[0].explained_by.find("checkpoint 3"), std::string::npos);
  EXPECT_TRUE(live.unexplained().empty()) << live.ToString();
}

// ORACLES.md's expected degradation, policy fallback: checkpoint 3's keyed state rots as it is
// written, the JobManager dies once 3 completed, recovery finds 3 unreadable and falls back to
// 2. What the fallback emits again is explained; nothing else is.
TEST(RealFaultTest, AReportedFallbackExplainsOnlyTheRecordsItEmitsAgain) {
  Scenario s = CorruptCheckpoint3();
  s.fallback = true;
  const auto run = RunScenario(s);
  ASSERT_TRUE(run->crashed);
  const std::vector<checkers::ReportedFallback> fallbacks =
      checkers::ReportedFallbacks(run->record.recording);
  ASSERT_EQ(fallbacks.size(), 1u);
  ASSERT_TRUE(fallbacks[0].destroyed_by_injection);
  ASSERT_EQ(fallbacks[0].fallback, 2u);
  ASSERT_TRUE(fallbacks[0].reemitted.has_value());
  const Verdict clean = run->Check("EO-OUT");
  ExpectPass(clean);
  ASSERT_FALSE(clean.notes().empty());
  EXPECT_NE(clean.notes()[0].find("emits again"), std::string::npos) << clean.ToString();

  // A committed record outside the re-emitted range, repeated or dropped: still a violation.
  // One inside it, committed once more: explained.
  const size_t none = run->record.view.committed.size();
  size_t outside = none;
  size_t inside = none;
  const checkers::SourceIndex index(run->record.view.sources);
  for (size_t i = 0; i < run->record.view.committed.size(); ++i) {
    const engine::Provenance& p = run->record.view.committed[i].record.provenance;
    std::optional<engine::RecordId> id = index.IdOf(p);
    if (p.count != 1 || !id) continue;
    (fallbacks[0].Reemits(*id) ? inside : outside) = i;
  }
  ASSERT_LT(outside, none);
  ASSERT_LT(inside, none);
  RunRecord again = run->record;
  again.view.committed.push_back(again.view.committed[inside]);
  ExpectPass(run->Check("EO-OUT", again));
  RunRecord repeated = run->record;
  repeated.view.committed.push_back(repeated.view.committed[outside]);
  ExpectFail(run->Check("EO-OUT", repeated), "reflected more than once");
  RunRecord dropped = run->record;
  dropped.view.committed.erase(dropped.view.committed.begin() +
                               static_cast<std::ptrdiff_t>(outside));
  ExpectFail(run->Check("EO-OUT", dropped), "missing");

  // A fault that only delayed the writes destroyed nothing: the fallback explains nothing, and
  // REC fails the engine for reporting a readable checkpoint unreadable.
  RunRecord delayed = again;
  for (checkers::InjectedFault& f : delayed.recording.faults) f.effect = sim::kEffectDelay;
  ExpectFail(run->Check("EO-OUT", delayed), "reflected more than once");
  ExpectFail(run->Check("REC", delayed), "no injected fault destroyed it");

  // The range unknown (checkpoint 3's source offsets unread): duplicates are not judged.
  RunRecord unknown = again;
  for (checkers::CompletionRecord& c : unknown.recording.completions) c.source_offsets.reset();
  const Verdict unjudged = run->Check("EO-OUT", unknown);
  EXPECT_EQ(unjudged.outcome(), Verdict::Outcome::kInconclusive) << unjudged.ToString();
  EXPECT_TRUE(unjudged.Has(Unjudged::kCheckpointSkipped)) << unjudged.ToString();
}

TEST(RealFaultTest, RestoreLatestAttemptFailsRec) {
  const auto on =
      RunScenario(WithSwitch(CrashAfterAck(), &engine::TeachingSwitches::restore_latest_attempt));
  ASSERT_TRUE(on->crashed);
  ExpectFail(on->Check("REC"), "did not restore the latest completed checkpoint");
}

// A TaskManager dies at its sinks' sixth commit request; restored sinks commit again.
Scenario CrashAtSinkCommit() {
  Scenario s;
  s.crash_when = [commits = std::make_shared<int>(0)](const sim::TraceRecord& r) {
    return r.kind == sim::TraceKind::kServiceRequest &&
           r.args[1] == static_cast<int64_t>(sim::ServiceOp::kCommit) && ++*commits == 6;
  };
  return s;
}

TEST(RealFaultTest, RecommitAfterRestoreFailsTxn) {
  const auto on = RunScenario(
      WithSwitch(CrashAtSinkCommit(), &engine::TeachingSwitches::recommit_after_restore));
  ASSERT_TRUE(on->crashed);
  ExpectFail(on->Check("TXN"), "committed more than once");
  const auto off = RunScenario(CrashAtSinkCommit());
  ASSERT_TRUE(off->crashed);
  ExpectPass(off->Check("TXN"));
  ExpectPass(off->Check("REC"));
}

// no-fencing: node 1's commits take 12 s to land and node 1 dies at its first.
Scenario ZombieCommit() {
  Scenario s;
  s.crash_when = [](const sim::TraceRecord& r) {
    return r.kind == sim::TraceKind::kServiceRequest && r.node == 1 &&
           r.args[1] == static_cast<int64_t>(sim::ServiceOp::kCommit);
  };
  s.fault = [] {
    return std::make_unique<Inject>(
        sim::FaultPoint::kOutputWrite, "/attempt-1/",
        sim::FaultEffect{.extra_delay = Duration::Seconds(12), .fault_name = "slow-commit"},
        "commit", /*node=*/1);
  };
  return s;
}

TEST(RealFaultTest, NoFencingFailsTxn) {
  const auto on = RunScenario(WithSwitch(ZombieCommit(), &engine::TeachingSwitches::no_fencing));
  ASSERT_TRUE(on->crashed);
  const Verdict v = on->Check("TXN");
  ASSERT_TRUE(v.violated()) << "no-fencing went unnoticed";
  std::cout << v.ToString() << "\n";
  const auto off = RunScenario(ZombieCommit());
  ASSERT_TRUE(off->crashed);
  // The restored sinks commit the recovered transactions (12 s late) before their tasks run, so
  // no checkpoint waits behind them and expires: the job finishes, exactly once.
  ASSERT_EQ(off->status, engine::JobStatus::kFinished);
  ExpectPass(off->Check("TXN"));
}

TEST(RealFaultTest, CommitOnSnapshotFailsTxn) {
  const auto on =
      RunScenario(WithSwitch(CrashAfterAck(), &engine::TeachingSwitches::commit_on_snapshot));
  ASSERT_TRUE(on->crashed);
  ExpectFail(on->Check("TXN"), "");
}

// drop-subsumed-commit: two checkpoints in flight, 3's upload slowed so 4 completes first.
TEST(RealFaultTest, DropSubsumedCommitFailsTxn) {
  Scenario s;
  s.max_concurrent = 2;
  s.interval = Duration::Millis(200);
  s.fault = [] {
    return std::make_unique<Inject>(
        sim::FaultPoint::kBlobPut, "chk-3/",
        sim::FaultEffect{.extra_delay = Duration::Millis(600), .fault_name = "slow-upload"});
  };
  const auto on = RunScenario(WithSwitch(s, &engine::TeachingSwitches::drop_subsumed_commit));
  ExpectFail(on->Check("TXN"), "never committed");
  const auto off = RunScenario(s);
  ExpectPass(off->Check("TXN"));
  ExpectPass(off->Check("LIVE"));
}

}  // namespace
}  // namespace faultline
