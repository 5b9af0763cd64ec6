#include "engine/state/rocksdb/rocksdb_state_backend.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/system_clock.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "base/hash.h"
#include "engine/proto/checkpoint.pb.h"
#include "engine/state/keyed_state_blob.h"
#include "engine/state/rocksdb/local_fs_file_system.h"
#include "engine/state/rocksdb/rocksdb_env.h"

namespace faultline::engine {
namespace {

constexpr uint64_t kWritesBetweenMemtableChecks = 1024;

// ---- Keys ----------------------------------------------------------------------------------

void PutBigEndian32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

uint32_t GetBigEndian32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[at + i]);
  return v;
}

// group | state: the prefix of every entry of one state in one key group.
void EncodeGroupState(std::string& out, KeyGroup group, StateId state) {
  out.clear();
  PutBigEndian32(out, group);
  PutBigEndian32(out, state);
}

// Appends `key` escaped and terminated (see the header).
void AppendEscapedKey(std::string& out, std::string_view key) {
  for (char c : key) {
    out.push_back(c);
    if (c == '\0') out.push_back('\xff');
  }
  out.push_back('\0');
  out.push_back('\x01');
}

void EncodeEntryKey(std::string& out, StateId state, KeyGroup group, std::string_view key,
                    std::string_view user_key) {
  EncodeGroupState(out, group, state);
  AppendEscapedKey(out, key);
  out.append(user_key);
}

struct DecodedKey {
  KeyGroup group = 0;
  StateId state = 0;
  std::string key;  // unescaped
  std::string_view user_key;
};

// The parts of a RocksDB key; false when it is not one this backend writes.
bool DecodeEntryKey(std::string_view raw, DecodedKey& out) {
  if (raw.size() < 10) return false;
  out.group = GetBigEndian32(raw, 0);
  out.state = GetBigEndian32(raw, 4);
  out.key.clear();
  for (size_t i = 8; i + 1 < raw.size(); ++i) {
    if (raw[i] != '\0') {
      out.key.push_back(raw[i]);
      continue;
    }
    if (raw[i + 1] == '\x01') {
      out.user_key = raw.substr(i + 2);
      return true;
    }
    if (raw[i + 1] != '\xff') return false;
    out.key.push_back('\0');
    ++i;
  }
  return false;
}

std::span<const uint8_t> BytesOf(const rocksdb::Slice& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

rocksdb::Slice SliceOf(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Status FromRocksDb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  const std::string message = "rocksdb " + std::string(what) + ": " + s.ToString();
  if (s.IsNoSpace()) return ResourceExhaustedError(message);
  // Everything else is the local disk's failure (an I/O error, a corrupt or missing local file),
  // never the checkpoint's: not DATA_LOSS, which a restoring task reports as an unreadable
  // checkpoint. The task fails over and its next attempt starts on a clean directory. (The
  // files of a checkpoint are checked against their checksums before RocksDB reads them.)
  return UnavailableError(message);
}

// ---- The database --------------------------------------------------------------------------

// A file of the database as uploaded to checkpoint storage's shared area.
struct UploadedFile {
  std::string blob;
  uint64_t size_bytes = 0;
  uint64_t checksum = 0;
};

// RocksDB and what it runs on, closed in order (the database before its environment); shared
// by the backend and its snapshots.
struct Database {
  std::shared_ptr<LocalFsFileSystem> fs;
  std::unique_ptr<NodeEnv> env;
  std::unique_ptr<rocksdb::DB> db;
  runtime::LocalFs* local = nullptr;  // the disk `fs` is over
  std::string directory;

  // Incremental checkpoints (Flink's uploadedSstFiles): the shared files of each snapshot
  // taken and not yet known complete, and those of the latest checkpoint known complete,
  // which later snapshots reuse instead of uploading again.
  std::map<uint64_t, std::map<std::string, UploadedFile>> uploads;
  std::map<std::string, UploadedFile> confirmed;

  // The database closes without its disk: the backend goes with its task, also when the
  // task's process crashed, which must not write. What it leaves is discarded at the next open.
  ~Database() {
    if (fs != nullptr) fs->Detach();
    if (db != nullptr) {
      const rocksdb::Status closed = db->Close();
      (void)closed;
      db.reset();
    }
    env.reset();
  }
};

// The keyed-state blob of the entries of `db` (as of `snapshot`, or now when null) in `range`,
// in the blob's order (RocksDB's key order); `digest`, `entries` and `checksum` get the state's
// digest and entry count and the blob's checksum.
Result<Bytes> EncodeBlob(rocksdb::DB* db, const rocksdb::Snapshot* snapshot, KeyGroupRange range,
                         const std::vector<KeyedStateInfo>& states, uint64_t* digest,
                         uint64_t* entries, uint64_t* checksum) {
  KeyedStateBlobWriter out(range, states, 0);
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read));
  uint32_t next_section = 0;  // sections begun so far
  if (!range.empty()) {
    std::string start;
    EncodeGroupState(start, range.first, 0);
    DecodedKey key;
    for (it->Seek(start); it->Valid(); it->Next()) {
      if (!DecodeEntryKey(it->key().ToStringView(), key) || key.state >= states.size()) {
        return DataLossError("rocksdb state: an entry with a malformed key");
      }
      if (key.group > range.last) break;
      while (range.first + next_section <= key.group)
        out.BeginSection(range.first + next_section++);
      const std::span<const uint8_t> value = BytesOf(it->value());
      out.Add(key.state, key.key, key.user_key, value);
      *digest +=
          KeyedStateEntryDigest(states[key.state].name, key.group, key.key, key.user_key, value);
      ++*entries;
    }
    FL_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading a snapshot"));
  }
  while (next_section < range.size()) out.BeginSection(range.first + next_section++);
  return std::move(out).Finish(*checksum);
}

