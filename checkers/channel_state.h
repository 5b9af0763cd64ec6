// The records of unaligned checkpoints' channel state, as the checkers read them: each
// channel-state blob (engine/exec/snapshot.h EncodeChannelState: buffers with their channel
// index) holds network buffers; its records buffers are decoded, other buffers skipped. Read
// through SentBlobs: the blob as the engine wrote it, deleted or not.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "checkers/run_view.h"
#include "engine/api/record.h"
#include "engine/proto/checkpoint.pb.h"

namespace faultline::checkers {

// (channel index, record) of every record of one channel-state blob, in the order persisted.
// NotFound when the engine never wrote the blob; DataLoss when it does not decode.
Result<std::vector<std::pair<uint32_t, engine::Record>>> ChannelStateRecords(
    const SentBlobs& sent, const engine::proto::ChannelStateHandle& handle);

// What a restore of checkpoint `checkpoint_id` replays on each consumer's input channel before
// any new data: the consumer's own persisted input channel state for the channel, then what its
// producer persisted on its output to it. Key: (consumer task, input channel index).
using RestoredChannels = std::map<std::pair<uint32_t, uint32_t>, std::vector<engine::Record>>;
Result<RestoredChannels> RestoredChannelsOf(const SentBlobs& sent, const engine::JobSetup& setup,
                                            uint64_t checkpoint_id);

}  // namespace faultline::checkers
