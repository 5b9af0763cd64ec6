#include "engine/checkpoint/metadata.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>

#include "base/hash.h"
#include "engine/proto/checkpoint.pb.h"

namespace faultline::engine {
namespace {

using google::protobuf::util::MessageDifferencer;

void AddKeyedHandle(proto::SubtaskState& subtask, const std::string& name, uint32_t first,
                    uint32_t last, proto::CheckpointMetadata& metadata) {
  proto::StateHandle& handle = *subtask.add_keyed_state();
  handle.set_blob_name(name);
  handle.set_size_bytes(1000 + first);
  handle.set_checksum(0x9e3779b97f4a7c15ULL ^ first);
  handle.set_first_key_group(first);
  handle.set_last_key_group(last);
  metadata.add_referenced_blobs(name);
}

void AddChannelHandle(proto::SubtaskState& subtask, proto::ChannelStateHandle::Side side,
                      uint32_t channel, proto::CheckpointMetadata& metadata) {
  const bool input = side == proto::ChannelStateHandle::INPUT;
  proto::ChannelStateHandle& handle =
      input ? *subtask.add_input_channel_state() : *subtask.add_output_channel_state();
  const std::string name = "cp-7/window-" + std::to_string(subtask.subtask_index()) +
                           (input ? ".in-" : ".out-") + std::to_string(channel);
  handle.set_blob_name(name);
  handle.set_size_bytes(4096 + channel);
  handle.set_checksum(0xfedcba9876543210ULL - channel);
  handle.set_side(side);
  handle.set_channel_index(channel);
  handle.set_buffer_count(3);
  handle.set_data_bytes(3 * 1024);
  metadata.add_referenced_blobs(name);
}

// Checkpoint 7 of a job with a parallel source (operator state only) and a keyed window
// operator after an unaligned checkpoint (keyed state and channel state).
proto::CheckpointMetadata RealisticMetadata() {
  proto::CheckpointMetadata metadata;
  metadata.set_format_version(kMetadataFormatVersion);
  metadata.set_job_id("job-wordcount");
  metadata.set_checkpoint_id(7);
  metadata.set_mode(proto::EXACTLY_ONCE_UNALIGNED);
  metadata.set_trigger_time_ns(12'000'000'000);
  metadata.set_completion_time_ns(12'350'000'123);

  proto::OperatorState& source = *metadata.add_operators();
  source.set_operator_id("source");
  source.set_parallelism(2);
  source.set_max_parallelism(128);
  for (uint32_t i = 0; i < 2; ++i) {
    proto::SubtaskState& subtask = *source.add_subtasks();
    subtask.set_subtask_index(i);
    proto::StateHandle& offsets = *subtask.add_operator_state();
    offsets.set_blob_name("cp-7/source-" + std::to_string(i) + ".offsets");
    offsets.set_size_bytes(64);
    offsets.set_checksum(0x1234 + i);
    metadata.add_referenced_blobs(offsets.blob_name());
    subtask.set_sync_duration_ns(20'000);
    subtask.set_async_duration_ns(1'500'000);
  }

  proto::OperatorState& window = *metadata.add_operators();
  window.set_operator_id("window");
  window.set_parallelism(3);
  window.set_max_parallelism(128);
  const uint32_t ranges[3][2] = {{0, 42}, {43, 85}, {86, 127}};
  for (uint32_t i = 0; i < 3; ++i) {
    proto::SubtaskState& subtask = *window.add_subtasks();
    subtask.set_subtask_index(i);
    AddKeyedHandle(subtask, "cp-7/window-" + std::to_string(i) + ".state", ranges[i][0],
                   ranges[i][1], metadata);
    AddChannelHandle(subtask, proto::ChannelStateHandle::INPUT, 0, metadata);
    AddChannelHandle(subtask, proto::ChannelStateHandle::INPUT, 1, metadata);
    AddChannelHandle(subtask, proto::ChannelStateHandle::OUTPUT, 0, metadata);
    subtask.set_state_digest(0xabcdef0123456789ULL * (i + 1));
    subtask.set_sync_duration_ns(35'000);
    subtask.set_async_duration_ns(4'000'000 + i);
    subtask.set_processed_bytes(0);
    subtask.set_persisted_bytes(9 * 1024);
  }
  std::sort(metadata.mutable_referenced_blobs()->begin(),
            metadata.mutable_referenced_blobs()->end());
  return metadata;
}

// Appends the checksum trailer the way the encoder does, to build blobs it would refuse to.
Bytes WithTrailer(const std::string& payload) {
  Bytes out(payload.begin(), payload.end());
  const uint64_t checksum = Checksum(std::as_bytes(std::span<const uint8_t>(out)));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(checksum >> (8 * i)));
  return out;
}

void ExpectDataLossNaming(const Status& status, std::string_view name, std::string_view what) {
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << what << ": " << status.ToString();
  EXPECT_NE(status.message().find(name), std::string_view::npos) << status.ToString();
}

TEST(MetadataTest, RoundTrip) {
  const proto::CheckpointMetadata metadata = RealisticMetadata();
  const Result<Bytes> encoded = EncodeMetadata(metadata);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(EncodeMetadata(metadata)->size(), encoded->size());
  EXPECT_EQ(*EncodeMetadata(metadata), *encoded);  // deterministic bytes

  const Result<proto::CheckpointMetadata> decoded = DecodeMetadata(*encoded, "cp-7/_metadata");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(MessageDifferencer::Equals(*decoded, metadata));
  EXPECT_EQ(decoded->operators(1).subtasks(2).keyed_state(0).first_key_group(), 86u);
  EXPECT_EQ(decoded->referenced_blobs_size(), 2 + 3 * 4);
}

TEST(MetadataTest, AnyBitFlipIsDataLossNamingTheBlob) {
  const Result<Bytes> encoded = EncodeMetadata(RealisticMetadata());
  ASSERT_TRUE(encoded.ok());
  for (size_t byte = 0; byte < encoded->size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes flipped = *encoded;
      flipped[byte] = static_cast<uint8_t>(flipped[byte] ^ (1u << bit));
      const Result<proto::CheckpointMetadata> decoded = DecodeMetadata(flipped, "cp-7/_metadata");
      ASSERT_FALSE(decoded.ok()) << "byte " << byte << " bit " << bit;
      ExpectDataLossNaming(decoded.status(), "cp-7/_metadata", "bit flip");
    }
  }
}

TEST(MetadataTest, TruncatedIsDataLoss) {
  const Result<Bytes> encoded = EncodeMetadata(RealisticMetadata());
  ASSERT_TRUE(encoded.ok());
  for (size_t size = 0; size < encoded->size(); ++size) {
    const Bytes truncated(encoded->begin(), encoded->begin() + static_cast<std::ptrdiff_t>(size));
    const Result<proto::CheckpointMetadata> decoded = DecodeMetadata(truncated, "cp-7/_metadata");
    ASSERT_FALSE(decoded.ok()) << size;
    ExpectDataLossNaming(decoded.status(), "cp-7/_metadata", "truncated");
  }
}

TEST(MetadataTest, GarbageWithAValidChecksumIsDataLoss) {
  // A length-delimited field that claims more bytes than follow.
  const Result<proto::CheckpointMetadata> decoded =
      DecodeMetadata(WithTrailer(std::string("\x12\x20job", 5)), "cp-9/_metadata");
  ASSERT_FALSE(decoded.ok());
  ExpectDataLossNaming(decoded.status(), "cp-9/_metadata", "garbage");
  EXPECT_NE(decoded.status().message().find("not a valid"), std::string_view::npos);
}

TEST(MetadataTest, WrongVersion) {
  proto::CheckpointMetadata metadata = RealisticMetadata();
  metadata.set_format_version(2);
  const Result<Bytes> refused = EncodeMetadata(metadata);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("format_version 2"), std::string_view::npos)
      << refused.status().ToString();

  // A blob from a newer build (or an unset version) is refused on reading.
  for (uint32_t version : {0u, 2u}) {
    metadata.set_format_version(version);
    const Result<proto::CheckpointMetadata> decoded =
        DecodeMetadata(WithTrailer(metadata.SerializeAsString()), "cp-7/_metadata");
    ASSERT_FALSE(decoded.ok());
    ExpectDataLossNaming(decoded.status(), "cp-7/_metadata", "version");
    EXPECT_NE(decoded.status().message().find("format version " + std::to_string(version) +
                                              " is not supported"),
              std::string_view::npos)
        << decoded.status().ToString();
  }
}

TEST(MetadataTest, HaPointerRoundTripAndCorruption) {
  proto::HaPointer pointer;
  pointer.set_format_version(kHaPointerFormatVersion);
  pointer.set_job_id("job-wordcount");
  pointer.set_latest_completed_checkpoint_id(7);
  pointer.set_latest_metadata_blob("cp-7/_metadata");
  pointer.set_checkpoint_id_counter(9);
  const Result<Bytes> encoded = EncodeHaPointer(pointer);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  const Result<proto::HaPointer> decoded = DecodeHaPointer(*encoded, "jobs/job-wordcount");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(MessageDifferencer::Equals(*decoded, pointer));

  Bytes flipped = *encoded;
  flipped[3] = static_cast<uint8_t>(flipped[3] ^ 0x10);
  ExpectDataLossNaming(DecodeHaPointer(flipped, "jobs/job-wordcount").status(),
                       "jobs/job-wordcount", "bit flip");
  const Bytes truncated(encoded->begin(), encoded->end() - 1);
  ExpectDataLossNaming(DecodeHaPointer(truncated, "jobs/job-wordcount").status(),
                       "jobs/job-wordcount", "truncated");

  pointer.set_format_version(0);
  EXPECT_EQ(EncodeHaPointer(pointer).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faultline::engine
