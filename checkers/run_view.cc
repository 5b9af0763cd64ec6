#include "checkers/run_view.h"

#include <algorithm>
#include <span>
#include <utility>

#include "base/hash.h"

namespace faultline::checkers {
namespace {

Result<std::vector<SourceRecord>> ReadSources(const sim::SourceLogSim& log, uint32_t source_id) {
  std::vector<SourceRecord> out;
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
  for (const sim::OutputRecord& visible : store.visible()) {
    size_t at = 0;
    Result<engine::Record> record = engine::ReadRecord(visible.payload, at);
    if (!record.ok()) {
      return record.status().WithContext("committed record of " + std::string(visible.writer) +
                                         " " + std::string(visible.txn));
    }
    out.push_back(CommittedRecord{std::move(*record), visible.kind, std::string(visible.writer),
                                  std::string(visible.txn), visible.visible_at});
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

SourceIndex::SourceIndex(const std::vector<SourceRecord>& sources) {
  by_hash_.reserve(sources.size());
  by_id_.reserve(sources.size());
  for (const SourceRecord& s : sources) {
    by_hash_.emplace(s.id.Hash(), s.id);
    by_id_.emplace_back(IdKey{s.id.source, s.id.partition, s.id.offset}, &s.record);
  }
  // Stable, so the first of equal ids stays first (as a map's emplace keeps it); the view's
  // sources are usually in id order already.
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!std::is_sorted(by_id_.begin(), by_id_.end(), by_key)) {
    std::stable_sort(by_id_.begin(), by_id_.end(), by_key);
  }
}

std::optional<engine::RecordId> SourceIndex::IdOf(const engine::Provenance& provenance) const {
  if (provenance.count != 1) return std::nullopt;
  auto it = by_hash_.find(provenance.hash_sum);
  if (it == by_hash_.end()) return std::nullopt;
  return it->second;
}

const engine::Record* SourceIndex::Find(const engine::RecordId& id) const {
  const IdKey key{id.source, id.partition, id.offset};
  auto it = std::lower_bound(by_id_.begin(), by_id_.end(), key,
                             [](const auto& entry, const IdKey& k) { return entry.first < k; });
  return it == by_id_.end() || it->first != key ? nullptr : it->second;
}

}  // namespace faultline::checkers
