// EO-CUT judges every checkpoint the engine wrote, through the blob store's tombstone view, and
// unaligned checkpoints with their channel state. Real library runs, altered after the fact:
//  - a checkpoint that cleanup deleted (retained = 1) with one source offset moved is caught, and
//    the same alteration is invisible to a checker that reads only the live store (the old one);
//  - a clean unaligned run under back-pressure persists in-flight records and passes, judged;
//  - one in-flight record dropped from a persisted channel-state blob is caught, naming it;
//  - one in-flight record persisted twice is caught, naming it.
// The tombstone view never changes a trace hash (the golden file pins them; here: two runs).
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checkers/eo_cut.h"
#include "checkers/eo_out.h"
#include "checkers/order_log.h"
#include "checkers/run_view.h"
#include "engine/checkpoint/metadata.h"
#include "engine/exec/config.h"
#include "engine/exec/snapshot.h"
#include "engine/exec/wire.h"
#include "engine/proto/checkpoint.pb.h"
#include "simulator/job_world.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

using checkers::Bytes;
using checkers::Verdict;

using testing_support::LibraryRun;

std::unique_ptr<LibraryRun> RunLibrary(const std::string& file) {
  return testing_support::RunLibrary(FAULTLINE_SCENARIO_LIBRARY_DIR, file);
}

size_t MetadataIn(const checkers::BlobMap& blobs) {
  size_t n = 0;
  for (const auto& [name, bytes] : blobs) n += name.ends_with("/_metadata") ? 1u : 0u;
  return n;
}