// ---- Snapshot ------------------------------------------------------------------------------

class RocksDbSnapshot final : public StateSnapshot {
 public:
  RocksDbSnapshot(std::shared_ptr<Database> database, KeyGroupRange range,
                  std::vector<KeyedStateInfo> states, Status error)
      : database_(std::move(database)),
        snapshot_(database_->db->GetSnapshot()),
        range_(range),
        states_(std::move(states)),
        error_(std::move(error)) {}
  ~RocksDbSnapshot() override { database_->db->ReleaseSnapshot(snapshot_); }

  Result<Bytes> Materialize() const override {
    FL_RETURN_IF_ERROR(error_);
    if (blob_) return *blob_;
    return EncodeOnce();
  }
  // The engine asks for digest() at the capture, then materializes once: the blob the digest
  // was read from is handed over, not encoded twice.
  Result<Bytes> MaterializeOnce() override {
    FL_RETURN_IF_ERROR(error_);
    if (!blob_) return EncodeOnce();
    Bytes out = std::move(*blob_);
    blob_.reset();
    return out;
  }
  std::optional<uint64_t> MaterializedChecksum() const override { return checksum_; }
  uint64_t entries() const override {
    Count();
    return entries_.value_or(0);
  }
  uint64_t digest() const override {
    Count();
    return digest_.value_or(0);
  }

 private:
  Result<Bytes> EncodeOnce() const {
    uint64_t digest = 0;
    uint64_t entries = 0;
    uint64_t checksum = 0;
    FL_ASSIGN_OR_RETURN(Bytes blob, EncodeBlob(database_->db.get(), snapshot_, range_, states_,
                                               &digest, &entries, &checksum));
    Remember(digest, entries);
    checksum_ = checksum;
    return blob;
  }
  void Count() const {
    if (digest_ || !error_.ok()) return;
    if (Result<Bytes> blob = EncodeOnce(); blob.ok()) blob_ = std::move(*blob);
  }
  void Remember(uint64_t digest, uint64_t entries) const {
    digest_ = digest;
    entries_ = entries;
  }

  std::shared_ptr<Database> database_;
  const rocksdb::Snapshot* snapshot_;
  KeyGroupRange range_;
  std::vector<KeyedStateInfo> states_;
  Status error_;
  mutable std::optional<uint64_t> digest_;
  mutable std::optional<uint64_t> entries_;
  mutable std::optional<uint64_t> checksum_;
  mutable std::optional<Bytes> blob_;  // encoded for digest(), kept for MaterializeOnce
};

// An incremental snapshot (as Flink's RocksIncrementalSnapshotStrategy): the capture flushed
// the memtable; this keeps RocksDB from deleting the files it lists (they stay as they are:
// SST files are immutable, and only the listed prefix of the MANIFEST counts) until the
// snapshot goes. MaterializeIncremental reads them: SST files the latest completed checkpoint
// uploaded are reused, the others go to the shared area, and the rest of the database's files
// (MANIFEST, CURRENT, OPTIONS) travel inside the handle.
class RocksDbIncrementalSnapshot final : public StateSnapshot {
 public:
  RocksDbIncrementalSnapshot(std::shared_ptr<Database> database, KeyGroupRange range,
                             std::vector<KeyedStateInfo> states, Status error)
      : database_(std::move(database)),
        range_(range),
        states_(std::move(states)),
        error_(std::move(error)) {
    if (!error_.ok()) return;
    rocksdb::DB& db = *database_->db;
    error_ = FromRocksDb(db.DisableFileDeletions(), "disabling file deletions");
    if (!error_.ok()) return;
    deletions_disabled_ = true;
    rocksdb::LiveFilesStorageInfoOptions options;
    options.wal_size_for_flush = UINT64_MAX;  // the capture flushed; no WAL is written
    error_ = FromRocksDb(db.GetLiveFilesStorageInfo(options, &files_), "listing live files");
    snapshot_ = db.GetSnapshot();
  }
  ~RocksDbIncrementalSnapshot() override {
    if (snapshot_ != nullptr) database_->db->ReleaseSnapshot(snapshot_);
    if (deletions_disabled_) {
      (void)database_->db->EnableFileDeletions(/*force=*/false);
      database_->env->RunScheduled();  // the purge of files no longer live
    }
  }

  // A full blob of the same state (for a savepoint, or a reader that wants one).
  Result<Bytes> Materialize() const override {
    FL_RETURN_IF_ERROR(error_);
    uint64_t digest = 0;
    uint64_t entries = 0;
    uint64_t checksum = 0;
    return EncodeBlob(database_->db.get(), snapshot_, range_, states_, &digest, &entries,
                      &checksum);
  }
  uint64_t entries() const override {
    Count();
    return entries_;
  }
  uint64_t digest() const override {
    Count();
    return digest_;
  }
  bool incremental() const override { return true; }

