// Keyed state storage, as the engine's operators see it. One backend instance per stateful
// subtask, owning the key groups of that subtask. The interface is byte-oriented (keys, user
// keys and values are serialized by the job API), so a RocksDB backend can implement it with
// one column family per state and keys laid out as <key group, key, user key>.
//
// Snapshots have two parts, as in Flink: a synchronous capture (a consistent, immutable view
// taken at the barrier, cheap enough to run on the task's thread) and an asynchronous
// materialization (serializing the view into a blob, done off the critical path; the task
// uploads the blob to checkpoint storage). State changes after the capture never reach it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/inline_function.h"
#include "base/status.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/storage.h"
#include "engine/state/key_groups.h"

namespace faultline::engine {

using Bytes = std::vector<uint8_t>;

// A registered state of the backend (index into its registry).
using StateId = uint32_t;

enum class StateKind : uint8_t { kValue = 1, kList = 2, kMap = 3, kReducing = 4 };

// One file of an incremental snapshot, kept in checkpoint storage's shared area: uploaded for
// this checkpoint (`bytes` holds it) or reused from an earlier, completed one (`bytes` empty).
struct SharedFile {
  std::string blob;  // its blob name
  uint64_t size_bytes = 0;
  uint64_t checksum = 0;
  bool reused = false;
  Bytes bytes;  // new files only
};

// What an incremental snapshot uploads: its keyed handle (a blob of its own, naming the
// shared files and holding the private ones) and its shared files.
struct IncrementalUpload {
  Bytes handle;
  std::vector<SharedFile> shared;
};

// An immutable view of the backend's state at one checkpoint, produced synchronously.
class StateSnapshot {
 public:
  virtual ~StateSnapshot() = default;
  // Serializes the view (the asynchronous part): a self-describing blob with an offset per key
  // group and a checksum, readable by any backend implementation's Restore.
  virtual Result<Bytes> Materialize() const = 0;
  // Materialize for the snapshot's last use (its upload): a backend may hand its bytes over
  // instead of copying them, after which only entries() and digest() remain meaningful.
  virtual Result<Bytes> MaterializeOnce() { return Materialize(); }
  // Checksum() of what Materialize returns, when the backend computed it while encoding (so
  // the upload need not read the blob again); nullopt otherwise.
  virtual std::optional<uint64_t> MaterializedChecksum() const { return std::nullopt; }
  // Entries captured, for statistics.
  virtual uint64_t entries() const = 0;
  // The backend's Digest() at the capture.
  virtual uint64_t digest() const = 0;

  // An incremental snapshot (RocksDB's) uploads files instead of one blob: MaterializeIncremental
  // replaces Materialize. New shared files are named `shared_prefix` + a name of the backend's
  // (unique within the prefix). Only files of a checkpoint the backend was notified of as
  // complete are reused.
  virtual bool incremental() const { return false; }
  virtual Result<IncrementalUpload> MaterializeIncremental(uint64_t checkpoint_id,
                                                           std::string_view shared_prefix) {
    (void)checkpoint_id;
    (void)shared_prefix;
    return UnimplementedError("this backend takes full snapshots only");
  }
};

// One serialized snapshot blob to restore from; only its key groups inside the backend's range
// are restored, so restoring after a rescale reads several blobs partially.
struct RestoreSource {
  std::string name;  // blob name, for error messages
  const Bytes* data = nullptr;
  // Off only under the `skip-checksum` teaching switch: a corrupt blob is then accepted.
  bool verify_checksum = true;
  // An incremental handle's shared files, by blob name (fetched beside it); null for a full
  // snapshot's blob.
  const std::map<std::string, Bytes>* shared = nullptr;
};

class KeyedStateBackend {
 public:
  virtual ~KeyedStateBackend() = default;

  virtual KeyGroupRange key_groups() const = 0;

  // Registers (or finds) a state by name; the same name always gets the same id and must keep
  // its kind.
  virtual Result<StateId> Register(std::string_view name, StateKind kind) = 0;

  // Announces the key the next point accesses are for, as Flink's setCurrentKey: a backend
  // may do per-key work once (hash the key, serialize its prefix, cache what each state holds
  // for it). `key`'s bytes must stay valid and unchanged until ClearCurrentKey or the next
  // SetCurrentKey. Accesses for other keys stay correct, only slower.
  void SetCurrentKey(KeyGroup group, std::string_view key) {
    current_ = {group, key, true};
    OnSetCurrentKey(group, key);
  }
  void ClearCurrentKey() {
    current_ = {};
    OnClearCurrentKey();
  }
  bool has_current_key() const { return current_.set; }