TEST(EveryCheckpointTest, ADeletedCheckpointWithAMovedOffsetIsCaught) {
  std::unique_ptr<LibraryRun> run = RunLibrary("happy_aligned.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView clean = run->View();
  ASSERT_EQ(MetadataIn(*clean.blobs), 1u) << "cleanup retains one checkpoint";
  const Verdict passed = checkers::CheckConsistentCuts(clean);
  EXPECT_TRUE(passed.passed()) << passed.ToString();

  // Checkpoint 2's source offsets, deleted by cleanup: one partition's offset moves up by one,
  // so the cut claims a record no keyed snapshot reflects.
  sim::BlobHistory altered = *clean.history;
  Bytes* source = nullptr;
  for (auto& [name, version] : altered.archive) {
    if (name.starts_with("checkpoints/chk-2/") && name.ends_with("/source")) {
      EXPECT_EQ(version.fate, sim::BlobFate::kDeleted) << name;
      source = &version.bytes;
      break;
    }
  }
  ASSERT_NE(source, nullptr) << "checkpoint 2's source blob is not in the tombstone view";
  std::vector<engine::SourceCursorState> cursors = engine::DecodeSourceState(*source).value();
  ASSERT_FALSE(cursors.empty());
  const engine::RecordId moved{0, cursors[0].partition, cursors[0].offset};
  cursors[0].offset += 1;
  *source = engine::EncodeSourceState(cursors);

  checkers::RunView view = clean;
  view.history = &altered;
  const Verdict caught = checkers::CheckConsistentCuts(view);
  ASSERT_TRUE(caught.violated()) << caught.ToString();
  const checkers::Violation& v = *caught.first();
  EXPECT_EQ(v.evidence.checkpoint_id, 2u) << caught.ToString();
  EXPECT_NE(v.what.find("provenance differs"), std::string::npos) << caught.ToString();
  ASSERT_TRUE(v.evidence.record.has_value()) << caught.ToString();
  EXPECT_EQ(v.evidence.record->partition, moved.partition) << caught.ToString();
  EXPECT_EQ(v.evidence.record->offset, moved.offset) << caught.ToString();

  // The old checker read only the live store: the deleted checkpoint, altered, goes unseen.
  checkers::RunView live_only = view;
  live_only.history = nullptr;
  EXPECT_TRUE(checkers::CheckConsistentCuts(live_only).passed());
}

// (checkpoint, channel-state blob, records it holds) of every channel-state handle written.
struct ChannelBlob {
  uint64_t checkpoint = 0;
  std::string name;
  size_t records = 0;
};

std::vector<ChannelBlob> ChannelBlobs(const checkers::RunView& view) {
  std::vector<ChannelBlob> out;
  const checkers::SentBlobs sent(view);
  for (const checkers::SentBlobs::Version& v : sent.Versions("checkpoints/chk-")) {
    if (!v.name.ends_with("/_metadata")) continue;
    const engine::proto::CheckpointMetadata m =
        engine::DecodeMetadata(*v.bytes, std::string(v.name)).value();
    for (const auto& op : m.operators()) {
      for (const auto& sub : op.subtasks()) {
        for (const auto* side : {&sub.input_channel_state(), &sub.output_channel_state()}) {
          for (const auto& h : *side) {
            const Bytes* blob = sent.Find(h.blob_name(), h.checksum(), h.size_bytes());
            EXPECT_NE(blob, nullptr) << h.blob_name();
            size_t records = 0;
            const auto buffers = engine::DecodeChannelState(*blob).value();
            for (const auto& [channel, buffer] : buffers) {
              if (engine::PeekType(buffer).value() == engine::BufferType::kRecords) {
                records += engine::CheckRecords(buffer).value();
              }
            }
            out.push_back(ChannelBlob{m.checkpoint_id(), h.blob_name(), records});
          }
        }
      }
    }
  }
  return out;
}

// `bytes` without the first record of its first non-empty records buffer; that record.
engine::Record DropFirstRecord(Bytes& bytes) {
  std::vector<std::pair<uint32_t, Bytes>> buffers = engine::DecodeChannelState(bytes).value();
  for (auto& [channel, buffer] : buffers) {
    if (engine::PeekType(buffer).value() != engine::BufferType::kRecords) continue;
    const uint32_t count = engine::CheckRecords(buffer).value();
    if (count == 0) continue;
    size_t at = engine::kRecordsHeaderBytes;
    const engine::Record dropped = engine::ReadRecord(buffer, at).value();
    engine::Buffer rest;
    engine::BeginRecords(rest);
    for (uint32_t i = 1; i < count; ++i) {
      engine::AppendRecord(rest, engine::ReadRecord(buffer, at).value());
    }
    engine::FinishRecords(rest, count - 1);
    buffer = std::move(rest);
    bytes = engine::EncodeChannelState(buffers);
    return dropped;
  }
  ADD_FAILURE() << "no record in the blob";
  return {};
}

// `bytes` with the first record of its first non-empty records buffer persisted twice; that
// record.
engine::Record DuplicateFirstRecord(Bytes& bytes) {
  std::vector<std::pair<uint32_t, Bytes>> buffers = engine::DecodeChannelState(bytes).value();
  for (auto& [channel, buffer] : buffers) {
    if (engine::PeekType(buffer).value() != engine::BufferType::kRecords) continue;
    const uint32_t count = engine::CheckRecords(buffer).value();
    if (count == 0) continue;
    size_t at = engine::kRecordsHeaderBytes;
    const engine::Record twice = engine::ReadRecord(buffer, at).value();
    engine::Buffer more;
    engine::BeginRecords(more);
    engine::AppendRecord(more, twice);
    engine::AppendRecord(more, twice);
    for (uint32_t i = 1; i < count; ++i) {
      engine::AppendRecord(more, engine::ReadRecord(buffer, at).value());
    }
    engine::FinishRecords(more, count + 1);
    buffer = std::move(more);
    bytes = engine::EncodeChannelState(buffers);
    return twice;
  }
  ADD_FAILURE() << "no record in the blob";
  return {};
}

TEST(ChannelStateCutTest, ACleanUnalignedRunPersistsInFlightRecordsAndPassesJudged) {
  std::unique_ptr<LibraryRun> run = RunLibrary("backpressure_unaligned.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView view = run->View();
  size_t records = 0;
  for (const ChannelBlob& b : ChannelBlobs(view)) records += b.records;
  EXPECT_GT(records, 0u) << "back-pressure leaves records in flight at the barriers";
  const Verdict verdict = checkers::CheckConsistentCuts(view);
  EXPECT_TRUE(verdict.passed()) << verdict.ToString();
  EXPECT_TRUE(verdict.judged()) << verdict.ToString();

  std::unique_ptr<LibraryRun> again = RunLibrary("backpressure_unaligned.textproto");
  EXPECT_EQ(run->jw->world().trace().hash(), again->jw->world().trace().hash());
}

TEST(ChannelStateCutTest, AnInFlightRecordDroppedFromChannelStateIsCaught) {
  std::unique_ptr<LibraryRun> run = RunLibrary("backpressure_unaligned.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView clean = run->View();
  std::optional<ChannelBlob> victim;
  for (const ChannelBlob& b : ChannelBlobs(clean)) {
    if (b.records > 0) {
      victim = b;
      break;
    }
  }
  ASSERT_TRUE(victim.has_value()) << "no channel-state blob holds a record";

  checkers::BlobMap live = *clean.blobs;
  sim::BlobHistory history = *clean.history;
  Bytes* bytes = nullptr;
  if (auto it = live.find(victim->name); it != live.end()) bytes = &it->second;
  if (auto it = history.archive.find(victim->name); it != history.archive.end()) {
    bytes = &it->second.bytes;
  }
  ASSERT_NE(bytes, nullptr);
  const engine::Record dropped = DropFirstRecord(*bytes);
  checkers::RunView view = clean;
  view.blobs = &live;
  view.history = &history;

  const Verdict caught = checkers::CheckConsistentCuts(view);
  ASSERT_TRUE(caught.violated()) << caught.ToString();
  const checkers::Violation& v = *caught.first();
  EXPECT_EQ(v.evidence.checkpoint_id, victim->checkpoint) << caught.ToString();
  EXPECT_NE(v.what.find("provenance differs"), std::string::npos) << caught.ToString();
  ASSERT_TRUE(v.evidence.record.has_value()) << caught.ToString();
  EXPECT_EQ(v.evidence.record->Hash(), dropped.provenance.hash_sum) << caught.ToString();
  EXPECT_EQ(caught.further_violations(), 0u)
      << "one dropped record, one key: " << caught.ToString();
}

// One in-flight record persisted twice: the reference delivers it there once, so the second
// copy has nothing to take out (EO-CUT counts copies by the reference, since behind broadcast
// edges one record may legitimately be in flight more than once).
TEST(ChannelStateCutTest, AnInFlightRecordPersistedTwiceIsCaught) {
  std::unique_ptr<LibraryRun> run = RunLibrary("backpressure_unaligned.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView clean = run->View();
  std::optional<ChannelBlob> victim;
  for (const ChannelBlob& b : ChannelBlobs(clean)) {
    if (b.records > 0) {
      victim = b;
      break;
    }
  }
  ASSERT_TRUE(victim.has_value()) << "no channel-state blob holds a record";
  checkers::BlobMap live = *clean.blobs;
  sim::BlobHistory history = *clean.history;
  Bytes* bytes = nullptr;
  if (auto it = live.find(victim->name); it != live.end()) bytes = &it->second;
  if (auto it = history.archive.find(victim->name); it != history.archive.end()) {
    bytes = &it->second.bytes;
  }
  ASSERT_NE(bytes, nullptr);
  const engine::Record twice = DuplicateFirstRecord(*bytes);
  checkers::RunView view = clean;
  view.blobs = &live;
  view.history = &history;

  const Verdict caught = checkers::CheckConsistentCuts(view);
  ASSERT_TRUE(caught.violated()) << caught.ToString();
  const checkers::Violation& v = *caught.first();
  EXPECT_EQ(v.what, "a checkpoint's channel state holds records outside its cut")
      << caught.ToString();
  EXPECT_EQ(v.evidence.checkpoint_id, victim->checkpoint) << caught.ToString();
  ASSERT_TRUE(v.evidence.record.has_value()) << caught.ToString();
  EXPECT_EQ(v.evidence.record->Hash(), twice.provenance.hash_sum) << caught.ToString();
}

// Channel state that cannot be read (here: a blob cut short in a copy of the run) leaves its
// checkpoint unjudged, with the reason: INCONCLUSIVE, never PASS.
TEST(ChannelStateCutTest, UnreadableChannelStateIsNotJudged) {
  std::unique_ptr<LibraryRun> run = RunLibrary("backpressure_unaligned.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView clean = run->View();
  std::vector<ChannelBlob> blobs = ChannelBlobs(clean);
  ASSERT_FALSE(blobs.empty());
  checkers::BlobMap live = *clean.blobs;
  sim::BlobHistory history = *clean.history;
  for (const ChannelBlob& b : blobs) {
    if (auto it = live.find(b.name); it != live.end()) it->second.resize(3);
    auto [from, to] = history.archive.equal_range(b.name);
    for (auto it = from; it != to; ++it) it->second.bytes.resize(3);
  }
  checkers::RunView view = clean;
  view.blobs = &live;
  view.history = &history;
  const Verdict v = checkers::CheckConsistentCuts(view);
  EXPECT_EQ(v.outcome(), Verdict::Outcome::kInconclusive) << v.ToString();
  EXPECT_TRUE(v.Has(checkers::Unjudged::kChannelStateNotJudged)) << v.ToString();
}

// A mistake planted in the engine through its test seam: one task's first persisted in-flight
// buffer with records is left out of its checkpoint's channel state (the task still processes
// it). No failure follows, so the output is right (EO-OUT passes); the checkpoint is not a
// consistent cut, and only a checker that judges channel state sees it.
TEST(ChannelStateCutTest, AnEngineThatPersistsTooLittleChannelStateIsCaught) {
  bool planted = false;
  auto plant = [&planted](engine::EngineConfig& config) {
    config.persisted_input_channels = [&planted](uint64_t,
                                                 std::vector<std::pair<uint32_t, Bytes>>& buffers) {
      for (auto it = buffers.begin(); it != buffers.end() && !planted; ++it) {
        if (engine::PeekType(it->second).value_or(engine::BufferType::kHandshake) ==
                engine::BufferType::kRecords &&
            engine::CheckRecords(it->second).value_or(0) > 0) {
          buffers.erase(it);
          planted = true;
          return;
        }
      }
    };
  };
  std::unique_ptr<LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "backpressure_unaligned.textproto", {}, {}, plant);
  ASSERT_TRUE(planted) << "no in-flight buffer was persisted";
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView view = run->View();
  const Verdict out = checkers::CheckExactlyOnceOutput(view);
  EXPECT_TRUE(out.passed()) << out.ToString();
  const Verdict cut = checkers::CheckConsistentCuts(view);
  ASSERT_TRUE(cut.violated()) << cut.ToString();
  EXPECT_NE(cut.first()->what.find("provenance differs"), std::string::npos) << cut.ToString();
}

}  // namespace
}  // namespace faultline