  Result<IncrementalUpload> MaterializeIncremental(uint64_t checkpoint_id,
                                                   std::string_view shared_prefix) override {
    FL_RETURN_IF_ERROR(error_);
    Count();
    proto::IncrementalKeyedStateHandle handle;
    handle.set_format_version(1);
    handle.set_checkpoint_id(checkpoint_id);
    handle.set_first_key_group(range_.first);
    handle.set_last_key_group(range_.last);
    handle.set_state_digest(digest_);
    handle.set_entries(entries_);
    for (const KeyedStateInfo& state : states_) {
      proto::IncrementalKeyedStateHandle::State* s = handle.add_states();
      s->set_name(state.name);
      s->set_kind(static_cast<uint32_t>(state.kind));
    }
    IncrementalUpload upload;
    std::map<std::string, UploadedFile>& uploaded = database_->uploads[checkpoint_id];
    for (const rocksdb::LiveFileStorageInfo& file : files_) {
      if (file.file_type == rocksdb::kWalFile) continue;  // none is written
      const std::string path = database_->directory + "/" + file.relative_filename;
      if (file.file_type != rocksdb::kTableFile) {
        proto::IncrementalKeyedStateHandle::File* f = handle.add_private_files();
        f->set_local_name(file.relative_filename);
        if (!file.replacement_contents.empty()) {
          f->set_content(file.replacement_contents);
          continue;
        }
        FL_ASSIGN_OR_RETURN(Bytes content, ReadFile(path, file.size));
        f->set_content(std::string(content.begin(), content.end()));
        continue;
      }
      UploadedFile shared;
      SharedFile out;
      if (auto reuse = database_->confirmed.find(file.relative_filename);
          reuse != database_->confirmed.end() && reuse->second.size_bytes == file.size) {
        shared = reuse->second;
        out.reused = true;
      } else {
        FL_ASSIGN_OR_RETURN(out.bytes, ReadFile(path, file.size));
        shared.blob = std::string(shared_prefix) + file.relative_filename;
        shared.size_bytes = out.bytes.size();
        shared.checksum =
            Checksum(std::as_bytes(std::span<const uint8_t>(out.bytes.data(), out.bytes.size())));
      }
      out.blob = shared.blob;
      out.size_bytes = shared.size_bytes;
      out.checksum = shared.checksum;
      proto::IncrementalKeyedStateHandle::File* f = handle.add_shared_files();
      f->set_local_name(file.relative_filename);
      f->mutable_blob()->set_blob_name(shared.blob);
      f->mutable_blob()->set_size_bytes(shared.size_bytes);
      f->mutable_blob()->set_checksum(shared.checksum);
      f->mutable_blob()->set_first_key_group(range_.first);
      f->mutable_blob()->set_last_key_group(range_.last);
      uploaded[file.relative_filename] = shared;
      upload.shared.push_back(std::move(out));
    }
    std::string encoded(kIncrementalKeyedHandleMagic);
    if (!handle.AppendToString(&encoded)) {
      return InternalError("rocksdb state: the incremental handle does not serialize");
    }
    upload.handle.assign(encoded.begin(), encoded.end());
    return upload;
  }

 private:
  Result<Bytes> ReadFile(const std::string& path, uint64_t size) const {
    Result<Bytes> bytes = database_->local->Read(path, 0, size);
    if (!bytes.ok()) return bytes.status().WithContext("rocksdb state: reading " + path);
    if (bytes->size() != size) {
      return DataLossError("rocksdb state: " + path + " is shorter than the database says");
    }
    return bytes;
  }
  // The digest and entry count, by one scan of the snapshot.
  void Count() const {
    if (counted_ || !error_.ok()) return;
    counted_ = true;
    DecodedKey key;
    rocksdb::ReadOptions read;
    read.snapshot = snapshot_;
    std::unique_ptr<rocksdb::Iterator> it(database_->db->NewIterator(read));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!DecodeEntryKey(it->key().ToStringView(), key) || key.state >= states_.size()) {
        error_ = DataLossError("rocksdb state: an entry with a malformed key");
        return;
      }
      digest_ += KeyedStateEntryDigest(states_[key.state].name, key.group, key.key, key.user_key,
                                       BytesOf(it->value()));
      ++entries_;
    }
    if (!it->status().ok()) error_ = FromRocksDb(it->status(), "reading a snapshot");
  }

  std::shared_ptr<Database> database_;
  KeyGroupRange range_;
  std::vector<KeyedStateInfo> states_;
  mutable Status error_;
  bool deletions_disabled_ = false;
  std::vector<rocksdb::LiveFileStorageInfo> files_;
  const rocksdb::Snapshot* snapshot_ = nullptr;
  mutable bool counted_ = false;
  mutable uint64_t digest_ = 0;
  mutable uint64_t entries_ = 0;
};

// ---- Restoring incremental handles --------------------------------------------------------

// An incremental handle, parsed and checked, with its shared files' bytes (`shared[i]` is
// `handle.shared_files(i)`'s).
struct ParsedHandle {
  proto::IncrementalKeyedStateHandle handle;
  KeyGroupRange range;
  std::vector<KeyedStateInfo> states;
  std::vector<const Bytes*> shared;
};

Result<ParsedHandle> ParseIncrementalHandle(const RestoreSource& source);
Status PlaceIncrementalFiles(runtime::LocalFs& fs, const ParsedHandle& parsed,
                             const std::string& name, const std::string& directory,
                             std::vector<std::string>& placed);

