// A checkpoint's or savepoint's metadata and the source cut it records, as the engine sent them
// (read through SentBlobs: deleted or overwritten blobs too), for the checkers that judge a run
// at a checkpoint's cut.
#pragma once

#include <cstdint>
#include <map>
#include <set>

#include "base/status.h"
#include "checkers/run_view.h"
#include "engine/proto/checkpoint.pb.h"

namespace faultline::checkers {

// The metadata of checkpoint or savepoint `id` (ids are unique across both), the last version
// written. NotFound when the engine never wrote it; DataLoss when it does not decode.
Result<engine::proto::CheckpointMetadata> SentMetadataOf(const SentBlobs& sent, uint64_t id);

// The source cursors a metadata's source handles record (every subtask's, the union state).
struct SourceCut {
  std::map<uint32_t, uint64_t> offsets;  // partition -> the first offset after the cut
  std::set<uint32_t> ended;              // partitions read to their end
};
// NotFound when a handle's blob was never sent whole; DataLoss when one does not decode.
Result<SourceCut> SourceCutOf(const SentBlobs& sent, const engine::proto::CheckpointMetadata& m);

}  // namespace faultline::checkers
