// Savepoints (scenarios/library/savepoint_*): intermediate and stop-with-savepoint, each resumed
// at another parallelism and on the other state backend, in claim and no-claim mode. The output
// is judged by a rule that holds whatever the interleaving (as tests/rescale_test.cc): with a
// counting aggregate and a two-phase-commit sink, the committed values of key k are exactly
// 1..n(k), each once. A savepoint whose state, offsets or transactions the resumed job misread
// breaks it; so would an intermediate savepoint that committed (it is no restore point).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "checkers/checker.h"
#include "checkers/recorder.h"
#include "checkers/registry.h"
#include "checkers/stored_message.h"
#include "engine/exec/cluster.h"
#include "engine/exec/events.h"
#include "engine/proto/checkpoint.pb.h"
#include "scenarios/runner.h"
#include "tests/support/counting_rule.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

using scenarios::proto::Savepoint;
using scenarios::proto::Scenario;

constexpr uint64_t kSavepointId = 4;  // checkpoint 3 completes, then the savepoint takes id 4

Savepoint* SavepointEntry(Scenario& s) {
  for (scenarios::proto::Fault& f : *s.mutable_faults()) {
    if (f.has_savepoint()) return f.mutable_savepoint();
  }
  ADD_FAILURE() << "no savepoint entry";
  return s.add_faults()->mutable_savepoint();
}

struct ResumeCase {
  std::string name;
  std::string file;
  bool stop = false;
  uint32_t parallelism = 0;  // of the resumed job (0: unchanged)
  Savepoint::Backend backend = Savepoint::UNCHANGED;
  std::string backend_name;  // JobSetup::BackendOf the resumed generation
  uint32_t expected_parallelism = 4;
};

class SavepointResumeTest : public ::testing::TestWithParam<ResumeCase> {};

TEST_P(SavepointResumeTest, EveryInputRecordCountedOnceAfterTheResume) {
  const ResumeCase& c = GetParam();
  std::unique_ptr<testing_support::LibraryRun> run =
      testing_support::RunLibrary(FAULTLINE_SCENARIO_LIBRARY_DIR, c.file, {}, [&c](Scenario& s) {
        s.mutable_job()->mutable_operators(3)->mutable_aggregate()->set_function("count");
        Savepoint* sp = SavepointEntry(s);
        sp->set_stop(c.stop);
        sp->set_resume(true);
        sp->set_parallelism(c.parallelism);
        sp->set_backend(c.backend);
      });
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const std::vector<checkers::RestoreRecord>& deployments = run->recorder->recording().deployments;
  ASSERT_GE(deployments.size(), 3u);  // the job, the resumed job, the failover after the crash
  EXPECT_EQ(deployments.front().generation, 0u);
  // The resumed job restores the savepoint at the generation asked for.
  EXPECT_EQ(deployments[1].checkpoint, kSavepointId);
  const engine::JobSetup& setup = run->jw->setup();
  const uint32_t generation = deployments[1].generation;
  EXPECT_EQ(setup.BackendOf(generation), c.backend_name);
  EXPECT_EQ(setup.JobOf(generation).operators.back().parallelism, c.expected_parallelism);
  EXPECT_EQ(deployments.back().generation, generation);
  bool resumed = false;
  for (const checkers::EngineEventRecord& e : run->recorder->recording().events) {
    if (e.event != engine::EngineEvent::kJobResumed) continue;
    resumed = true;
    EXPECT_EQ(e.detail, engine::SavepointMetadataBlobName(kSavepointId));
  }
  EXPECT_TRUE(resumed);
  testing_support::ExpectEveryInputCountedOnce(run->View(), 200);  // keys: 200
}

INSTANTIATE_TEST_SUITE_P(
    Library, SavepointResumeTest,
    ::testing::Values(
        // The acceptance case: a savepoint taken on the heap, resumed on RocksDB at parallelism 2.
        ResumeCase{"StopHeapToRocksDbAt2", "savepoint_stop_resume.textproto", true, 2,
                   Savepoint::ROCKSDB, "rocksdb", 2},
        ResumeCase{"IntermediateHeapToRocksDbAt2", "savepoint_stop_resume.textproto", false, 2,
                   Savepoint::ROCKSDB, "rocksdb", 2},
        ResumeCase{"StopHeapToIncrementalAt8", "savepoint_stop_resume.textproto", true, 8,
                   Savepoint::ROCKSDB_INCREMENTAL, "rocksdb-incremental", 8},
        ResumeCase{"IntermediateIncrementalToHeap", "savepoint_claim_backend_switch.textproto",
                   false, 0, Savepoint::HEAP, "heap", 4},
        ResumeCase{"StopIncrementalToHeapAt3", "savepoint_claim_backend_switch.textproto", true, 3,
                   Savepoint::HEAP, "heap", 3},
        ResumeCase{"IntermediateIncrementalUnchangedAt2",
                   "savepoint_claim_backend_switch.textproto", false, 2, Savepoint::UNCHANGED, "",
                   2}),
    [](const ::testing::TestParamInfo<ResumeCase>& param_info) { return param_info.param.name; });

