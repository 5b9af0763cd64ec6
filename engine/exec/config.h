// Engine settings that every process of a job shares.
#pragma once

#include <cstdint>

#include "base/time.h"

namespace faultline::engine {

enum class CheckpointMode : uint8_t {
  kAligned = 1,      // exactly-once, barriers aligned
  kUnaligned = 2,    // exactly-once, barriers overtake in-flight data (persisted as channel state)
  kAtLeastOnce = 3,  // no alignment; replay may duplicate
};

std::string_view CheckpointModeName(CheckpointMode mode);

struct CheckpointConfig {
  CheckpointMode mode = CheckpointMode::kAligned;
  Duration interval = Duration::Seconds(1);
  Duration timeout = Duration::Seconds(10);
  Duration min_pause = Duration::Zero();
  uint32_t max_concurrent = 1;
  uint32_t tolerable_failures = 0;
  uint32_t retained = 1;
  bool enabled = true;
};

struct EngineConfig {
  CheckpointConfig checkpoints;
  uint32_t channel_credits = 2;          // buffers a producer may have outstanding per channel
  uint32_t buffer_bytes_max = 32 * 1024; // a network buffer's capacity
  uint32_t output_queue_max = 2;         // sealed buffers per channel before back-pressure
  Duration connect_retry = Duration::Millis(20);
  Duration heartbeat_interval = Duration::Millis(500);
  Duration heartbeat_timeout = Duration::Seconds(3);
  Duration restart_delay = Duration::Millis(500);
};

}  // namespace faultline::engine
