// ORACLES.md, "When injected faults destroy checkpoint data": the breaches the engine itself
// reported (a checkpoint it found unreadable, and the older one it fell back to), and exactly
// what each explains.
//
// A reported fallback from checkpoint U to checkpoint F re-emits the records between F's source
// offsets and U's: those, and only those, may be committed once more than the reference says
// (EO-OUT). It explains nothing unless an injected fault destroyed U's data: a put that the
// blob store lost, corrupted or tore. A fault that only delayed an operation or failed it
// transiently (the engine may retry) destroyed nothing. A lost record, a duplicate outside the
// range, and every finding of DUR, REC and TXN are judged as usual.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/time.h"
#include "checkers/recorder.h"
#include "engine/api/record.h"
#include "simulator/fault_points.h"

namespace faultline::checkers {

// The injected effects (sim::kEffect* bits) that destroy a stored blob: a lost, corrupted or
// torn put. An injected error on a call, or a delay, alters nothing.
inline constexpr int64_t kDestroyingEffects =
    sim::kEffectCorrupt | sim::kEffectLose | sim::kEffectTorn;

struct ReportedFallback {
  uint64_t unreadable = 0;  // the checkpoint the engine reported unreadable
  uint64_t fallback = 0;    // the one it restored instead (0: it failed the job, policy fail)
  Time reported;
  // An injected fault lost, corrupted or tore a put of the unreadable checkpoint's blobs.
  bool destroyed_by_injection = false;
  // Per source partition, the offsets [from, to) the fallback emits again; unset when a
  // checkpoint's source offsets are unknown (see `why_unknown`) or nothing is re-emitted.
  std::optional<std::map<uint32_t, std::pair<uint64_t, uint64_t>>> reemitted;
  // The records the fallback checkpoint persisted in flight (unaligned channel state), by
  // provenance hash, sorted: restoring it replays them, so they are emitted again too (they were
  // behind its cut, yet committed after it).
  std::vector<uint64_t> in_flight;
  // The two-phase-commit transactions that the checkpoints after the fallback one, up to the
  // unreadable one, pre-committed (their sink blobs): the attempts before the fallback wrote the
  // re-emitted range into them, so what they committed is that range's first copy.
  std::set<std::string> earlier_txns;
  std::string why_unknown;

  // True when `id` is in the re-emitted range or the fallback checkpoint's channel state.
  bool Reemits(const engine::RecordId& id) const;
  // "checkpoint 3 (unreadable after an injected corruption) -> checkpoint 2".
  std::string Describe() const;
};

// Every checkpoint-unreadable event of the run, in order, with what it explains.
std::vector<ReportedFallback> ReportedFallbacks(const Recording& recording);

// Effects (sim::kEffect* bits) that destroyed data of `checkpoint`: lost, corrupt or torn puts.
int64_t DestroyedOnCheckpoint(const Recording& recording, uint64_t checkpoint);

}  // namespace faultline::checkers
