// Identifiers shared by the engine's runtime interfaces and their implementations.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>

namespace faultline::runtime {

// A process (TaskManager or JobManager) in the world.
using NodeId = uint32_t;
inline constexpr NodeId kNoNode = std::numeric_limits<NodeId>::max();

// Where a listener accepts channels: a node and a port number chosen by the process.
struct Endpoint {
  NodeId node = kNoNode;
  uint32_t port = 0;
  auto operator<=>(const Endpoint&) const = default;
};

// A channel between two endpoints; unique for the whole run, never reused.
using ChannelId = uint64_t;
inline constexpr ChannelId kNoChannel = 0;

// A timer handed out by a Scheduler; unique for the whole run.
struct TimerId {
  uint64_t value = 0;
  auto operator<=>(const TimerId&) const = default;
};

}  // namespace faultline::runtime