// ---- Backend -------------------------------------------------------------------------------

class RocksDbStateBackend final : public KeyedStateBackend {
 public:
  RocksDbStateBackend(KeyGroupRange range, std::shared_ptr<Database> database,
                      const RocksDbBackendOptions& options)
      : range_(range),
        database_(std::move(database)),
        memtable_bytes_max_(options.memtable_bytes_max),
        incremental_(options.incremental),
        compaction_l0_files_(options.compaction_l0_files) {}

  KeyGroupRange key_groups() const override { return range_; }

  Result<StateId> Register(std::string_view name, StateKind kind) override {
    return FindOrAddState(states_, name, kind);
  }

  std::optional<Bytes> Get(StateId state, KeyGroup group, std::string_view key,
                           std::string_view user_key) const override {
    Bytes value;
    if (!GetInto(state, group, key, user_key, value)) return std::nullopt;
    return value;
  }
  bool GetInto(StateId state, KeyGroup group, std::string_view key, std::string_view user_key,
               Bytes& value) const override {
    CheckAccess(state, group);
    EncodeEntryKey(key_buffer_, state, group, key, user_key);
    rocksdb::PinnableSlice found;
    const rocksdb::Status s = database_->db->Get(
        rocksdb::ReadOptions(), database_->db->DefaultColumnFamily(), key_buffer_, &found);
    if (s.IsNotFound()) return false;
    if (!s.ok()) {
      Fail(FromRocksDb(s, "get"));
      return false;
    }
    value.assign(found.data(), found.data() + found.size());
    return true;
  }

  void Put(StateId state, KeyGroup group, std::string_view key, std::string_view user_key,
           Bytes value) override {
    PutCopy(state, group, key, user_key, value);
  }
  void PutCopy(StateId state, KeyGroup group, std::string_view key, std::string_view user_key,
               std::span<const uint8_t> value) override {
    CheckAccess(state, group);
    EncodeEntryKey(key_buffer_, state, group, key, user_key);
    Wrote(database_->db->Put(RocksDbWriteOptions(), key_buffer_, SliceOf(value)), "put");
  }
  void Delete(StateId state, KeyGroup group, std::string_view key,
              std::string_view user_key) override {
    CheckAccess(state, group);
    EncodeEntryKey(key_buffer_, state, group, key, user_key);
    Wrote(database_->db->Delete(RocksDbWriteOptions(), key_buffer_), "delete");
  }

  void ForEach(StateId state, KeyGroup group, std::string_view key,
               EntryVisitor visit) const override {
    CheckAccess(state, group);
    std::string prefix;
    EncodeGroupState(prefix, group, state);
    AppendEscapedKey(prefix, key);
    std::unique_ptr<rocksdb::Iterator> it(database_->db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string_view raw = it->key().ToStringView();
      visit(raw.substr(prefix.size()), BytesOf(it->value()));
    }
    if (!it->status().ok()) Fail(FromRocksDb(it->status(), "iterating a key's entries"));
  }

