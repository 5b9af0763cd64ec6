// REC (ORACLES.md): recovery restores the latest completed checkpoint (the one the HA pointer
// names) unless it is unreadable, every restored subtask's state digest equals the digest
// recorded when that state was captured, and a blob that fails its checksum is never used.
// An unreadable latest checkpoint that the engine itself reported (checkpoint-unreadable) and
// that an injected storage fault destroyed is expected degradation (a note); a reported one no
// injected fault explains, or a silent fallback, is a violation.
//
// What was restored is taken from the blob-store reads, not from the engine's restore events:
// the checkpoint is the one whose state blobs an attempt read, and the restored digest is the
// checkers' own digest (checkers/blob_reader.h) of the keyed blob as read. The engine's
// restore-finished digests are not consulted; its deployed event's restored checkpoint is judged
// too (it can only add a violation). A fallback must go to the newest retained checkpoint (as
// the HA pointer named them) that no injected fault destroyed and the engine did not report
// unreadable.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "checkers/checker.h"
#include "checkers/degradation.h"

namespace faultline::checkers {
namespace {

// The checkpoints the engine reported unreadable, before `when`, on a chain of fallbacks from
// `latest` to `restored` (latest -> f1 -> ... -> restored, each step a checkpoint-unreadable
// event naming the next as its fallback; 0: the policy failed the job), newest first; nullopt
// when no such chain was reported.
std::optional<std::vector<uint64_t>> ReportedChain(const Recording& rec, uint64_t latest,
                                                   uint64_t restored, Time when) {
  std::map<uint64_t, std::set<uint64_t>> fallbacks;  // unreadable -> fallbacks reported
  for (const EngineEventRecord& e : rec.events) {
    if (e.time > when) break;
    if (e.event != engine::EngineEvent::kCheckpointUnreadable) continue;
    fallbacks[static_cast<uint64_t>(e.args.checkpoint.value())].insert(
        static_cast<uint64_t>(e.args.fallback.value()));
  }
  // Depth first; each step goes to an older checkpoint (or 0), so it ends.
  std::vector<uint64_t> chain{latest};
  std::function<bool(uint64_t)> reach = [&](uint64_t from) {
    auto it = fallbacks.find(from);
    if (it == fallbacks.end()) return false;
    for (uint64_t next : it->second) {
      if (next == restored) return true;
      if (next == 0 || next >= from) continue;
      chain.push_back(next);
      if (reach(next)) return true;
      chain.pop_back();
    }
    return false;
  };
  if (!reach(latest)) return std::nullopt;
  return chain;
}

// The checkpoints the HA pointer named as retained at `when` (its last write by then).
const std::vector<uint64_t>* RetainedAt(const Recording& rec, Time when) {
  const std::vector<uint64_t>* retained = nullptr;
  for (const CompletionRecord& c : rec.completions) {
    if (c.time > when) break;
    retained = &c.retained;
  }
  return retained;
}

// A retained checkpoint between a fallback step's ends that the step passed over although no
// injected fault destroyed it and the engine never reported it unreadable: the fallback must go
// to the newest readable retained checkpoint (ORACLES.md, REC). 0: none.
uint64_t SkippedOver(const Recording& rec, uint64_t from, uint64_t to, Time when) {
  const std::vector<uint64_t>* retained = RetainedAt(rec, when);
  if (retained == nullptr) return 0;
  for (auto it = retained->rbegin(); it != retained->rend(); ++it) {
    const uint64_t c = *it;
    if (c >= from || c <= to) continue;
    if (DestroyedOnCheckpoint(rec, c) != 0) continue;
    const bool reported = std::any_of(rec.events.begin(), rec.events.end(), [&](const auto& e) {
      return e.time <= when && e.event == engine::EngineEvent::kCheckpointUnreadable &&
             static_cast<uint64_t>(e.args.checkpoint.value()) == c;
    });
    if (!reported) return c;
  }
  return 0;
}

// A restore of `r.checkpoint` reached from the HA pointer's `r.pointer_latest` along the reported
// `chain`: every checkpoint reported unreadable on it must have been destroyed by an injected
// storage fault (then each step is a note, once per checkpoint), else it is a violation. Each
// step must go to the newest retained checkpoint that nothing destroyed (under the fail policy a
// step to 0, failing the job, passes over them by design).
void JudgeChain(const Recording& rec, const RestoreRecord& r, const std::vector<uint64_t>& chain,
                const std::string& who, bool fallback_policy, std::set<uint64_t>& degraded,
                Verdict& verdict) {
  auto next_of = [&](size_t i) { return i + 1 < chain.size() ? chain[i + 1] : r.checkpoint; };
  for (size_t i = 0; i < chain.size(); ++i) {
    if (next_of(i) == 0 && !fallback_policy) continue;
    const uint64_t skipped = SkippedOver(rec, chain[i], next_of(i), r.time);
    if (skipped == 0) continue;
    verdict.Fail(Violation{
        "recovery fell back past a readable retained checkpoint",
        Evidence{.checkpoint_id = skipped,
                 .time = r.time,
                 .detail = who + " fell back from checkpoint " + std::to_string(chain[i]) + " to " +
                           (next_of(i) == 0 ? std::string("nothing (the beginning of the input)")
                                            : "checkpoint " + std::to_string(next_of(i))) +
                           ", passing over checkpoint " + std::to_string(skipped) +
                           ", which the HA pointer retained and no injected fault destroyed"}});
    return;
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    if (DestroyedOnCheckpoint(rec, chain[i]) != 0) continue;
    verdict.Fail(Violation{
        chain[i] == r.pointer_latest
            ? "the engine reported the latest completed checkpoint unreadable, but no injected "
              "fault destroyed it"
            : "the engine reported a completed checkpoint unreadable, but no injected fault "
              "destroyed it",
        Evidence{.checkpoint_id = chain[i],
                 .time = r.time,
                 .detail = who + " restored checkpoint " + std::to_string(r.checkpoint) +
                           " after falling back from " + std::to_string(chain[i]) + " to " +
                           std::to_string(next_of(i)) + "; the HA pointer named " +
                           std::to_string(r.pointer_latest)}});
    return;
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    if (!degraded.insert(chain[i]).second) continue;
    verdict.Note("checkpoint " + std::to_string(chain[i]) +
                 " was unreadable after an injected storage fault; the engine reported it and "
                 "fell back to " +
                 std::to_string(next_of(i)) + ": expected degradation");
  }
}

// Judges, once per attempt and checkpoint, the checkpoint each attempt's restore read (its
// state blobs' names) against the HA pointer at that attempt's deployment.
template <typename Judge>
void JudgeReadCheckpoints(const Recording& rec, Judge& judge) {
  std::map<uint64_t, const RestoreRecord*> deployment_of;
  for (const RestoreRecord& d : rec.deployments) deployment_of[d.attempt] = &d;
  std::set<std::pair<uint64_t, uint64_t>> judged;  // (attempt, checkpoint)
  for (const BlobRead& read : rec.reads) {
    if (!read.ok() || !judged.insert({read.attempt, read.checkpoint}).second) continue;
    auto d = deployment_of.find(read.attempt);
    if (d == deployment_of.end()) continue;  // read before any deployment: nothing to restore
    RestoreRecord restored = *d->second;
    restored.time = *read.replied;
    restored.checkpoint = read.checkpoint;
    judge(restored, "attempt " + std::to_string(read.attempt) + " (it read " + read.blob + ")");
  }
}

// The checkers' digest of every keyed blob a restore read against the digest recorded for it
// when its checkpoint completed.
void JudgeReadDigests(const Recording& rec, Verdict& verdict) {
  std::map<uint64_t, const CompletionRecord*> completion_of;
  for (const CompletionRecord& c : rec.completions) completion_of[c.checkpoint] = &c;
  for (const BlobRead& read : rec.reads) {
    if (!read.digest) continue;
    auto c = completion_of.find(read.checkpoint);
    if (c == completion_of.end()) continue;  // not a completed checkpoint: judged above
    auto recorded = c->second->recorded_digests.find(read.blob);
    if (recorded == c->second->recorded_digests.end() || recorded->second == *read.digest) {
      continue;
    }
    verdict.Fail(
        Violation{"restored state differs from the state captured for the checkpoint",
                  Evidence{.checkpoint_id = read.checkpoint,
                           .blob = read.blob,
                           .time = *read.replied,
                           .detail = "attempt " + std::to_string(read.attempt) +
                                     " read a blob whose state digest (the checkers' own) is " +
                                     std::to_string(*read.digest) + "; recorded at capture " +
                                     std::to_string(recorded->second)}});
  }
}

// No blob failing its checksum was used: every blob of each finished restore's checkpoint and
// task is stored with its handle's checksum.
void JudgeRestoredBlobs(const Recording& rec, Verdict& verdict) {
  for (const RestoreFinishedRecord& f : rec.restores_finished) {
    for (const BlobCheck& b : f.blobs) {
      if (b.intact()) continue;
      const bool injected = rec.InjectedOnBlob(b.blob) & kDestroyingEffects;
      verdict.Fail(Violation{
          "a task restored from a blob that fails its checksum",
          Evidence{
              .checkpoint_id = f.checkpoint,
              .blob = b.blob,
              .time = f.time,
              .detail = "task " + f.task + "; " +
                        (b.present ? "stored checksum " + std::to_string(b.stored_checksum) +
                                         ", the handle says " + std::to_string(b.expected_checksum)
                                   : std::string("the blob is absent")) +
                        (injected ? " (an injected fault altered it)" : "")}});
    }
  }
}

}  // namespace

Verdict CheckRecovery(const RunRecord& run, Derived* /*derived*/) {
  Verdict verdict("REC");
  const Recording& rec = run.recording;
  std::set<uint64_t> degraded;  // noted once each
  const bool fallback_policy =
      run.view.setup->config.unreadable_checkpoint == engine::UnreadableCheckpointPolicy::kFallback;

  // Judges restoring `restored` where the HA pointer named `latest`: through a chain of reported
  // fallbacks (latest -> ... -> restored), each step explained by an injected storage fault that
  // destroyed the checkpoint reported unreadable.
  auto judge = [&](const RestoreRecord& r, const std::string& who) {
    if (r.checkpoint == r.pointer_latest) return;
    std::optional<std::vector<uint64_t>> chain;
    if (r.pointer_latest > 0) chain = ReportedChain(rec, r.pointer_latest, r.checkpoint, r.time);
    if (chain) {
      JudgeChain(rec, r, *chain, who, fallback_policy, degraded, verdict);
      return;
    }
    verdict.Fail(Violation{
        "recovery did not restore the latest completed checkpoint",
        Evidence{.checkpoint_id = r.checkpoint,
                 .time = r.time,
                 .detail = who + " restored " +
                           (r.checkpoint == 0 ? std::string("nothing (the beginning of the input)")
                                              : "checkpoint " + std::to_string(r.checkpoint)) +
                           "; the HA pointer named checkpoint " + std::to_string(r.pointer_latest) +
                           " and the engine reported no chain of fallbacks to it"}});
  };
  for (const RestoreRecord& d : rec.deployments) {
    judge(d, "attempt " + std::to_string(d.attempt));
  }
  JudgeReadCheckpoints(rec, judge);

  // The fail policy: a reported unreadable checkpoint that failed the job.
  for (const EngineEventRecord& e : rec.events) {
    if (e.event != engine::EngineEvent::kCheckpointUnreadable || e.args.fallback != 0) continue;
    const uint64_t id = static_cast<uint64_t>(e.args.checkpoint.value());
    if (DestroyedOnCheckpoint(rec, id) != 0) {
      if (degraded.insert(id).second) {
        verdict.Note("checkpoint " + std::to_string(id) +
                     " was unreadable after an injected storage fault; the engine reported it "
                     "and failed the job (policy fail): expected degradation");
      }
      continue;
    }
    verdict.Fail(
        Violation{"the engine reported a checkpoint unreadable, but no injected fault "
                  "destroyed it",
                  Evidence{.checkpoint_id = id, .time = e.time, .detail = e.detail}});
  }

  JudgeRestoredBlobs(rec, verdict);
  JudgeReadDigests(rec, verdict);
  return verdict;
}

}  // namespace faultline::checkers
