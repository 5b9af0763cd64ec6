#include "checkers/run_view.h"

#include <algorithm>
#include <span>
#include <utility>

#include "base/assert.h"
#include "base/hash.h"

namespace faultline::checkers {
namespace {

Result<std::vector<SourceRecord>> ReadSources(const sim::SourceLogSim& log, uint32_t source_id) {
  std::vector<SourceRecord> out;
  size_t total = 0;
  for (uint32_t p = 0; p < log.PartitionCount(); ++p) total += log.Partition(p).size();
  out.reserve(total);
  for (uint32_t p = 0; p < log.PartitionCount(); ++p) {
    const runtime::RecordBatch& partition = log.Partition(p);
    for (uint64_t offset = 0; offset < partition.size(); ++offset) {
      size_t at = 0;
      Result<engine::Record> record = engine::ReadRecord(partition[offset], at);
      const engine::RecordId id{source_id, p, offset};
      if (!record.ok()) {
        return record.status().WithContext("source record " + std::to_string(source_id) + "/" +
                                           std::to_string(p) + "@" + std::to_string(offset));
      }
      record->provenance = engine::Provenance::Of(id);
      out.push_back(SourceRecord{id, std::move(*record)});
    }
  }
  return out;
}

Result<std::vector<CommittedRecord>> ReadCommitted(const sim::OutputStoreSim& store) {
  std::vector<CommittedRecord> out;
  const auto all = store.visible();
  out.reserve(all.size());
  for (const sim::OutputRecord& visible : all) {
    size_t at = 0;
    Result<engine::Record> record = engine::ReadRecord(visible.payload, at);
    if (!record.ok()) {
      return record.status().WithContext("committed record of " + std::string(visible.writer) +
                                         " " + std::string(visible.txn));
    }
    out.push_back(CommittedRecord{std::move(*record), visible.kind, std::string(visible.writer),
                                  std::string(visible.txn), visible.visible_at, visible.epoch});
  }
  return out;
}

}  // namespace

Result<RunView> ViewOf(sim::JobWorld& jw, const OrderLog* order) {
  RunView view;
  view.setup = &jw.setup();
  const uint32_t source_id = view.setup->job.operators.front().source.source_id;
  FL_ASSIGN_OR_RETURN(view.sources, ReadSources(jw.world().source_log(), source_id));
  FL_ASSIGN_OR_RETURN(view.committed, ReadCommitted(jw.world().output_store()));
  view.blobs = &jw.world().blob_store().objects();
  view.history = &jw.world().blob_store().history();
  view.order = order;
  return view;
}

uint64_t ChecksumOf(const Bytes& bytes) {
  return Checksum(std::as_bytes(std::span<const uint8_t>(bytes.data(), bytes.size())));
}

const Bytes* SentBlobs::LiveAsSent(std::string_view name) const {
  if (live_ == nullptr) return nullptr;
  auto it = live_->find(name);
  if (it == live_->end()) return nullptr;
  if (history_ != nullptr && history_->altered.contains(name)) return nullptr;
  return &it->second;
}

std::vector<SentBlobs::Version> SentBlobs::Versions(std::string_view prefix) const {
  std::map<std::string_view, std::vector<const Bytes*>> by_name;
  if (live_ != nullptr) {
    for (auto it = live_->lower_bound(prefix); it != live_->end() && it->first.starts_with(prefix);
         ++it) {
      if (const Bytes* bytes = LiveAsSent(it->first)) by_name[it->first].push_back(bytes);
    }
  }
  if (history_ != nullptr) {
    for (auto it = history_->archive.lower_bound(prefix);
         it != history_->archive.end() && it->first.starts_with(prefix); ++it) {
      by_name[it->first].push_back(&it->second.bytes);
    }
  }
  std::vector<Version> out;
  for (const auto& [name, versions] : by_name) {
    for (size_t i = 0; i < versions.size(); ++i) {
      bool seen = false;
      for (size_t j = 0; j < i && !seen; ++j) seen = *versions[j] == *versions[i];
      if (!seen) out.push_back(Version{name, versions[i]});
    }
  }
  return out;
}

const Bytes* SentBlobs::Find(std::string_view name, uint64_t checksum, uint64_t size) const {
  if (const Bytes* live = LiveAsSent(name)) return live;
  if (history_ == nullptr) return nullptr;
  auto [first, last] = history_->archive.equal_range(name);
  if (first == last) return nullptr;
  auto latest = first;
  for (auto it = first; it != last; ++it) {
    if (it->second.bytes.size() == size && ChecksumOf(it->second.bytes) == checksum) {
      return &it->second.bytes;
    }
    if (it->second.put_at >= latest->second.put_at) latest = it;
  }
  return &latest->second.bytes;
}

namespace {

// Spreads a hash over the table's low bits (the ids' hashes are already mixed; this keeps the
// table sound for any input).
uint64_t Slot(uint64_t hash, uint64_t mask) {
  return (hash ^ (hash >> 29)) * 0x9e3779b97f4a7c15ULL >> 17 & mask;
}

}  // namespace

SourceIndex::SourceIndex(const std::vector<SourceRecord>& sources) {
  FL_ASSERT(sources.size() < UINT32_MAX - 1, "too many source records to index");
  const size_t n = sources.size();
  ids_.reserve(n);
  hashes_.reserve(n);
  records_.reserve(n);
  by_id_.reserve(n);
  size_t capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  slots_.assign(capacity, 0);
  mask_ = capacity - 1;
  for (size_t i = 0; i < n; ++i) {
    const SourceRecord& s = sources[i];
    const uint64_t hash = s.id.Hash();
    ids_.push_back(s.id);
    hashes_.push_back(hash);
    records_.push_back(&s.record);
    by_id_.emplace_back(IdKey{s.id.source, s.id.partition, s.id.offset}, static_cast<uint32_t>(i));
    for (uint64_t slot = Slot(hash, mask_);; slot = (slot + 1) & mask_) {
      if (slots_[slot] == 0) {
        slots_[slot] = static_cast<uint32_t>(i + 1);
        break;
      }
      if (hashes_[slots_[slot] - 1] == hash) break;  // the first with this hash stays
    }
  }
  // By id, then position: the first of equal ids first. The view's sources are usually in id
  // order already.
  if (!std::is_sorted(by_id_.begin(), by_id_.end())) std::sort(by_id_.begin(), by_id_.end());
  first_with_id_.resize(n);
  for (size_t j = 0; j < by_id_.size(); ++j) {
    const bool first = j == 0 || by_id_[j - 1].first != by_id_[j].first;
    first_with_id_[by_id_[j].second] =
        first ? by_id_[j].second : first_with_id_[by_id_[j - 1].second];
  }
}

std::optional<size_t> SourceIndex::FirstWithHash(uint64_t hash) const {
  for (uint64_t slot = Slot(hash, mask_);; slot = (slot + 1) & mask_) {
    const uint32_t at = slots_[slot];
    if (at == 0) return std::nullopt;
    if (hashes_[at - 1] == hash) return at - 1;
  }
}

std::optional<engine::RecordId> SourceIndex::IdOf(const engine::Provenance& provenance) const {
  if (provenance.count != 1) return std::nullopt;
  std::optional<size_t> at = FirstWithHash(provenance.hash_sum);
  if (!at) return std::nullopt;
  return ids_[*at];
}

const engine::Record* SourceIndex::Find(const engine::RecordId& id) const {
  // By the hash first: the first record with the id's hash is the first with the id, unless
  // another id shares the hash (then by the sorted ids).
  if (std::optional<size_t> at = FirstWithHash(id.Hash()); at && ids_[*at] == id) {
    return records_[*at];
  }
  const IdKey key{id.source, id.partition, id.offset};
  auto it = std::lower_bound(by_id_.begin(), by_id_.end(), key,
                             [](const auto& entry, const IdKey& k) { return entry.first < k; });
  return it == by_id_.end() || it->first != key ? nullptr : records_[it->second];
}

}  // namespace faultline::checkers