  // Point access for the current key with no user key (value, reducing and list states): the
  // same as GetInto / PutCopy with (current group, current key, ""), with fewer arguments, and
  // a backend may serve it from what it prepared in SetCurrentKey. A current key must be set.
  virtual bool GetCurrent(StateId state, Bytes& value) const {
    FL_ASSERT(current_.set, "a current-key access without a current key");
    return GetInto(state, current_.group, current_.key, "", value);
  }
  virtual void PutCurrent(StateId state, std::span<const uint8_t> value) {
    FL_ASSERT(current_.set, "a current-key access without a current key");
    PutCopy(state, current_.group, current_.key, "", value);
  }

  // Point access. `group` must be in key_groups() (an assertion: routing put the key here).
  virtual std::optional<Bytes> Get(StateId state, KeyGroup group, std::string_view key,
                                   std::string_view user_key) const = 0;
  virtual void Put(StateId state, KeyGroup group, std::string_view key, std::string_view user_key,
                   Bytes value) = 0;
  virtual void Delete(StateId state, KeyGroup group, std::string_view key,
                      std::string_view user_key) = 0;

  // Allocation-free variants of Get and Put for the per-record path. The defaults go through
  // Get and Put; a backend may override them to reuse `value`'s capacity (GetInto) or to
  // overwrite an existing value in place (PutCopy). Same semantics as Get and Put.
  virtual bool GetInto(StateId state, KeyGroup group, std::string_view key,
                       std::string_view user_key, Bytes& value) const {
    std::optional<Bytes> found = Get(state, group, key, user_key);
    if (!found) return false;
    value = std::move(*found);
    return true;
  }
  virtual void PutCopy(StateId state, KeyGroup group, std::string_view key,
                       std::string_view user_key, std::span<const uint8_t> value) {
    Put(state, group, key, user_key, Bytes(value.begin(), value.end()));
  }
  // Every (user key, value) of one key of a map state, in user-key order.
  using EntryVisitor =
      InlineFunction<void(std::string_view user_key, std::span<const uint8_t> value), 32>;
  virtual void ForEach(StateId state, KeyGroup group, std::string_view key,
                       EntryVisitor visit) const = 0;

  // Every entry of every state, in (state, key group, key, user key) order. For checkers and
  // tools; not on any hot path.
  using AllEntriesVisitor =
      InlineFunction<void(std::string_view state, KeyGroup group, std::string_view key,
                          std::string_view user_key, std::span<const uint8_t> value),
                     32>;
  virtual void ForEachEntry(AllEntriesVisitor visit) const = 0;

  // The synchronous part of a snapshot.
  virtual std::unique_ptr<StateSnapshot> Capture() const = 0;
  // Replaces the whole state with the key groups of `sources` that fall in key_groups(). A
  // blob whose checksum or structure is wrong fails with DataLoss naming the blob.
  virtual Status Restore(const std::vector<RestoreSource>& sources) = 0;

  // Checkpoint `id` completed (Flink's notifyCheckpointComplete): an incremental backend may
  // reuse its files from now on. Default: nothing to do.
  virtual void NotifyCheckpointComplete(uint64_t id) { (void)id; }

  // An order-insensitive digest of every entry (state name, group, key, user key, value):
  // equal contents, equal digest, whatever the backend or insertion order. Used by the
  // recovery checker to compare restored state with what was captured. Every backend computes
  // it the same way: the sum (mod 2^64) over entries of
  // Hasher().Text(state name).U64(group).Text(key).Text(user key).Bytes(value).Finish().
  virtual uint64_t Digest() const = 0;
  virtual uint64_t entry_count() const = 0;

 protected:
  // Hooks of SetCurrentKey and ClearCurrentKey, for a backend that prepares per-key work.
  virtual void OnSetCurrentKey(KeyGroup group, std::string_view key) {
    (void)group;
    (void)key;
  }
  virtual void OnClearCurrentKey() {}

 private:
  struct CurrentKey {
    KeyGroup group = 0;
    std::string_view key;
    bool set = false;
  };
  CurrentKey current_;
};

// The heap backend: ordered maps in memory; Capture serializes them (the blob is the view).
std::unique_ptr<KeyedStateBackend> NewHeapStateBackend(KeyGroupRange key_groups);

// What a task hands a backend factory: its key groups and, for a backend on the local disk
// (RocksDB), its process's disk and clock and a directory of its own on that disk.
struct StateBackendSetup {
  KeyGroupRange key_groups;
  runtime::LocalFs* local_fs = nullptr;
  const runtime::Clock* clock = nullptr;
  std::string directory;       // this attempt's: "<task_directory>/attempt-<n>"
  std::string task_directory;  // the task's on this node, where earlier attempts' are too
};
// Makes a subtask's backend; an error fails the task (a local disk that cannot hold it).
using StateBackendFactory =
    std::function<Result<std::unique_ptr<KeyedStateBackend>>(const StateBackendSetup&)>;

}  // namespace faultline::engine
