// What the checkers read of one run, gathered through side channels (direct reads of the
// simulated stores that draw no random numbers and record nothing). Plain data, so a test can
// alter it after the fact (drop a committed record, duplicate one) and prove a checker notices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "checkers/order_log.h"
#include "checkers/verdict.h"
#include "engine/api/record.h"
#include "engine/exec/cluster.h"
#include "simulator/job_world.h"
#include "simulator/services.h"

namespace faultline::checkers {

using Bytes = std::vector<uint8_t>;
using BlobMap = std::map<std::string, Bytes, std::less<>>;

struct SourceRecord {
  engine::RecordId id;
  engine::Record record;  // provenance = Provenance::Of(id)
};

// One record the output store made visible.
struct CommittedRecord {
  engine::Record record;
  sim::OutputRecord::Kind kind = sim::OutputRecord::Kind::kTransactional;
  std::string writer;
  std::string txn;  // transactional commits only
  Time visible_at;
  uint64_t epoch = 0;  // the writer's epoch: the job attempt that wrote it
};

struct RunView {
  const engine::JobSetup* setup = nullptr;  // job graph, engine config, execution plan
  std::vector<SourceRecord> sources;        // partition by partition, offset order
  std::vector<CommittedRecord> committed;   // visibility order
  const BlobMap* blobs = nullptr;           // the blob store's objects
  // The store's tombstone view: what cleanup deleted, puts overwrote, and the bytes as sent of
  // the puts an injected fault lost, corrupted or tore. Null: none (only `blobs` is read).
  const sim::BlobHistory* history = nullptr;
  const OrderLog* order = nullptr;  // null: no order log was installed
  // Attempts deployed at a plan generation whose parallelisms differ from the job as submitted
  // (a rescale or a resume, JobSetup::rescaled), by attempt (RescaledAttempts, checker.h). The
  // order log's task indices are each attempt's own generation's: checkers follow such a run's
  // keys through their key groups' owners (history.h) and its tasks attempt by attempt.
  std::map<uint64_t, uint32_t> rescaled_attempts;
  // A stop-with-savepoint ended the job (its id; 0: none): `sources` then hold only the records
  // before the savepoint's source offsets, all the job was to process and commit.
  uint64_t stopped_with_savepoint = 0;
};

// Reads the run of `jw` (the views point into it: keep it alive). `order` may be null.
// DataLoss when a source payload or a committed record does not decode.
Result<RunView> ViewOf(sim::JobWorld& jw, const OrderLog* order);

// The blob store's checksum of `bytes` (what a metadata handle records).
uint64_t ChecksumOf(const Bytes& bytes);

// Every version of a blob the engine sent, live or gone, read through a RunView's `blobs` and
// `history` without copying: what a checker judges when it judges what the engine wrote.
class SentBlobs {
 public:
  explicit SentBlobs(const RunView& run) : SentBlobs(run.blobs, run.history) {}
  // Either may be null.
  SentBlobs(const BlobMap* live, const sim::BlobHistory* history)
      : live_(live), history_(history) {}
  struct Version {
    std::string_view name;
    const Bytes* bytes;
  };
  // Every version sent under a name starting with `prefix`, by name; versions with equal bytes
  // once.
  std::vector<Version> Versions(std::string_view prefix) const;
  // The stored version of `name` when it is what the engine sent; else (deleted, overwritten, or
  // altered by a fault) the archived version with this checksum and size, else the last one
  // put; null when the engine never sent it.
  const Bytes* Find(std::string_view name, uint64_t checksum, uint64_t size) const;

 private:
  // The live version when it is what the engine sent.
  const Bytes* LiveAsSent(std::string_view name) const;

  const BlobMap* live_;
  const sim::BlobHistory* history_;
};

// Source records by id and by provenance hash, in flat tables (built once per checker run, read
// for every committed and logged record).
class SourceIndex {
 public:
  explicit SourceIndex(const std::vector<SourceRecord>& sources);
  // The source record a single-record provenance names, if any.
  std::optional<engine::RecordId> IdOf(const engine::Provenance& provenance) const;
  const engine::Record* Find(const engine::RecordId& id) const;

  // Positions in the sources given. The first source record whose id hashes to `hash` (the one
  // IdOf names), if any: one position per distinct hash.
  std::optional<size_t> FirstWithHash(uint64_t hash) const;
  // The first source record with the same id as the one at `position`: one position per id.
  size_t FirstWithId(size_t position) const { return first_with_id_[position]; }
  size_t size() const { return ids_.size(); }

 private:
  using IdKey = std::tuple<uint32_t, uint32_t, uint64_t>;

  std::vector<engine::RecordId> ids_;
  std::vector<uint64_t> hashes_;
  std::vector<const engine::Record*> records_;
  // Open addressing, linear probing: position + 1 of the first source with each hash, or 0.
  std::vector<uint32_t> slots_;
  uint64_t mask_ = 0;
  std::vector<std::pair<IdKey, uint32_t>> by_id_;  // sorted by id, then position
  std::vector<uint32_t> first_with_id_;
};

}  // namespace faultline::checkers
