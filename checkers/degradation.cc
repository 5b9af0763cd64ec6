#include "checkers/degradation.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "engine/exec/cluster.h"
#include "simulator/fault_points.h"

namespace faultline::checkers {
namespace {

const CompletionRecord* CompletionOf(const Recording& recording, uint64_t checkpoint) {
  for (const CompletionRecord& c : recording.completions) {
    if (c.checkpoint == checkpoint) return &c;
  }
  return nullptr;
}

// Fills `f.reemitted` from the offsets the two checkpoints recorded at completion.
void RangeOf(const Recording& recording, ReportedFallback& f) {
  if (f.fallback == 0) return;  // policy fail: nothing is emitted again
  const CompletionRecord* from = CompletionOf(recording, f.fallback);
  const CompletionRecord* to = CompletionOf(recording, f.unreadable);
  for (const auto& [c, id] : {std::pair{from, f.fallback}, std::pair{to, f.unreadable}}) {
    if (c == nullptr || !c->source_offsets) {
      f.why_unknown = "the source offsets of checkpoint " + std::to_string(id) +
                      (c == nullptr ? " were never seen completing" : " were unreadable");
      return;
    }
  }
  // Unknown channel state explains nothing: its records, if committed twice, stay violations.
  if (from->in_flight) f.in_flight = *from->in_flight;
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [partition, end] : *to->source_offsets) {
    auto start = from->source_offsets->find(partition);
    ranges[partition] = {start == from->source_offsets->end() ? 0 : start->second, end};
  }
  f.reemitted = std::move(ranges);
}

// Fills `f.earlier_txns`: the transactions pre-committed for checkpoints (F, U].
void EarlierTransactionsOf(const Recording& recording, ReportedFallback& f) {
  if (f.fallback == 0) return;
  for (const CompletionRecord& c : recording.completions) {
    for (const engine::PendingTransaction& p : c.pending) {
      if (p.checkpoint_id > f.fallback && p.checkpoint_id <= f.unreadable) {
        f.earlier_txns.insert(p.txn);
      }
    }
  }
}

}  // namespace

bool ReportedFallback::Reemits(const engine::RecordId& id) const {
  if (!reemitted) return false;
  auto it = reemitted->find(id.partition);
  if (it != reemitted->end() && id.offset >= it->second.first && id.offset < it->second.second) {
    return true;
  }
  return std::binary_search(in_flight.begin(), in_flight.end(),
                            engine::Provenance::Of(id).hash_sum);
}

std::string ReportedFallback::Describe() const {
  return "the engine reported checkpoint " + std::to_string(unreadable) + " unreadable" +
         (destroyed_by_injection ? " after an injected storage fault destroyed its data"
                                 : " though no injected fault destroyed its data") +
         " and " +
         (fallback != 0 ? "fell back to checkpoint " + std::to_string(fallback)
                        : std::string("stopped the job (policy fail)"));
}

int64_t DestroyedOnCheckpoint(const Recording& recording, uint64_t checkpoint) {
  const std::string prefix = "checkpoints/chk-" + std::to_string(checkpoint) + "/";
  const std::string savepoint = engine::SavepointDirectory(checkpoint) + "/";  // (a stop's)
  // An incremental checkpoint's shared files live outside its prefix, uploaded by it or by an
  // earlier checkpoint: the ones its metadata references are its data too.
  std::set<std::string_view> shared;
  for (const CompletionRecord& c : recording.completions) {
    if (c.checkpoint != checkpoint) continue;
    for (const BlobCheck& b : c.blobs) {
      if (b.blob.starts_with("checkpoints/shared/")) shared.insert(b.blob);
    }
  }
  int64_t effects = 0;
  for (const InjectedFault& f : recording.faults) {
    if (f.point == sim::FaultPoint::kBlobPut &&
        (f.target.starts_with(prefix) || f.target.starts_with(savepoint) ||
         shared.contains(f.target))) {
      effects |= f.effect & kDestroyingEffects;
    }
  }
  return effects;
}

std::vector<ReportedFallback> ReportedFallbacks(const Recording& recording) {
  std::vector<ReportedFallback> out;
  for (const EngineEventRecord& e : recording.events) {
    if (e.event != engine::EngineEvent::kCheckpointUnreadable) continue;
    ReportedFallback f;
    f.unreadable = static_cast<uint64_t>(e.args.checkpoint.value());
    f.fallback = static_cast<uint64_t>(e.args.fallback.value());
    f.reported = e.time;
    f.destroyed_by_injection = DestroyedOnCheckpoint(recording, f.unreadable) != 0;
    RangeOf(recording, f);
    EarlierTransactionsOf(recording, f);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace faultline::checkers
