// DUR (ORACLES.md): the engine never deletes or overwrites a blob that a retained checkpoint
// references, and never completes a checkpoint whose blobs were not durable at that moment;
// nor deletes a savepoint no job resumed from in claim mode.
// Blobs lost, torn or corrupted by an injected storage fault are not the engine's violation (a
// note; what the engine does next is REC's to judge).
#include <map>
#include <optional>
#include <string>

#include "checkers/checker.h"
#include "checkers/degradation.h"

namespace faultline::checkers {
namespace {

std::string Describe(const BlobCheck& b) {
  if (!b.present) return "absent from the blob store";
  return "stored " + std::to_string(b.stored_size) + " bytes with checksum " +
         std::to_string(b.stored_checksum) + ", the handle says " +
         std::to_string(b.expected_size) + " bytes with checksum " +
         std::to_string(b.expected_checksum);
}

std::string InjectedNote(const Recording& recording, const std::string& blob) {
  const int64_t effects = recording.InjectedOnBlob(blob);
  std::string what;
  if (effects & sim::kEffectLose) what += "lost write";
  if (effects & sim::kEffectCorrupt) what += std::string(what.empty() ? "" : ", ") + "corruption";
  if (effects & sim::kEffectTorn) what += std::string(what.empty() ? "" : ", ") + "torn write";
  return what;
}

// The metadata blob `name` of checkpoint (or savepoint) `id` as the store holds it at the end
// of the run; nullopt when it is gone or does not decode (a violation named after `what`, unless
// an injected fault destroyed it).
std::optional<CheckpointBlobs> MetadataAtEnd(const RunRecord& run, const std::string& name,
                                             uint64_t id, const std::string& what,
                                             Verdict& verdict) {
  const bool destroyed = (run.recording.InjectedOnBlob(name) & kDestroyingEffects) != 0;
  auto metadata = run.view.blobs->find(name);
  if (metadata == run.view.blobs->end()) {
    if (!destroyed) {
      verdict.Fail(Violation{what + " is gone at the end of the run",
                             Evidence{.checkpoint_id = id, .blob = name, .time = run.end}});
    }
    return std::nullopt;
  }
  Result<CheckpointBlobs> blobs = ReadCheckpointBlobs(metadata->second, name);
  if (!blobs.ok()) {
    if (!destroyed) {
      verdict.Fail(
          Violation{what + " does not decode", Evidence{.checkpoint_id = id,
                                                        .blob = name,
                                                        .time = run.end,
                                                        .detail = blobs.status().ToString()}});
    }
    return std::nullopt;
  }
  return std::move(*blobs);
}

// Fails `verdict` for each blob `blobs` references that is not in the store at the end with the
// size and checksum of its handle, unless an injected fault destroyed it.
void FailWhatIsNotWhole(const RunRecord& run, const CheckpointBlobs& blobs, uint64_t id,
                        const std::string& what, Verdict& verdict) {
  for (const std::string& blob : blobs.referenced) {
    auto stored = run.view.blobs->find(blob);
    const BlobCheck b =
        CheckBlob(blob, stored == run.view.blobs->end() ? nullptr : &stored->second, blobs);
    if (b.intact() || (run.recording.InjectedOnBlob(blob) & kDestroyingEffects)) continue;
    verdict.Fail(Violation{
        what, Evidence{.checkpoint_id = id, .blob = blob, .time = run.end, .detail = Describe(b)}});
  }
}

}  // namespace

Verdict CheckDurability(const RunRecord& run, Derived* /*derived*/) {
  Verdict verdict("DUR");
  const Recording& rec = run.recording;

  // 1. At each completion, everything the metadata references is stored whole.
  for (const CompletionRecord& c : rec.completions) {
    if (!c.metadata_present || !c.metadata_error.empty()) {
      if (rec.InjectedOnBlob(c.metadata_blob) & kDestroyingEffects) {
        verdict.Note("checkpoint " + std::to_string(c.checkpoint) + ": metadata " +
                     c.metadata_blob + " destroyed by an injected " +
                     InjectedNote(rec, c.metadata_blob));
        continue;
      }
      verdict.Fail(
          Violation{"a checkpoint completed whose metadata blob was not durable",
                    Evidence{.checkpoint_id = c.checkpoint,
                             .blob = c.metadata_blob,
                             .time = c.time,
                             .detail = c.metadata_present ? c.metadata_error
                                                          : "absent from the blob store"}});
      continue;
    }
    for (const BlobCheck& b : c.blobs) {
      if (b.intact()) continue;
      if (rec.InjectedOnBlob(b.blob) & kDestroyingEffects) {
        verdict.Note("checkpoint " + std::to_string(c.checkpoint) + ": blob " + b.blob +
                     " destroyed by an injected " + InjectedNote(rec, b.blob) +
                     " (not the engine's violation)");
        continue;
      }
      verdict.Fail(Violation{"a checkpoint completed referencing a blob that was not durable",
                             Evidence{.checkpoint_id = c.checkpoint,
                                      .blob = b.blob,
                                      .time = c.time,
                                      .detail = Describe(b)}});
    }
  }

  // 2. No put or delete of a blob a retained checkpoint referenced when it was requested.
  for (const RetainedBlobTouch& t : rec.retained_touches) {
    verdict.Fail(Violation{t.op == sim::ServiceOp::kDelete
                               ? "the engine deleted a blob a retained checkpoint references"
                               : "the engine overwrote a blob a retained checkpoint "
                                 "references",
                           Evidence{.checkpoint_id = t.checkpoint,
                                    .blob = t.blob,
                                    .time = t.time,
                                    .detail = "requested by node " + std::to_string(t.node)}});
  }

  // 3. At the end of the run, every retained checkpoint is still whole in the blob store.
  if (run.pointer && run.view.blobs != nullptr) {
    for (const std::string& name : run.pointer->retained_metadata_blobs) {
      const uint64_t id = CheckpointOfBlob(name);
      const std::optional<CheckpointBlobs> blobs =
          MetadataAtEnd(run, name, id, "a retained checkpoint's metadata blob", verdict);
      if (!blobs) continue;
      FailWhatIsNotWhole(run, *blobs, id,
                         "a blob a retained checkpoint references is gone or altered at the end "
                         "of the run",
                         verdict);
    }
  }
  // 4. Savepoints are the user's: at the end of the run every completed savepoint is still
  // whole, unless a job resumed from it in claim mode (it may then delete it once subsumed).
  if (run.view.blobs != nullptr) {
    std::map<uint64_t, std::string> savepoints;  // id -> metadata blob
    for (const EngineEventRecord& e : rec.events) {
      if (e.event == engine::EngineEvent::kSavepointCompleted) {
        savepoints[static_cast<uint64_t>(e.args.checkpoint.value())] = e.detail;
      } else if (e.event == engine::EngineEvent::kJobResumed && e.args.claim.value() != 0) {
        savepoints.erase(static_cast<uint64_t>(e.args.checkpoint.value()));
      }
    }
    for (const auto& [id, name] : savepoints) {
      const std::optional<CheckpointBlobs> blobs =
          MetadataAtEnd(run, name, id, "the metadata blob of a savepoint no job claimed", verdict);
      if (!blobs) continue;
      FailWhatIsNotWhole(run, *blobs, id,
                         "a blob of a savepoint no job claimed is gone or altered at the end of "
                         "the run",
                         verdict);
    }
  }
  for (const std::string& note : rec.notes) verdict.Unjudge(Unjudged::kRecordingIncomplete, note);
  return verdict;
}

}  // namespace faultline::checkers
