// Incremental RocksDB checkpoints in whole jobs (scenarios/library/rocksdb_incremental_*): the
// shared-state registry keeps a shared file while any retained checkpoint references it, so
// checkpoints share files (also across a restore) and each references only stored blobs; concurrent
// checkpoints overlap; an aborted checkpoint whose new files were partly uploaded leaves no
// orphan behind (every stored checkpoint blob is referenced by a retained checkpoint).
#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/checkpoint/metadata.h"
#include "engine/exec/cluster.h"
#include "engine/exec/events.h"
#include "engine/exec/snapshot.h"
#include "engine/proto/checkpoint.pb.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

namespace proto = engine::proto;

// The retained checkpoints' metadata, as the HA pointer lists them.
std::vector<proto::CheckpointMetadata> Retained(sim::JobWorld& jw) {
  sim::World& world = jw.world();
  const runtime::VersionedValue pointer_value =
      world.ha_store().Peek(engine::HaPointerKey(jw.setup()));
  Result<proto::HaPointer> pointer =
      engine::DecodeHaPointer(pointer_value.value, engine::HaPointerKey(jw.setup()));
  EXPECT_TRUE(pointer.ok()) << pointer.status().ToString();
  std::vector<proto::CheckpointMetadata> out;
  if (!pointer.ok()) return out;
  for (const std::string& name : pointer->retained_metadata_blobs()) {
    const runtime::Bytes* bytes = world.blob_store().Peek(name);
    EXPECT_NE(bytes, nullptr) << name;
    if (bytes == nullptr) continue;
    Result<proto::CheckpointMetadata> metadata = engine::DecodeMetadata(*bytes, name);
    EXPECT_TRUE(metadata.ok()) << metadata.status().ToString();
    if (metadata.ok()) out.push_back(*metadata);
  }
  return out;
}

std::set<std::string> SharedOf(const proto::CheckpointMetadata& metadata) {
  std::set<std::string> out;
  for (const proto::OperatorState& op : metadata.operators()) {
    for (const proto::SubtaskState& sub : op.subtasks()) {
      for (const proto::StateHandle& h : sub.shared_state()) out.insert(h.blob_name());
    }
  }
  return out;
}

// The checkpoint that uploaded a shared file, from its name ".../chk-<n>-<file>".
uint64_t UploaderOf(const std::string& blob) {
  const size_t at = blob.rfind("/chk-");
  EXPECT_NE(at, std::string::npos) << blob;
  return at == std::string::npos ? 0 : std::stoull(blob.substr(at + 5));
}

TEST(RocksDbIncrementalJobTest, RetainedCheckpointsShareFilesAndReferenceOnlyStoredBlobs) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "rocksdb_incremental_compaction.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const std::vector<proto::CheckpointMetadata> retained = Retained(*run->jw);
  ASSERT_EQ(retained.size(), 2u);  // retained: 2
  // Every completed checkpoint's metadata, also of those cleaned up since (archived bytes).
  const sim::BlobStoreSim& store = run->jw->world().blob_store();
  std::map<uint64_t, std::set<std::string>> shared;  // checkpoint -> its shared files
  const auto add = [&shared](const std::string& name, const runtime::Bytes& bytes) {
    if (!name.ends_with("/_metadata")) return;
    Result<proto::CheckpointMetadata> metadata = engine::DecodeMetadata(bytes, name);
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    shared[metadata->checkpoint_id()] = SharedOf(*metadata);
  };
  for (const auto& [name, bytes] : store.objects()) add(name, bytes);
  for (const auto& [name, archived] : store.history().archive) add(name, archived.bytes);
  ASSERT_GT(shared.size(), 10u);
  size_t inherited = 0;  // references to a file an earlier checkpoint uploaded
  size_t compacted = 0;  // checkpoints referencing none of the previous one's files
  for (auto it = std::next(shared.begin()); it != shared.end(); ++it) {
    const std::set<std::string>& previous = std::prev(it)->second;
    size_t kept = 0;
    for (const std::string& blob : it->second) {
      if (UploaderOf(blob) < it->first) ++inherited;
      kept += previous.count(blob);
    }
    if (kept == 0) ++compacted;
  }
  EXPECT_GT(inherited, 10u) << "checkpoints did not share files";
  // After the restart (attempt 2), the restored databases are the restored checkpoint's files:
  // a checkpoint of attempt 2 reuses files attempt 1 uploaded.
  size_t reused_across_restart = 0;
  for (const auto& [id, blobs] : shared) {
    bool attempt_two = false;
    bool from_attempt_one = false;
    for (const std::string& blob : blobs) {
      attempt_two |= blob.find("/attempt-2/") != std::string::npos;
      from_attempt_one |= blob.find("/attempt-1/") != std::string::npos;
    }
    if (attempt_two && from_attempt_one) ++reused_across_restart;
  }
  EXPECT_GT(reused_across_restart, 0u);
  EXPECT_GT(compacted, 3u) << "compactions did not replace shared files";
  for (const proto::CheckpointMetadata& metadata : retained) {
    for (const std::string& blob : metadata.referenced_blobs()) {
      EXPECT_NE(run->jw->world().blob_store().Peek(blob), nullptr)
          << "checkpoint " << metadata.checkpoint_id() << " references " << blob
          << ", which is not stored";
    }
  }
  // Two checkpoints were in flight at once at some point (max_concurrent: 2).
  std::map<int64_t, Time> triggered;
  std::map<int64_t, Time> ended;
  for (const checkers::EngineEventRecord& e : run->recorder->recording().events) {
    const int64_t id = e.args.checkpoint.value_or(0);
    if (e.event == engine::EngineEvent::kTriggered) triggered.try_emplace(id, e.time);
    if (e.event == engine::EngineEvent::kPointerMoved ||
        e.event == engine::EngineEvent::kCheckpointAborted) {
      ended.try_emplace(id, e.time);
    }
  }
  size_t overlapping = 0;
  for (const auto& [id, at] : triggered) {
    auto previous = ended.find(id - 1);
    if (previous != ended.end() && at < previous->second) ++overlapping;
  }
  EXPECT_GT(overlapping, 0u) << "no two checkpoints were in flight at once";
}

TEST(RocksDbIncrementalJobTest, AnAbortedPartlyUploadedCheckpointLeavesNoOrphan) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "rocksdb_incremental_aborted_upload.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const sim::BlobStoreSim& store = run->jw->world().blob_store();
  // Checkpoint 4's new files were put, some of them, and deleted again.
  size_t put_then_deleted = 0;
  for (const auto& [name, archived] : store.history().archive) {
    if (name.find("/chk-4-") != std::string::npos && archived.fate == sim::BlobFate::kDeleted) {
      ++put_then_deleted;
    }
  }
  EXPECT_GT(put_then_deleted, 0u);
  // Every checkpoint blob stored is referenced by a retained checkpoint (or is its metadata).
  std::set<std::string> referenced;
  for (const proto::CheckpointMetadata& metadata : Retained(*run->jw)) {
    referenced.insert(metadata.referenced_blobs().begin(), metadata.referenced_blobs().end());
    referenced.insert(engine::MetadataBlobName(metadata.checkpoint_id()));
  }
  ASSERT_FALSE(referenced.empty());
  for (const auto& [name, bytes] : store.objects()) {
    if (!name.starts_with("checkpoints/")) continue;
    EXPECT_TRUE(referenced.contains(name)) << "orphan: " << name;
  }
}

}  // namespace
}  // namespace faultline
