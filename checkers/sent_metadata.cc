#include "checkers/sent_metadata.h"

#include <algorithm>
#include <string>
#include <vector>

#include "checkers/stored_message.h"
#include "engine/exec/cluster.h"
#include "engine/exec/snapshot.h"

namespace faultline::checkers {

Result<engine::proto::CheckpointMetadata> SentMetadataOf(const SentBlobs& sent, uint64_t id) {
  std::string name = engine::MetadataBlobName(id);
  const Bytes* bytes = sent.Find(name, 0, 0);  // the last version written
  if (bytes == nullptr) {
    name = engine::SavepointMetadataBlobName(id);
    bytes = sent.Find(name, 0, 0);
  }
  if (bytes == nullptr) {
    return NotFoundError("metadata of checkpoint or savepoint " + std::to_string(id) +
                         " was never written");
  }
  return ReadMetadataBlob(*bytes, name);
}

Result<SourceCut> SourceCutOf(const SentBlobs& sent, const engine::proto::CheckpointMetadata& m) {
  SourceCut cut;
  for (const engine::proto::OperatorState& op : m.operators()) {
    for (const engine::proto::SubtaskState& sub : op.subtasks()) {
      for (const engine::proto::StateHandle& h : sub.operator_state()) {
        if (!h.blob_name().ends_with("/source")) continue;
        const Bytes* blob = sent.Find(h.blob_name(), h.checksum(), h.size_bytes());
        if (blob == nullptr) return NotFoundError("blob " + h.blob_name() + " was never written");
        Result<std::vector<engine::SourceCursorState>> cursors = engine::DecodeSourceState(*blob);
        if (!cursors.ok()) return cursors.status().WithContext(h.blob_name());
        for (const engine::SourceCursorState& c : *cursors) {
          if (c.ended) cut.ended.insert(c.partition);
          uint64_t& offset = cut.offsets[c.partition];
          offset = std::max(offset, c.offset);
        }
      }
    }
  }
  return cut;
}

}  // namespace faultline::checkers