bool Stored(const testing_support::LibraryRun& run, const std::string& blob) {
  return run.jw->world().blob_store().objects().contains(blob);
}

// No-claim: the savepoint stays the user's; claim: the job owns it and deletes it once the
// first checkpoint after it subsumes it (one retained checkpoint).
TEST(SavepointTest, NoClaimKeepsTheSavepointClaimDeletesItOnceSubsumed) {
  const std::string metadata = engine::SavepointMetadataBlobName(kSavepointId);
  for (const bool claim : {false, true}) {
    std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
        FAULTLINE_SCENARIO_LIBRARY_DIR, "savepoint_claim_backend_switch.textproto", {},
        [claim](Scenario& s) { SavepointEntry(s)->set_claim(claim); });
    ASSERT_EQ(run->status, engine::JobStatus::kFinished);
    EXPECT_EQ(Stored(*run, metadata), !claim) << "claim " << claim;
    size_t savepoint_blobs = 0;
    for (const auto& [name, bytes] : run->jw->world().blob_store().objects()) {
      if (name.starts_with(engine::kSavepointPrefix)) ++savepoint_blobs;
    }
    EXPECT_EQ(savepoint_blobs > 0, !claim) << "claim " << claim;
  }
}

// A savepoint is canonical: the first incremental checkpoint after a resume uploads every file
// it names (none is reused, none is the savepoint's), so it is a full one.
TEST(SavepointTest, FirstCheckpointAfterTheResumeSharesNoFileWithTheSavepoint) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "savepoint_claim_backend_switch.textproto", {},
      [](Scenario& s) {
        SavepointEntry(s)->set_backend(Savepoint::UNCHANGED);  // stays on incremental RocksDB
        SavepointEntry(s)->set_claim(false);
        s.mutable_checkpointing()->set_retained(3);
      });
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView view = run->View();
  const checkers::SentBlobs sent(view);
  // The first checkpoint the resumed job completed.
  uint64_t first = 0;
  for (const checkers::EngineEventRecord& e : run->recorder->recording().events) {
    if (e.event == engine::EngineEvent::kPointerMoved && e.args.checkpoint.value() > 4) {
      first = static_cast<uint64_t>(e.args.checkpoint.value());
      break;
    }
  }
  ASSERT_GT(first, kSavepointId);
  const std::string name = engine::MetadataBlobName(first);
  const checkers::Bytes* bytes = sent.Find(name, 0, 0);
  ASSERT_NE(bytes, nullptr);
  Result<engine::proto::CheckpointMetadata> metadata = checkers::ReadMetadataBlob(*bytes, name);
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  size_t shared = 0;
  const std::string uploaded_by = "/chk-" + std::to_string(first) + "-";
  for (const std::string& blob : metadata->referenced_blobs()) {
    EXPECT_FALSE(blob.starts_with(engine::kSavepointPrefix)) << blob;
    if (!blob.starts_with(engine::kSharedStatePrefix)) continue;
    ++shared;
    EXPECT_NE(blob.find(uploaded_by), std::string::npos) << blob << " reused from before";
  }
  EXPECT_GT(shared, 0u);
}