  void ForEachEntry(AllEntriesVisitor visit) const override {
    std::unique_ptr<rocksdb::Iterator> it(database_->db->NewIterator(rocksdb::ReadOptions()));
    std::string prefix;
    DecodedKey key;
    for (StateId state = 0; state < states_.size(); ++state) {
      for (uint32_t i = 0; i < range_.size(); ++i) {
        EncodeGroupState(prefix, range_.first + i, state);
        for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
          if (!DecodeEntryKey(it->key().ToStringView(), key)) continue;
          visit(states_[state].name, key.group, key.key, key.user_key, BytesOf(it->value()));
        }
      }
    }
    if (!it->status().ok()) Fail(FromRocksDb(it->status(), "iterating every entry"));
  }

  std::unique_ptr<StateSnapshot> Capture() const override {
    if (!incremental_) return std::make_unique<RocksDbSnapshot>(database_, range_, states_, error_);
    // Flink's native checkpoint: flush the memtable, compact when level 0 has grown, then list
    // the files (the snapshot keeps them).
    if (error_.ok()) FlushNow();
    if (error_.ok()) MaybeCompact();
    return std::make_unique<RocksDbIncrementalSnapshot>(database_, range_, states_, error_);
  }

  Status Restore(const std::vector<RestoreSource>& sources) override;

  void NotifyCheckpointComplete(uint64_t id) override {
    std::map<uint64_t, std::map<std::string, UploadedFile>>& uploads = database_->uploads;
    if (auto it = uploads.find(id); it != uploads.end()) database_->confirmed = it->second;
    uploads.erase(uploads.begin(), uploads.upper_bound(id));
  }

  uint64_t Digest() const override {
    uint64_t digest = 0;
    ForEachEntry([&digest](std::string_view state, KeyGroup group, std::string_view key,
                           std::string_view user_key, std::span<const uint8_t> value) {
      digest += KeyedStateEntryDigest(state, group, key, user_key, value);
    });
    return digest;
  }
  uint64_t entry_count() const override {
    uint64_t count = 0;
    ForEachEntry([&count](std::string_view, KeyGroup, std::string_view, std::string_view,
                          std::span<const uint8_t>) { ++count; });
    return count;
  }

 private:
  void CheckAccess(StateId state, KeyGroup group) const {
    FL_ASSERT(state < states_.size(), "an unregistered state");
    FL_ASSERT(range_.Contains(group), "a key group outside the backend's range");
  }
  // Keeps the first error (see the header).
  void Fail(Status error) const {
    if (error_.ok()) error_ = std::move(error);
  }
  void Wrote(const rocksdb::Status& s, std::string_view what) {
    if (!s.ok()) {
      Fail(FromRocksDb(s, what));
      return;
    }
    if (++writes_since_check_ >= kWritesBetweenMemtableChecks) {
      writes_since_check_ = 0;
      MaybeFlush();
    }
  }
  // Flushes the memtable on this thread once it is over its bound (see the header).
  void MaybeFlush() const {
    uint64_t bytes = 0;
    if (!database_->db->GetIntProperty("rocksdb.cur-size-active-mem-table", &bytes) ||
        bytes <= memtable_bytes_max_) {
      return;
    }
    FlushNow();
  }
  void FlushNow() const {
    // Scheduled, then run here (NodeEnv): RocksDB's threads never touch the disk.
    rocksdb::FlushOptions flush;
    flush.wait = false;
    flush.allow_write_stall = true;
    Fail(FromRocksDb(database_->db->Flush(flush), "flush"));
    database_->env->RunScheduled();
    // A flush that failed stops the database's writes with its error: an empty write shows it.
    rocksdb::WriteBatch probe;
    Fail(FromRocksDb(database_->db->Write(RocksDbWriteOptions(), &probe), "flush"));
  }

  // Once level 0 holds `compaction_l0_files_` files, compacts levels 0 and 1 into level 1, on
  // this thread (CompactFiles runs in its caller): the files an incremental checkpoint lists
  // change between checkpoints, as they do in a long-running job.
  void MaybeCompact() const {
    if (compaction_l0_files_ == 0) return;
    rocksdb::ColumnFamilyMetaData meta;
    database_->db->GetColumnFamilyMetaData(&meta);
    if (meta.levels.size() < 2 || meta.levels[0].files.size() < compaction_l0_files_) return;
    std::vector<std::string> inputs;
    for (size_t level = 0; level <= 1; ++level) {
      for (const rocksdb::SstFileMetaData& file : meta.levels[level].files) {
        inputs.push_back(file.name);
      }
    }
    rocksdb::CompactionOptions options;
    options.compression = rocksdb::kDisableCompressionOption;  // the column family's
    Fail(FromRocksDb(database_->db->CompactFiles(options, inputs, /*output_level=*/1), "compact"));
    database_->env->RunScheduled();
  }

  // An incremental handle as a keyed-state blob of the key groups it shares with this
  // backend's: its files are placed in a scratch directory, opened there read-only and scanned.
  Result<Bytes> BlobOfIncremental(const RestoreSource& source, size_t index) const;
  // Restores one incremental handle of exactly this backend's key groups into its empty
  // database by making the handle's files the database (Flink's restore at an unchanged
  // parallelism): no scan, and the next checkpoint reuses the files instead of uploading the
  // state again. nullopt when that does not apply (another range, several sources, a database
  // already holding entries, states registered otherwise): Restore reads the handle instead.
  std::optional<Status> AdoptIncremental(const RestoreSource& source);

  const KeyGroupRange range_;
  std::shared_ptr<Database> database_;
  const size_t memtable_bytes_max_;
  const bool incremental_;
  const size_t compaction_l0_files_;
  std::vector<KeyedStateInfo> states_;
  mutable Status error_;
  mutable std::string key_buffer_;
  uint64_t writes_since_check_ = 0;
};

// Decodes every source first (keyed_state_blob.h's ReadRestoreSources), then replaces the
// database's entries in one batch: a failed restore leaves the state as it was.
Status RocksDbStateBackend::Restore(const std::vector<RestoreSource>& given) {
  FL_RETURN_IF_ERROR(error_);
  if (given.size() == 1) {
    FL_ASSERT(given[0].data != nullptr, "a RestoreSource without data");
    if (std::optional<Status> adopted = AdoptIncremental(given[0])) return *adopted;
  }
  // Incremental handles are read into keyed-state blobs first (their key groups only).
  std::vector<Bytes> converted;
  converted.reserve(given.size());
  std::vector<RestoreSource> sources = given;
  for (size_t i = 0; i < sources.size(); ++i) {
    FL_ASSERT(sources[i].data != nullptr, "a RestoreSource without data");
    if (!IsIncrementalKeyedHandle(*sources[i].data)) continue;
    FL_ASSIGN_OR_RETURN(Bytes blob, BlobOfIncremental(sources[i], i));
    converted.push_back(std::move(blob));
    sources[i].data = &converted.back();
    sources[i].verify_checksum = true;  // written just now; the files were checked
  }
  std::vector<KeyedStateInfo> states = states_;
  rocksdb::WriteBatch batch;
  // Everything there now goes first.
  {
    std::unique_ptr<rocksdb::Iterator> it(database_->db->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      FL_RETURN_IF_ERROR(FromRocksDb(batch.Delete(it->key()), "restore"));
    }
    FL_RETURN_IF_ERROR(FromRocksDb(it->status(), "restore"));
  }
  struct Into {
    std::string key_buffer;
    rocksdb::WriteBatch& batch;
    rocksdb::Status put;
  } into{{}, batch, {}};
  FL_RETURN_IF_ERROR(
      ReadRestoreSources(sources, range_, states,
                         [&into](StateId state, KeyGroup group, std::string_view key,
                                 std::string_view user_key, std::span<const uint8_t> value) {
                           EncodeEntryKey(into.key_buffer, state, group, key, user_key);
                           if (into.put.ok())
                             into.put = into.batch.Put(into.key_buffer, SliceOf(value));
                         }));
  FL_RETURN_IF_ERROR(FromRocksDb(into.put, "restore"));
  FL_RETURN_IF_ERROR(FromRocksDb(database_->db->Write(RocksDbWriteOptions(), &batch), "restore"));
  states_ = std::move(states);
  return Status::Ok();
}

