#include "engine/state/rocksdb/rocksdb_state_backend.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/system_clock.h>
#include <rocksdb/write_batch.h>

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "base/assert.h"
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
  if (s.IsCorruption()) return DataLossError(message);
  if (s.IsNotFound()) return NotFoundError(message);
  return UnavailableError(message);  // an I/O error of the local disk: the task fails over
}

// ---- The database --------------------------------------------------------------------------

// RocksDB and what it runs on, closed in order (the database before its environment); shared
// by the backend and its snapshots.
struct Database {
  std::shared_ptr<LocalFsFileSystem> fs;
  std::unique_ptr<NodeEnv> env;
  std::unique_ptr<rocksdb::DB> db;

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
  // The blob of every entry in the snapshot, in the blob's order (RocksDB's key order).
  Result<Bytes> Encode(uint64_t* digest, uint64_t* entries, uint64_t* checksum) const {
    KeyedStateBlobWriter out(range_, states_, 0);
    rocksdb::ReadOptions read;
    read.snapshot = snapshot_;
    std::unique_ptr<rocksdb::Iterator> it(database_->db->NewIterator(read));
    std::string start;
    EncodeGroupState(start, range_.first, 0);
    it->Seek(start);
    DecodedKey key;
    uint32_t next_section = 0;  // sections begun so far
    for (; it->Valid(); it->Next()) {
      if (!DecodeEntryKey(it->key().ToStringView(), key) || key.state >= states_.size()) {
        return DataLossError("rocksdb state: an entry with a malformed key");
      }
      if (key.group > range_.last) break;
      while (range_.first + next_section <= key.group)
        out.BeginSection(range_.first + next_section++);
      const std::span<const uint8_t> value = BytesOf(it->value());
      out.Add(key.state, key.key, key.user_key, value);
      *digest +=
          KeyedStateEntryDigest(states_[key.state].name, key.group, key.key, key.user_key, value);
      ++*entries;
    }
    FL_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading a snapshot"));
    while (next_section < range_.size()) out.BeginSection(range_.first + next_section++);
    return std::move(out).Finish(*checksum);
  }

  Result<Bytes> EncodeOnce() const {
    uint64_t digest = 0;
    uint64_t entries = 0;
    uint64_t checksum = 0;
    FL_ASSIGN_OR_RETURN(Bytes blob, Encode(&digest, &entries, &checksum));
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

// ---- Backend -------------------------------------------------------------------------------

class RocksDbStateBackend final : public KeyedStateBackend {
 public:
  RocksDbStateBackend(KeyGroupRange range, std::shared_ptr<Database> database,
                      size_t memtable_bytes_max)
      : range_(range), database_(std::move(database)), memtable_bytes_max_(memtable_bytes_max) {}

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
    return std::make_unique<RocksDbSnapshot>(database_, range_, states_, error_);
  }

  Status Restore(const std::vector<RestoreSource>& sources) override;

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
  void MaybeFlush() {
    uint64_t bytes = 0;
    if (!database_->db->GetIntProperty("rocksdb.cur-size-active-mem-table", &bytes) ||
        bytes <= memtable_bytes_max_) {
      return;
    }
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

  const KeyGroupRange range_;
  std::shared_ptr<Database> database_;
  const size_t memtable_bytes_max_;
  std::vector<KeyedStateInfo> states_;
  mutable Status error_;
  mutable std::string key_buffer_;
  uint64_t writes_since_check_ = 0;
};

// Decodes every source first (keyed_state_blob.h's ReadRestoreSources), then replaces the
// database's entries in one batch: a failed restore leaves the state as it was.
Status RocksDbStateBackend::Restore(const std::vector<RestoreSource>& sources) {
  FL_RETURN_IF_ERROR(error_);
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
  return std::unique_ptr<KeyedStateBackend>(std::make_unique<RocksDbStateBackend>(
      key_groups, std::move(database), options.memtable_bytes_max));
}

StateBackendFactory RocksDbStateBackends(size_t memtable_bytes_max) {
  return [memtable_bytes_max](
             const StateBackendSetup& setup) -> Result<std::unique_ptr<KeyedStateBackend>> {
    if (setup.local_fs == nullptr) {
      return FailedPreconditionError("the RocksDB state backend needs its process's local disk");
    }
    // Earlier attempts of the task on this node left their databases: they go.
    FL_ASSIGN_OR_RETURN(std::vector<std::string> earlier,
                        setup.local_fs->List(setup.task_directory + "/"));
    for (const std::string& file : earlier) {
      FL_RETURN_IF_ERROR(setup.local_fs->Delete(file).WithContext("rocksdb directory"));
    }
    return NewRocksDbStateBackend(setup.key_groups, {.fs = setup.local_fs,
                                                     .clock = setup.clock,
                                                     .directory = setup.directory,
                                                     .memtable_bytes_max = memtable_bytes_max});
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