scenarios::Scenario LoadLibrary(const std::string& file) {
  Result<scenarios::Scenario> s =
      scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/" + file);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

// A stop-with-savepoint without a resume ends the job: its output is committed up to the
// savepoint and no further, and the checkers judge it over the input before the savepoint.
TEST(SavepointTest, StopWithoutResumeCommitsExactlyTheInputBeforeTheSavepoint) {
  scenarios::Scenario s = LoadLibrary("savepoint_stop_resume.textproto");
  Savepoint* sp = SavepointEntry(s.spec);
  sp->set_resume(false);
  sp->set_parallelism(0);
  sp->set_backend(Savepoint::UNCHANGED);
  s.spec.mutable_faults()->RemoveLast();  // the crash after the resume
  s.spec.mutable_expect()->set_verdict(scenarios::proto::Expectation::PASS);
  Result<scenarios::RunReport> report = scenarios::RunScenario(s, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->as_expected()) << scenarios::FormatReport(*report);
  EXPECT_GT(report->committed_records, 0u);
  EXPECT_LT(report->committed_records, report->source_records);
}

// The stopped run's cut is what makes it judgeable: one committed record dropped is missing.
TEST(SavepointTest, StoppedRunMissingACommittedRecordIsAViolation) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "savepoint_stop_resume.textproto", {}, [](Scenario& s) {
        Savepoint* sp = SavepointEntry(s);
        sp->set_resume(false);
        sp->set_parallelism(0);
        sp->set_backend(Savepoint::UNCHANGED);
        s.mutable_faults()->RemoveLast();
      });
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  Result<checkers::RunRecord> record = checkers::RecordRun(*run->jw, *run->recorder, &run->log);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->view.stopped_with_savepoint, kSavepointId);
  EXPECT_EQ(record->view.sources.size(), record->view.committed.size());
  const checkers::Verdict held = checkers::CheckExactlyOnceOutputRule(*record);
  EXPECT_FALSE(held.violated()) << held.ToString();
  record->view.committed.pop_back();
  const checkers::Verdict broken = checkers::CheckExactlyOnceOutputRule(*record);
  EXPECT_TRUE(broken.violated()) << broken.ToString();
}

// A stop-with-savepoint whose upload fails fails the job over (FLINK-21030): the stopped sources
// run again and the job finishes, exactly once.
TEST(SavepointTest, FailedStopWithSavepointFailsTheJobOver) {
  scenarios::Scenario s = LoadLibrary("savepoint_stop_resume.textproto");
  scenarios::proto::Fault* error = s.spec.add_faults();
  error->set_name("savepoint-uploads-fail");
  error->mutable_trigger()->set_at("0s");
  error->mutable_blob_write_error()->mutable_scope()->set_target_prefix("savepoints/");
  error->mutable_blob_write_error()->mutable_scope()->set_count(1000);
  s.spec.mutable_faults()->DeleteSubrange(1, 1);  // the crash after the resume
  s.spec.mutable_expect()->set_verdict(scenarios::proto::Expectation::PASS);
  Result<scenarios::RunReport> report = scenarios::RunScenario(s, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->as_expected()) << scenarios::FormatReport(*report);
  EXPECT_EQ(report->committed_records, report->source_records);
  bool failed = false;
  for (const scenarios::CheckpointRecord& c : report->checkpoints) {
    if (c.savepoint) failed = c.outcome == scenarios::CheckpointRecord::Outcome::kAborted;
  }
  EXPECT_TRUE(failed);
  ASSERT_FALSE(report->recoveries.empty());
  EXPECT_NE(report->recoveries.front().reason.find("stop-with-savepoint"), std::string::npos)
      << report->recoveries.front().reason;
}

// DUR: a savepoint no job claimed must be whole at the end; one deleted is a violation.
TEST(SavepointTest, DurCatchesAnUnclaimedSavepointDeleted) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "savepoint_stop_resume.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  Result<checkers::RunRecord> record = checkers::RecordRun(*run->jw, *run->recorder, &run->log);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  const checkers::Verdict whole = checkers::CheckDurability(*record);
  EXPECT_FALSE(whole.violated()) << whole.ToString();
  checkers::BlobMap without = *record->view.blobs;
  size_t erased = std::erase_if(without, [](const auto& entry) {
    return entry.first.starts_with(engine::SavepointDirectory(kSavepointId) + "/") &&
           entry.first.ends_with("/keyed");
  });
  ASSERT_GT(erased, 0u);
  record->view.blobs = &without;
  const checkers::Verdict broken = checkers::CheckDurability(*record);
  EXPECT_TRUE(broken.violated()) << broken.ToString();
}

// Refused where it cannot be taken: unaligned checkpoints, or resume settings without a resume.
TEST(SavepointTest, ScenarioValidationRefusesWhatCannotWork) {
  scenarios::Scenario s = LoadLibrary("savepoint_stop_resume.textproto");
  scenarios::proto::Scenario unaligned = s.spec;
  unaligned.mutable_checkpointing()->set_mode(scenarios::proto::Checkpointing::UNALIGNED);
  Status refused = scenarios::ValidateScenario(unaligned);
  EXPECT_NE(refused.ToString().find("faults[0].savepoint: savepoints are aligned"),
            std::string::npos)
      << refused.ToString();
  scenarios::proto::Scenario stray = s.spec;
  SavepointEntry(stray)->set_resume(false);
  refused = scenarios::ValidateScenario(stray);
  EXPECT_NE(refused.ToString().find("faults[0].savepoint.parallelism: only a resume uses it"),
            std::string::npos)
      << refused.ToString();
}

}  // namespace
}  // namespace faultline