Result<ParsedHandle> ParseIncrementalHandle(const RestoreSource& source) {
  const std::string& name = source.name;
  const Bytes& data = *source.data;
  ParsedHandle parsed;
  proto::IncrementalKeyedStateHandle& handle = parsed.handle;
  const size_t magic = kIncrementalKeyedHandleMagic.size();
  if (!handle.ParseFromArray(data.data() + magic, static_cast<int>(data.size() - magic))) {
    return DataLossError("incremental handle " + name + " does not parse");
  }
  if (handle.format_version() != 1) {
    return DataLossError("incremental handle " + name + " has format version " +
                         std::to_string(handle.format_version()) + ", not 1");
  }
  if (handle.first_key_group() > handle.last_key_group() ||
      handle.last_key_group() >= kMaxParallelismUpperBound) {
    return DataLossError("incremental handle " + name + " has a malformed key-group range");
  }
  parsed.range = KeyGroupRange{handle.first_key_group(), handle.last_key_group()};
  for (const proto::IncrementalKeyedStateHandle::State& state : handle.states()) {
    if (state.kind() > 255 || !IsKnownStateKind(static_cast<uint8_t>(state.kind()))) {
      return DataLossError("incremental handle " + name + ": state " + state.name() +
                           " of unknown kind " + std::to_string(state.kind()));
    }
    parsed.states.push_back({state.name(), static_cast<StateKind>(state.kind())});
  }
  // The shared files, fetched beside the handle and checked against it.
  for (const proto::IncrementalKeyedStateHandle::File& file : handle.shared_files()) {
    const std::string& blob = file.blob().blob_name();
    const Bytes* bytes = nullptr;
    if (source.shared != nullptr) {
      if (auto it = source.shared->find(blob); it != source.shared->end()) bytes = &it->second;
    }
    if (bytes == nullptr) {
      return DataLossError("incremental handle " + name + ": shared file " + blob + " missing");
    }
    if (source.verify_checksum && (bytes->size() != file.blob().size_bytes() ||
                                   Checksum(std::as_bytes(std::span<const uint8_t>(
                                       bytes->data(), bytes->size()))) != file.blob().checksum())) {
      return DataLossError("shared file " + blob + " does not match its checksum");
    }
    parsed.shared.push_back(bytes);
  }
  return parsed;
}

// Writes the handle's files into `directory` on `fs`; `placed` gets every path written (also on
// failure, so the caller can delete them).
Status PlaceIncrementalFiles(runtime::LocalFs& fs, const ParsedHandle& parsed,
                             const std::string& name, const std::string& directory,
                             std::vector<std::string>& placed) {
  const auto place = [&](const std::string& local_name,
                         std::span<const uint8_t> content) -> Status {
    if (local_name.empty() || local_name.find('/') != std::string::npos) {
      return DataLossError("incremental handle " + name + " names a file '" + local_name + "'");
    }
    const std::string path = directory + "/" + local_name;
    placed.push_back(path);
    FL_RETURN_IF_ERROR(fs.Create(path));
    FL_RETURN_IF_ERROR(fs.Append(path, content));
    return fs.Sync(path);
  };
  for (int i = 0; i < parsed.handle.shared_files_size(); ++i) {
    FL_RETURN_IF_ERROR(
        place(parsed.handle.shared_files(i).local_name(), *parsed.shared[static_cast<size_t>(i)]));
  }
  for (const proto::IncrementalKeyedStateHandle::File& file : parsed.handle.private_files()) {
    const std::string& content = file.content();
    FL_RETURN_IF_ERROR(place(file.local_name(),
                             {reinterpret_cast<const uint8_t*>(content.data()), content.size()}));
  }
  return Status::Ok();
}

Result<Bytes> RocksDbStateBackend::BlobOfIncremental(const RestoreSource& source,
                                                     size_t index) const {
  const std::string& name = source.name;
  FL_ASSIGN_OR_RETURN(const ParsedHandle parsed, ParseIncrementalHandle(source));
  runtime::LocalFs& fs = *database_->local;
  const std::string scratch = database_->directory + "-restore-" + std::to_string(index);
  std::vector<std::string> placed;
  const auto clean = [&fs, &placed] {
    for (const std::string& path : placed) (void)fs.Delete(path);
  };
  if (Status placing = PlaceIncrementalFiles(fs, parsed, name, scratch, placed); !placing.ok()) {
    clean();
    return placing.WithContext("restoring " + name);
  }
  // Open it and read the key groups this backend owns.
  rocksdb::DB* opened = nullptr;
  const rocksdb::Options options =
      RocksDbDatabaseOptions(database_->env.get(), memtable_bytes_max_);
  rocksdb::Status open = rocksdb::DB::OpenForReadOnly(options, scratch, &opened);
  database_->env->RunScheduled();
  std::unique_ptr<rocksdb::DB> db(opened);
  Result<Bytes> blob = Bytes();
  if (Status opening = FromRocksDb(open, "opening " + name); !opening.ok()) {
    blob = std::move(opening);
  } else {
    const KeyGroupRange overlap = range_.Intersect(parsed.range);
    uint64_t digest = 0;
    uint64_t entries = 0;
    uint64_t checksum = 0;
    blob = EncodeBlob(db.get(), nullptr, overlap, parsed.states, &digest, &entries, &checksum);
  }
  if (db != nullptr) (void)db->Close();
  db.reset();
  database_->env->RunScheduled();
  clean();
  if (!blob.ok()) return blob.status().WithContext("restoring " + name);
  return blob;
}

