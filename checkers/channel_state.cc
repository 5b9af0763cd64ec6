#include "checkers/channel_state.h"

#include <algorithm>

#include "checkers/sent_metadata.h"
#include "engine/exec/cluster.h"
#include "engine/exec/snapshot.h"
#include "engine/exec/wire.h"

namespace faultline::checkers {

namespace proto = engine::proto;

Result<std::vector<std::pair<uint32_t, engine::Record>>> ChannelStateRecords(
    const SentBlobs& sent, const proto::ChannelStateHandle& handle) {
  const Bytes* blob = sent.Find(handle.blob_name(), handle.checksum(), handle.size_bytes());
  if (blob == nullptr) return NotFoundError("blob " + handle.blob_name() + " was never written");
  FL_ASSIGN_OR_RETURN(auto buffers, engine::DecodeChannelState(*blob));
  std::vector<std::pair<uint32_t, engine::Record>> out;
  for (const auto& [channel, buffer] : buffers) {
    FL_ASSIGN_OR_RETURN(engine::BufferType type, engine::PeekType(buffer));
    if (type != engine::BufferType::kRecords) continue;
    FL_ASSIGN_OR_RETURN(uint32_t count, engine::CheckRecords(buffer));
    size_t at = engine::kRecordsHeaderBytes;
    for (uint32_t i = 0; i < count; ++i) {
      FL_ASSIGN_OR_RETURN(engine::Record record, engine::ReadRecord(buffer, at));
      out.emplace_back(channel, std::move(record));
    }
  }
  return out;
}

Result<RestoredChannels> RestoredChannelsOf(const SentBlobs& sent, const engine::JobSetup& setup,
                                            uint64_t checkpoint_id) {
  FL_ASSIGN_OR_RETURN(proto::CheckpointMetadata metadata, SentMetadataOf(sent, checkpoint_id));
  const std::string name = "the metadata of checkpoint " + std::to_string(checkpoint_id);
  // Task indices are those of the plan generation that took it (a rescale restores no channel
  // state: PrepareJob refuses rescaling unaligned jobs).
  if (metadata.plan_generation() >= setup.generations()) {
    return DataLossError(name + " names plan generation " +
                         std::to_string(metadata.plan_generation()) +
                         ", which the job does not have");
  }
  const engine::ExecutionPlan& plan = setup.PlanOf(metadata.plan_generation());
  RestoredChannels inputs;
  RestoredChannels outputs;
  for (const proto::OperatorState& op : metadata.operators()) {
    for (const proto::SubtaskState& sub : op.subtasks()) {
      const uint32_t task = sub.task();
      if (task >= plan.tasks.size()) {
        return DataLossError(name + " names unknown task " + std::to_string(task));
      }
      for (const proto::ChannelStateHandle& h : sub.input_channel_state()) {
        FL_ASSIGN_OR_RETURN(auto records, ChannelStateRecords(sent, h));
        for (auto& [channel, r] : records) inputs[{task, channel}].push_back(std::move(r));
      }
      const std::vector<uint32_t> consumers = plan.OutputsOf(task);
      for (const proto::ChannelStateHandle& h : sub.output_channel_state()) {
        FL_ASSIGN_OR_RETURN(auto records, ChannelStateRecords(sent, h));
        for (auto& [channel, r] : records) {
          if (channel >= consumers.size()) {
            return DataLossError(h.blob_name() + ": output channel " + std::to_string(channel));
          }
          const std::vector<uint32_t> producers = plan.InputsOf(consumers[channel]);
          const auto at = std::find(producers.begin(), producers.end(), task);
          if (at == producers.end()) return DataLossError(h.blob_name() + ": no such consumer");
          const auto input = static_cast<uint32_t>(at - producers.begin());
          outputs[{consumers[channel], input}].push_back(std::move(r));
        }
      }
    }
  }
  for (auto& [channel, records] : outputs) {
    std::vector<engine::Record>& replay = inputs[channel];
    replay.insert(replay.end(), std::make_move_iterator(records.begin()),
                  std::make_move_iterator(records.end()));
  }
  return inputs;
}

}  // namespace faultline::checkers