std::optional<Status> RocksDbStateBackend::AdoptIncremental(const RestoreSource& source) {
  if (!incremental_ || !IsIncrementalKeyedHandle(*source.data)) return std::nullopt;
  Result<ParsedHandle> parsed = ParseIncrementalHandle(source);
  if (!parsed.ok()) return parsed.status();
  if (!(parsed->range == range_) || parsed->states.size() < states_.size()) return std::nullopt;
  for (size_t i = 0; i < states_.size(); ++i) {
    if (states_[i].name != parsed->states[i].name || states_[i].kind != parsed->states[i].kind) {
      return std::nullopt;  // registered otherwise: rows' state ids would mean other states
    }
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(database_->db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid() || !it->status().ok()) return std::nullopt;  // not empty: read it instead
  }
  // The empty database goes; the checkpoint's files become the database.
  runtime::LocalFs& fs = *database_->local;
  const std::string& directory = database_->directory;
  (void)database_->db->Close();
  database_->db.reset();
  database_->env->RunScheduled();
  const auto clear = [&fs, &directory]() -> Status {
    FL_ASSIGN_OR_RETURN(std::vector<std::string> files, fs.List(directory + "/"));
    for (const std::string& file : files) FL_RETURN_IF_ERROR(fs.Delete(file));
    return Status::Ok();
  };
  const rocksdb::Options options =
      RocksDbDatabaseOptions(database_->env.get(), memtable_bytes_max_);
  const auto open = [this, &options, &directory]() -> Status {
    rocksdb::DB* db = nullptr;
    const rocksdb::Status opened = rocksdb::DB::Open(options, directory, &db);
    database_->env->RunScheduled();
    database_->db.reset(db);
    return FromRocksDb(opened, "open");
  };
  std::vector<std::string> placed;
  Status adopted = clear();
  if (adopted.ok()) adopted = PlaceIncrementalFiles(fs, *parsed, source.name, directory, placed);
  if (adopted.ok()) adopted = open();
  if (!adopted.ok()) {
    // Back to an empty database, as before the restore.
    database_->db.reset();
    Status reopened = clear();
    if (reopened.ok()) reopened = open();
    if (!reopened.ok())
      Fail(reopened.WithContext("rocksdb state: reopening after a failed restore"));
    return adopted.WithContext("restoring " + source.name);
  }
  states_ = parsed->states;
  // The next checkpoint reuses these files (Flink's restored SST files).
  database_->uploads.clear();
  database_->confirmed.clear();
  for (const proto::IncrementalKeyedStateHandle::File& file : parsed->handle.shared_files()) {
    database_->confirmed[file.local_name()] =
        UploadedFile{file.blob().blob_name(), file.blob().size_bytes(), file.blob().checksum()};
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<KeyedStateBackend>> NewRocksDbStateBackend(KeyGroupRange key_groups,
                                                                  RocksDbBackendOptions options) {
  FL_ASSERT(options.fs != nullptr, "a RocksDB backend needs a local disk");
  FL_ASSERT(key_groups.empty() || key_groups.last < kMaxParallelismUpperBound,
            "key groups beyond the largest max parallelism");
  if (options.directory.empty() || options.directory.front() != '/') {
    return InvalidArgumentError("a RocksDB backend's directory must be an absolute path, not '" +
                                options.directory + "'");
  }
  auto database = std::make_shared<Database>();
  database->fs = std::make_shared<LocalFsFileSystem>(options.fs);
  database->env = std::make_unique<NodeEnv>(database->fs, options.clock);
  const rocksdb::Options db_options =
      RocksDbDatabaseOptions(database->env.get(), options.memtable_bytes_max);
  // A backend starts empty: whatever an earlier attempt left in the directory goes.
  Result<std::vector<std::string>> leftovers = options.fs->List(options.directory + "/");
  if (!leftovers.ok()) return leftovers.status().WithContext("rocksdb directory");
  for (const std::string& file : *leftovers) {
    FL_RETURN_IF_ERROR(options.fs->Delete(file).WithContext("rocksdb directory"));
  }
  rocksdb::DB* db = nullptr;
  const rocksdb::Status opened = rocksdb::DB::Open(db_options, options.directory, &db);
  database->env->RunScheduled();
  FL_RETURN_IF_ERROR(FromRocksDb(opened, "open"));
  database->db.reset(db);
  database->local = options.fs;
  database->directory = options.directory;
  return std::unique_ptr<KeyedStateBackend>(
      std::make_unique<RocksDbStateBackend>(key_groups, std::move(database), options));
}

StateBackendFactory RocksDbStateBackends(RocksDbBackendOptions defaults) {
  return [defaults](const StateBackendSetup& setup) -> Result<std::unique_ptr<KeyedStateBackend>> {
    if (setup.local_fs == nullptr) {
      return FailedPreconditionError("the RocksDB state backend needs its process's local disk");
    }
    // Earlier attempts of the task on this node left their databases: they go.
    FL_ASSIGN_OR_RETURN(std::vector<std::string> earlier,
                        setup.local_fs->List(setup.task_directory + "/"));
    for (const std::string& file : earlier) {
      FL_RETURN_IF_ERROR(setup.local_fs->Delete(file).WithContext("rocksdb directory"));
    }
    RocksDbBackendOptions options = defaults;
    options.fs = setup.local_fs;
    options.clock = setup.clock;
    options.directory = setup.directory;
    return NewRocksDbStateBackend(setup.key_groups, std::move(options));
  };
}

// ---- The environment and options (rocksdb_env.h) ---------------------------------------------

namespace {

// RocksDB's clock: the node's (simulated) time, or zero without one; sleeping returns at once
// (RocksDB sleeps only to retry after an error, which is the task's to handle).
class NodeClock final : public rocksdb::SystemClock {
 public:
  explicit NodeClock(const runtime::Clock* clock) : clock_(clock) {}
  const char* Name() const override { return "faultline.NodeClock"; }
  uint64_t NowMicros() override { return NowNanos() / 1000; }
  uint64_t NowNanos() override {
    if (clock_ == nullptr) return 0;
    const int64_t nanos = clock_->Now().nanos();
    return nanos > 0 ? static_cast<uint64_t>(nanos) : 0;
  }
  void SleepForMicroseconds(int /*micros*/) override {}
  rocksdb::Status GetCurrentTime(int64_t* unix_time) override {
    *unix_time = static_cast<int64_t>(NowMicros() / 1000000);
    return rocksdb::Status::OK();
  }
  std::string TimeToString(uint64_t time) override { return std::to_string(time); }

 private:
  const runtime::Clock* clock_;
};

}  // namespace

NodeEnv::NodeEnv(const std::shared_ptr<rocksdb::FileSystem>& fs, const runtime::Clock* clock)
    : rocksdb::EnvWrapper(rocksdb::NewCompositeEnv(fs)) {
  file_system_ = fs;
  system_clock_ = std::make_shared<NodeClock>(clock);
}

void NodeEnv::Schedule(void (*function)(void* arg), void* arg, Priority pri, void* tag,
                       void (*unschedule)(void* arg)) {
  scheduled_.push_back(Work{function, arg, pri, tag, unschedule});
}

int NodeEnv::UnSchedule(void* tag, Priority pri) {
  int removed = 0;
  for (auto it = scheduled_.begin(); it != scheduled_.end();) {
    if (it->tag != tag || it->pri != pri) {
      ++it;
      continue;
    }
    if (it->unschedule != nullptr) it->unschedule(it->arg);
    it = scheduled_.erase(it);
    ++removed;
  }
  return removed;
}

void NodeEnv::RunScheduled() {
  while (!scheduled_.empty()) {
    const Work work = scheduled_.front();
    scheduled_.pop_front();
    work.function(work.arg);
  }
}

uint64_t NodeEnv::NowMicros() {
  return system_clock_->NowMicros();
}
uint64_t NodeEnv::NowNanos() {
  return system_clock_->NowNanos();
}
void NodeEnv::SleepForMicroseconds(int micros) {
  system_clock_->SleepForMicroseconds(micros);
}
rocksdb::Status NodeEnv::GetCurrentTime(int64_t* unix_time) {
  return system_clock_->GetCurrentTime(unix_time);
}
std::string NodeEnv::TimeToString(uint64_t time) {
  return system_clock_->TimeToString(time);
}

rocksdb::Options RocksDbDatabaseOptions(rocksdb::Env* env, size_t memtable_bytes_max) {
  rocksdb::Options o;
  o.env = env;
  o.create_if_missing = true;
  o.disable_auto_compactions = true;
  // Flushed explicitly at memtable_bytes_max: RocksDB's own trigger stays out of reach.
  o.write_buffer_size = 4 * memtable_bytes_max + (64u << 20);
  // The memtable's size counts its arena's blocks, by default an eighth of the write buffer
  // (8 MiB and more here): small blocks keep it near the bytes held, so the bound above means
  // what it says instead of flushing at every check.
  o.arena_block_size = std::clamp<size_t>(memtable_bytes_max / 8, 4096, 1u << 20);
  o.max_write_buffer_number = 4;
  o.stats_dump_period_sec = 0;
  o.stats_persist_period_sec = 0;
  o.avoid_flush_during_shutdown = true;
  o.avoid_flush_during_recovery = true;
  o.db_host_id = "";  // not the machine's host name in every SST file
  o.max_background_jobs = 2;
  o.max_file_opening_threads = 1;
  o.enable_thread_tracking = false;
  // No automatic recovery from a background error: it would retry on RocksDB's own thread,
  // against the simulated disk, at real-time intervals. The error is the task's to report.
  o.max_bgerror_resume_count = 0;
  return o;
}

rocksdb::WriteOptions RocksDbWriteOptions() {
  rocksdb::WriteOptions w;
  w.disableWAL = true;  // checkpoints make state durable, as in Flink
  return w;
}

}  // namespace faultline::engine
